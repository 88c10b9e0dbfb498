#!/usr/bin/env bash
# The main job: set up, then `vectorseq demo` on the built-in corpus (no download needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/vectorseq demo "$@"
