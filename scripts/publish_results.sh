#!/usr/bin/env bash
# Publish a comparison: rebuild its report and copy what is committed into docs/results/NAME: report.md/.html,
# figures/, results.jsonl, significance.json, experiment.yaml and archive/ (each run's test translations and
# training log: enough to rebuild the whole report). Never the model folders (too large) or the test
# split (the dataset's own files). Usage: bash scripts/publish_results.sh NAME   (reads runs/compare/NAME)
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: bash scripts/publish_results.sh NAME, for the output folder runs/compare/NAME}
src=runs/compare/$name
dst=docs/results/$name
[ -f "$src/results.jsonl" ] || { echo "$src/results.jsonl: no results to publish; run vectorseq compare first" >&2; exit 2; }
PYTHONPATH=. .venv/bin/python -m vectorseq compare "$src" --report-only --quiet
mkdir -p "$dst"
cp "$src"/{report.md,report.html,results.jsonl,significance.json,experiment.yaml} "$dst/"
rm -rf "$dst/figures" "$dst/archive"
cp -r "$src/figures" "$dst/"
if [ -d "$src/archive" ]; then cp -r "$src/archive" "$dst/"; fi
echo "published $src -> $dst ($(grep -c . "$dst/results.jsonl") records)"
