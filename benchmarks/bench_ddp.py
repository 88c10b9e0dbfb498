"""Training throughput with 1 process vs N torchrun/DDP processes (gloo on CPU, NCCL on GPU).

Trains the same config for the same number of updates with the same global batch: one process with
``accumulate = N`` (and N threads), then N processes with ``accumulate = 1`` (one thread each, so both use
the same cores), alternately, and prints one JSON line per run plus the ratio. Tokens/s are the trainer's own
(source + target real tokens per second of training, validation excluded, summed over ranks).

    python benchmarks/bench_ddp.py [--config configs/demo.yaml] [--nproc 2] [--steps 60] [--repeats 2]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(nproc: int, config: str, steps: int, out: Path) -> dict:
    sets = [f"training.max_steps={steps}", f"training.valid_every={steps}", "training.patience=null",
            "training.max_minutes=null", "training.valid_max_sentences=50"]
    if nproc == 1:
        cmd = [sys.executable, "-m", "vectorseq", "train", config, "--output", str(out), "--quiet",
               "--set", f"training.accumulate={args.nproc}", "--set", f"training.threads={args.nproc}"]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "vectorseq", "train", config, "--output", str(out), "--quiet",
               "--set", "training.threads=1"]
    for s in sets:
        cmd += ["--set", s]
    env = {**os.environ, "OMP_NUM_THREADS": "1" if nproc > 1 else str(args.nproc)}
    t0 = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.time() - t0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    return {"processes": nproc, "steps": steps, "tokens_per_s": log[-1]["tokens_per_s"],
            "train_loss": log[-1]["train_loss"], "wall_s": round(wall, 1)}


def main() -> None:
    results: dict[int, list[dict]] = {1: [], args.nproc: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for n in (1, args.nproc):
                res = run(n, args.config, args.steps, Path(tmp) / f"n{n}_r{r}")
                results[n].append(res)
                print(json.dumps(res), flush=True)
    med = {n: sorted(x["tokens_per_s"] for x in v)[len(v) // 2] for n, v in results.items()}
    print(json.dumps({"config": args.config, "machine": platform.processor() or platform.machine(),
                      "cores": os.cpu_count(), "median_tokens_per_s": med,
                      "ratio": round(med[args.nproc] / med[1], 2)}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/demo.yaml")
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    main()
