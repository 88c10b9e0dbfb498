#!/usr/bin/env bash
# The tests: set up, then pytest. Multi30k tests read ../shared/data/multi30k or $VECTORSEQ_MULTI30K
# and are skipped when neither exists.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# random test order (pytest-randomly, a test extra): a test that depends on another's leftovers fails here;
# the seed is printed first, and `-p randomly --randomly-seed=N` repeats an order
exec .venv/bin/python -m pytest -q -p randomly "$@"
