#!/usr/bin/env bash
# The tests: set up, then pytest. Multi30k tests read ../shared/data/multi30k or $VECTORSEQ_MULTI30K
# and are skipped when neither exists.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# random test order (pytest-randomly, a test extra): a test that depends on another's leftovers fails here.
# The seed is printed first (-q hides pytest-randomly's own header line); VECTORSEQ_TEST_SEED=N repeats an order.
case " $* " in *no:randomly*) exec .venv/bin/python -m pytest -q "$@" ;; esac   # the order turned off
seed="${VECTORSEQ_TEST_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
echo "test order: -p randomly --randomly-seed=$seed (repeat it with VECTORSEQ_TEST_SEED=$seed bash scripts/test.sh)"
exec .venv/bin/python -m pytest -q -p randomly --randomly-seed="$seed" "$@"
