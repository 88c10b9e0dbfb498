"""The training state: the counters a run carries between updates, and its checkpoint on disk.

:class:`TrainState` holds what the loop counts (step, epoch, place in the epoch) and what validation decides
(best so far, bad validations, plateau factor). :meth:`TrainState.save` writes everything resume needs beyond
that: the weights (:func:`vectorseq.modelfolder.save_weights`, tied tables stored once), the optimizer's
tensors (safetensors) and hyper-parameters, and every RNG state (JSON; the torch RNG state is a byte tensor
stored in the safetensors file). Nothing is ever pickled or unpickled.

Writes go to a temporary name first and are renamed into place, so an interrupted save never leaves a
half-written checkpoint where a good one was. ``state.json`` also carries the training log's record of the
validation that wrote it, so a kill before that record reaches ``train_log.jsonl`` loses nothing
(:func:`recover_log` re-appends it when the run resumes). The format (``state.json`` with
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
from ..jsonl import write_jsonl
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

    def save(self, directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
             log_record: dict[str, Any] | None = None) -> None:
        """Write the checkpoint ``directory`` (e.g. MODEL_DIR/checkpoints/last) atomically, with the training
        log's record of the validation that saves it (see :func:`recover_log`)."""
        save_training_state(directory, model, optimizer, asdict(self), log_record)

    @classmethod
    def load(cls, directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
             device: str | torch.device = "cpu") -> "TrainState":
        """Restore weights, optimizer and RNG states from a checkpoint; return its counters."""
        return cls(**load_training_state(directory, model, optimizer, device))


def save_training_state(directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                        meta: dict[str, Any], log_record: dict[str, Any] | None = None) -> None:
    """Write ``directory`` (e.g. MODEL_DIR/checkpoints/last) atomically.

    ``log_record`` (the training log's record of this validation) is kept next to ``meta`` in ``state.json``,
    outside it, so the meta keeps vectorseq 0.1's format.
    """
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
    info = {"meta": meta, "rng": rng_meta, "optimizer": {"param_groups": opt["param_groups"], "scalars": state_meta}}
    if log_record is not None:
        info["log_record"] = log_record
    (tmp / "state.json").write_text(json.dumps(info))
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
        if (candidate / "state.json").is_file():
            shutil.rmtree(directory, ignore_errors=True)
            os.replace(candidate, directory)
            return candidate.name
    return None


def recover_log(log: str | Path, checkpoint: str | Path) -> list[dict[str, Any]]:
    """The training log's records for a run resuming from ``checkpoint``, repaired on disk first.

    The validator commits the checkpoint, which carries this validation's log record, before it appends the
    record to the log: a kill between the two leaves the log one record short, a kill during the append leaves
    a partial last line. The log is then rewritten atomically without the partial line and with the
    checkpoint's record, so every validation is logged exactly once whenever the kill came.
    """
    log = Path(log)
    records, partial = _read_log(log)
    # state.json already parsed when the checkpoint was loaded; a checkpoint older than the record has none
    record = json.loads((Path(checkpoint) / "state.json").read_text()).get("log_record")
    missing = record is not None and all(r.get("step") != record["step"] for r in records)
    if missing:
        records.append(record)
    if missing or partial:
        write_jsonl(log, records)
    return records


def _read_log(log: Path) -> tuple[list[dict[str, Any]], bool]:
    """The log's records, and whether its last line was cut short (dropped); another broken line is an error."""
    if not log.is_file():
        return [], False
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    records = []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            if i == len(lines):  # an append that a kill interrupted
                return records, True
            raise VectorseqError(f"{log}:{i}: not a JSON record, so the training log is damaged; delete that "
                                 "line (or the file) and train again") from None
    return records, False


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
