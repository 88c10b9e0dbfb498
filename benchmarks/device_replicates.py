"""The same study cells trained twice, once on the CPU and once on a GPU: how far apart are their test BLEU?

A grid split between machines (``compare --strategies/--sizes``, then ``--merge``) mixes runs of two devices. The
same config and seed on another device is not the same run (other kernels, other summation order, the CPU's
block-wise loss vs PyTorch's fused one, a different dropout generator), so the question is whether that adds a
bias or only noise of the size the seeds already bring. The GPU part of the study re-trained 14 cells the CPU had
finished (the records the merge kept from this machine); this prints each pair and their differences as JSON.

    python benchmarks/device_replicates.py docs/results/study_multi30k/results.jsonl \\
        docs/results/study_multi30k/gpu_part/results.jsonl
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _key(r: dict) -> tuple[str, str, int]:
    return (r["strategy"], str(r["size"]), int(r["seed"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("study", type=Path, help="the study's results.jsonl (the merged grid)")
    ap.add_argument("gpu", type=Path, help="the GPU machine's own results.jsonl")
    a = ap.parse_args()
    cpu = {_key(r): r for r in _records(a.study) if r["status"] == "ok" and (r.get("device") or "cpu") == "cpu"}
    pairs = []
    for r in _records(a.gpu):
        if r["status"] == "ok" and str(r.get("device", "")).startswith("cuda") and _key(r) in cpu:
            c = cpu[_key(r)]
            pairs.append({"strategy": r["strategy"], "pairs": r["size"], "seed": r["seed"],
                          "cpu_bleu": c["test_bleu"], "gpu_bleu": r["test_bleu"],
                          "cpu_steps": c["steps"], "gpu_steps": r["steps"]})
    diffs = [p["gpu_bleu"] - p["cpu_bleu"] for p in pairs]
    summary = {"cells": len(pairs)}
    if len(diffs) > 1:
        summary.update({"mean_gpu_minus_cpu": round(statistics.mean(diffs), 2),
                        "mean_abs_difference": round(statistics.mean(abs(d) for d in diffs), 2),
                        "std_of_difference": round(statistics.stdev(diffs), 2),
                        # a pair's difference has twice a single run's variance: this is one run's spread
                        "implied_std_of_one_run": round(statistics.stdev(diffs) / 2 ** 0.5, 2)})
    print(json.dumps({"summary": summary, "pairs": pairs}, indent=1))


if __name__ == "__main__":
    main()
