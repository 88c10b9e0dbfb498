"""The start of a training run: the device, the process group, the seeds and the model folder.

The model folder is locked for as long as a run trains in it (rank 0 holds an exclusive ``flock`` on
``MODEL_DIR/lock.json``; the kernel releases it when the process ends, however it ends), so a second training
into the same folder stops at once with a one-line error instead of interleaving checkpoints and log lines. A
checkpoint left half-renamed by a kill is recovered before deciding whether to resume
(:func:`vectorseq.training.state.recover_checkpoint`), and a fresh start keeps an earlier log aside instead of
deleting it.
"""
from __future__ import annotations

import fcntl
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable

import numpy as np
import torch

from ..config import Config
from ..errors import VectorseqError
from ..modelfolder import LAST_CHECKPOINT, LOCK_FILE, LOG_FILE
from ..translator import resolve_device
from .distributed import Dist, rank_device, setup_distributed
from .malloc import keep_freed_memory
from .state import recover_checkpoint


@dataclass
class Run:
    """Where and how this process trains: the config, the model folder, the device and the process group."""

    cfg: Config
    out: Path
    device: torch.device
    dist: Dist
    resuming: bool  # checkpoints/last exists and training.resume is on
    say: Callable[..., None]  # the log function on rank 0, silent elsewhere
    lock: IO | None = field(default=None, repr=False)  # rank 0's open, flock-ed MODEL_DIR/lock.json

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Give the model folder back (the kernel would also do it when the process ends)."""
        if self.lock is not None:
            self.lock.close()
            self.lock = None


def start_run(cfg: Config, output_dir: str | Path, log: Callable[..., None]) -> Run:
    """Pick the device, join the process group, seed every RNG, create the model folder."""
    tc, out = cfg.training, Path(output_dir)
    device = resolve_device(tc.device)
    dist = setup_distributed(device, tc.dist_timeout_s)
    device = rank_device(dist, device)
    if tc.threads:
        torch.set_num_threads(tc.threads)
    if device.type == "cpu":
        keep_freed_memory()  # large tensors reuse the last step's pages instead of faulting in fresh ones
    random.seed(tc.seed)
    np.random.seed(tc.seed)
    torch.manual_seed(tc.seed)
    lock = None
    if dist.main:
        out.mkdir(parents=True, exist_ok=True)
        lock = lock_folder(out)
        recover_checkpoint(out / LAST_CHECKPOINT)
    dist.barrier()  # other ranks look for the checkpoint only after rank 0 has recovered it
    resuming = tc.resume and (out / LAST_CHECKPOINT / "state.json").is_file()
    if dist.main and not resuming and (out / LOG_FILE).exists():
        # a fresh start begins a fresh log; an earlier one is kept aside, never deleted
        os.replace(out / LOG_FILE, out / (LOG_FILE + ".old"))
    return Run(cfg, out, device, dist, resuming, log if dist.main else (lambda *a, **k: None), lock)


def lock_folder(out: Path) -> IO:
    """An exclusive lock on ``out/lock.json`` for this process, or a one-line error when another process holds it."""
    f = open(out / LOCK_FILE, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise VectorseqError(f"{out}: another training is running in this folder (it holds {out / LOCK_FILE}); "
                             "wait for it to finish, or train into another --output") from None
    f.seek(0)
    f.truncate()
    f.write(json.dumps({"pid": os.getpid()}) + "\n")  # for people looking: which process holds it
    f.flush()
    return f
