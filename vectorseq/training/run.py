"""The start of a training run: the device, the process group, the seeds and the model folder."""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..config import Config
from ..modelfolder import LAST_CHECKPOINT, LOG_FILE
from ..translator import resolve_device
from .distributed import Dist, rank_device, setup_distributed


@dataclass
class Run:
    """Where and how this process trains: the config, the model folder, the device and the process group."""

    cfg: Config
    out: Path
    device: torch.device
    dist: Dist
    resuming: bool  # checkpoints/last exists and training.resume is on
    say: Callable[..., None]  # the log function on rank 0, silent elsewhere


def start_run(cfg: Config, output_dir: str | Path, log: Callable[..., None]) -> Run:
    """Pick the device, join the process group, seed every RNG, create the model folder."""
    tc, out = cfg.training, Path(output_dir)
    device = resolve_device(tc.device)
    dist = setup_distributed(device, tc.dist_timeout_s)
    device = rank_device(dist, device)
    if tc.threads:
        torch.set_num_threads(tc.threads)
    random.seed(tc.seed)
    np.random.seed(tc.seed)
    torch.manual_seed(tc.seed)
    resuming = tc.resume and (out / LAST_CHECKPOINT / "state.json").is_file()
    if dist.main:
        out.mkdir(parents=True, exist_ok=True)
        if not resuming and (out / LOG_FILE).exists():
            (out / LOG_FILE).unlink()  # a fresh run starts a fresh log
    return Run(cfg, out, device, dist, resuming, log if dist.main else (lambda *a, **k: None))
