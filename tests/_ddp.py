"""Shared by the DDP tests of every input and vectorizer option: train a config with torchrun (gloo, two
processes) and in one process with the same global batch (``accumulate: 2``), through the real CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import load_file


def train_cli(cfg: dict[str, Any], out: Path, nproc: int = 1, **training: Any) -> None:
    """``vectorseq train`` of ``cfg`` (a config mapping) into ``out``, under torchrun when ``nproc > 1``."""
    cfg = {**cfg, "training": {**cfg.get("training", {}), **training}}
    path = out.with_name(out.name + ".yaml")
    path.write_text(yaml.safe_dump(cfg))
    launch = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"] if nproc > 1 else []
    r = subprocess.run([sys.executable, *launch, "-m", "vectorseq", "train", str(path), "--output", str(out),
                        "--quiet"], env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


def two_processes_and_one(cfg: dict[str, Any], tmp_path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """The last checkpoint's weights of a 2-process run and of a 1-process run with ``accumulate: 2``."""
    train_cli(cfg, tmp_path / "ddp", nproc=2, accumulate=1)
    train_cli(cfg, tmp_path / "one", nproc=1, accumulate=2)
    return tuple(load_file(str(tmp_path / name / "checkpoints/last/model.safetensors")) for name in ("ddp", "one"))
