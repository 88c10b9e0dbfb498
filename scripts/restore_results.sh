#!/usr/bin/env bash
# The other way of publish_results.sh: on a machine without runs/ (a fresh clone), put a comparison's committed
# results back as its output folder, so `vectorseq compare configs/NAME.yaml` resumes with the runs finished
# elsewhere (records, archived translations and logs, the previous report's tests) instead of starting over.
# Refuses to touch an output folder that already has results. Usage: bash scripts/restore_results.sh NAME
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: bash scripts/restore_results.sh NAME, for docs/results/NAME}
src=docs/results/$name
dst=runs/compare/$name
[ -f "$src/results.jsonl" ] || { echo "$src/results.jsonl: nothing committed to restore" >&2; exit 2; }
[ -f "$dst/results.jsonl" ] && { echo "$dst/results.jsonl exists: not overwriting a folder with results" >&2; exit 2; }
mkdir -p "$dst"
cp "$src"/{results.jsonl,significance.json,experiment.yaml} "$dst/"
if [ -d "$src/archive" ]; then cp -r "$src/archive" "$dst/"; fi
echo "restored $src -> $dst ($(grep -c . "$dst/results.jsonl") records)"
