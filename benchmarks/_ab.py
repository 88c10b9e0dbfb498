"""A/B runs for the benchmarks: the same measurement script in child processes, alternating two checkouts.

Each child imports ``vectorseq`` from its own tree (``PYTHONPATH``), runs with ``threads`` OpenMP/MKL threads
and prints its measurement as the last line of JSON. Alternating old, new, old, new ... spreads any drift in
the machine's load over both.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run_child(tree: Path, script: Path, args: list[str], threads: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, str(script), *args], env=env, cwd=str(tree), capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def alternate(trees: dict[str, Path], script: Path, args: list[str], threads: int,
              repeats: int) -> tuple[dict[str, list[dict]], list[float]]:
    """``repeats`` rounds over ``trees`` (name -> checkout); every run's JSON by name, and the 1-minute load
    average before each run."""
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    load = []
    for _ in range(repeats):
        for name, tree in trees.items():
            load.append(round(os.getloadavg()[0], 2))
            runs[name].append(run_child(tree, script, args, threads))
    return runs, load
