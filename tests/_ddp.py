"""Shared by the DDP tests of every input and vectorizer option: train a config with torchrun (gloo, two
processes) and in one process with the same global batch (``accumulate: 2``), through the real CLI, and
compare the parameters within the README's promise (1e-5)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import load_file

#: README, "Training on several processes": parameters match after 6 updates within 1e-5
TOLERANCE = 1e-5
SGD_ENTRY = str(Path(__file__).with_name("_sgd_train.py"))


def train_cli(cfg: dict[str, Any], out: Path, nproc: int = 1, sgd: bool = False, **training: Any) -> str:
    """``vectorseq train`` of ``cfg`` (a config mapping) into ``out``, under torchrun when ``nproc > 1``;
    ``sgd``: with plain SGD instead of AdamW (tests/_sgd_train.py), which shows how large the gradients are.
    Returns what the command printed. A rank that dies of a signal prints every thread's Python stack
    (PYTHONFAULTHANDLER), so a failure says where it happened."""
    cfg = {**cfg, "training": {**cfg.get("training", {}), **training}}
    path = out.with_name(out.name + ".yaml")
    path.write_text(yaml.safe_dump(cfg))
    launch = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"] if nproc > 1 else []
    program = [SGD_ENTRY] if sgd else ["-m", "vectorseq"]
    r = subprocess.run([sys.executable, *launch, *program, "train", str(path), "--output", str(out), "--quiet"],
                       env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def last_weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(str(out / "checkpoints/last/model.safetensors"))


def two_processes_and_one(cfg: dict[str, Any], tmp_path: Path,
                          sgd: bool = False) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The last checkpoint's weights of a 2-process run and of a 1-process run with ``accumulate: 2``."""
    train_cli(cfg, tmp_path / "ddp", nproc=2, sgd=sgd, accumulate=1)
    train_cli(cfg, tmp_path / "one", nproc=1, sgd=sgd, accumulate=2)
    return last_weights(tmp_path / "ddp"), last_weights(tmp_path / "one")


def assert_same_parameters(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    """Every parameter of ``a`` equals ``b``'s within :data:`TOLERANCE` (absolute: float32 sums in another
    order)."""
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0.0, atol=TOLERANCE, msg=lambda m, k=k: f"{k}: {m}")


def largest_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
