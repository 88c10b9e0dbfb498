"""The training state: the counters a run carries between updates, and its checkpoint on disk.

:class:`TrainState` holds what the loop counts (step, epoch, place in the epoch) and what validation decides
(best so far, bad validations, plateau factor). :meth:`TrainState.save` writes everything resume needs beyond
that: the weights (:func:`vectorseq.modelfolder.save_weights`, tied tables stored once), the optimizer's
tensors (safetensors) and hyper-parameters, and every RNG state (JSON; the torch RNG state is a byte tensor
stored in the safetensors file). Nothing is ever pickled or unpickled.

Writes go to a temporary name first and are renamed into place, so an interrupted save never leaves a
half-written checkpoint where a good one was; ``state.json`` is written last (itself atomically), so a
checkpoint is complete exactly when it parses. The validator logs a validation's record before it commits the
checkpoint, and resume drops log records newer than the checkpoint (:func:`vectorseq.training.validation.
resumed_log`), so every validation is logged exactly once whenever a kill comes. The format (``state.json`` with
``meta``/``rng``/``optimizer``, ``state.safetensors``, ``model.safetensors``) is unchanged from vectorseq 0.1,
so old checkpoints resume.
"""
from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import VectorseqError
from ..modelfolder import WEIGHTS_FILE, load_weights, save_weights


def _rng_state() -> tuple[dict, dict[str, torch.Tensor]]:
    np_state = np.random.get_state()
    meta = {
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    return meta, tensors


def _set_rng_state(meta: dict, tensors: dict[str, torch.Tensor]) -> None:
    v, st, g = meta["python"]
    random.setstate((v, tuple(st), g))
    n = meta["numpy"]
    np.random.set_state((n[0], np.asarray(n[1], dtype=np.uint32), n[2], n[3], n[4]))
    torch.set_rng_state(tensors["rng.torch"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
        if states and len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)


@dataclass
class TrainState:
    """Counters and validation decisions; ``asdict`` of it is the checkpoint's ``meta``."""

    step: int = 0
    epoch: int = 0
    # batches consumed in this epoch by all ranks together, so a run can resume with another number of
    # processes (or another `accumulate`) at the same place in the epoch
    batches_in_epoch: int = 0
    best: dict[str, Any] | None = None  # step, valid_loss, valid_bleu, valid_chrf of the best validation
    bad_validations: int = 0  # validations since the last improvement (early stopping, plateau)
    plateau_factor: float = 1.0  # the plateau schedule's learning-rate factor
    elapsed_s: float = 0.0  # training time before this process started (resume)
    unfrozen: list[str] = field(default_factory=list)  # kept for the checkpoint format; layers track unfreezing

    def first_update(self, per_update: int) -> int:
        """The update index this epoch continues from (``per_update`` = world x accumulate batches)."""
        return -(-self.batches_in_epoch // per_update)

    def finish_update(self, index: int, per_update: int) -> None:
        """Count update ``index`` of this epoch as done."""
        self.step += 1
        self.batches_in_epoch = (index + 1) * per_update

    def next_epoch(self) -> None:
        self.epoch += 1
        self.batches_in_epoch = 0

    def save(self, directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Write the checkpoint ``directory`` (e.g. MODEL_DIR/checkpoints/last) atomically."""
        save_training_state(directory, model, optimizer, asdict(self))

    @classmethod
    def load(cls, directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
             device: str | torch.device = "cpu") -> "TrainState":
        """Restore weights, optimizer and RNG states from a checkpoint; return its counters."""
        return cls(**load_training_state(directory, model, optimizer, device))


def save_training_state(directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                        meta: dict[str, Any]) -> None:
    """Write ``directory`` (e.g. MODEL_DIR/checkpoints/last) atomically."""
    directory = Path(directory)
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_weights(model, tmp / WEIGHTS_FILE)
    opt = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    state_meta: dict[str, dict[str, Any]] = {}
    for pid, st in opt["state"].items():
        state_meta[str(pid)] = {}
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"opt.{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                state_meta[str(pid)][k] = v
    rng_meta, rng_tensors = _rng_state()
    tensors.update(rng_tensors)
    save_file(tensors, str(tmp / "state.safetensors"))
    # state.json marks the checkpoint complete, so it appears only whole: a kill while writing it once left a
    # torn state.json in last.tmp that recovery took for a complete checkpoint
    (tmp / "state.json.tmp").write_text(json.dumps({
        "meta": meta, "rng": rng_meta, "optimizer": {"param_groups": opt["param_groups"], "scalars": state_meta},
    }))
    os.replace(tmp / "state.json.tmp", tmp / "state.json")
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def recover_checkpoint(directory: str | Path) -> str | None:
    """Finish a checkpoint swap that a kill interrupted; return what was recovered (or None).

    :func:`save_training_state` writes ``last.tmp`` completely (``state.json`` last), renames ``last`` to
    ``last.old``, ``last.tmp`` to ``last``, then deletes ``last.old``. Killed between the renames, there is no
    ``last`` but a complete ``last.tmp`` (the newest) and ``last.old``: take the newest complete one.
    """
    directory = Path(directory)
    if (directory / "state.json").is_file():
        return None
    for suffix in (".tmp", ".old"):  # newest first
        candidate = directory.with_name(directory.name + suffix)
        if _complete(candidate):
            shutil.rmtree(directory, ignore_errors=True)
            os.replace(candidate, directory)
            return candidate.name
    return None


def _complete(checkpoint: Path) -> bool:
    """Whether a checkpoint folder was written to the end: its ``state.json`` (written last) parses."""
    try:
        json.loads((checkpoint / "state.json").read_text())
    except (OSError, ValueError):  # missing, or torn by a kill of an older vectorseq that wrote it in place
        return False
    return (checkpoint / WEIGHTS_FILE).is_file() and (checkpoint / "state.safetensors").is_file()


def load_training_state(directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                        device: str | torch.device = "cpu") -> dict[str, Any]:
    """Restore weights, optimizer and RNG states; return the saved ``meta``."""
    directory = Path(directory)
    load_weights(model, directory / WEIGHTS_FILE, device)
    try:
        info = json.loads((directory / "state.json").read_text())
        tensors = load_file(str(directory / "state.safetensors"))
    except (ValueError, OSError, SafetensorError) as e:  # ValueError covers JSONDecodeError
        raise VectorseqError(f"{directory}: the training state is damaged ({type(e).__name__}); delete the "
                             "folder's checkpoints/ to start again, or set training.resume: false") from None
    state: dict[int, dict[str, Any]] = {}
    for pid, scalars in info["optimizer"]["scalars"].items():
        state[int(pid)] = dict(scalars)
    for key, t in tensors.items():
        if key.startswith("opt."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = t.to(device) if name != "step" else t
    optimizer.load_state_dict({"state": state, "param_groups": info["optimizer"]["param_groups"]})
    _set_rng_state(info["rng"], {k: v for k, v in tensors.items() if k.startswith("rng.")})
    return info["meta"]
