"""Weights and training state on disk as safetensors + JSON. Nothing is ever pickled or unpickled.

- the weights themselves are written with :func:`vectorseq.modelfolder.save_weights` (tied and shared tables
  stored once, through ``safetensors.torch.save_model``).
- :func:`save_training_state` / :func:`load_training_state`: what resume needs beyond the weights: the
  optimizer's tensors (safetensors) and its hyper-parameters, the step/epoch counters and every RNG state
  (JSON; the torch RNG state is a byte tensor stored in the safetensors file).
Writes go to a temporary name first and are renamed into place, so an interrupted save never leaves a
half-written checkpoint where a good one was.
"""
from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .modelfolder import load_weights, save_weights


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


def save_training_state(directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                        meta: dict[str, Any]) -> None:
    """Write ``directory`` (e.g. MODEL_DIR/checkpoints/last) atomically."""
    directory = Path(directory)
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_weights(model, tmp / "model.safetensors")
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
    (tmp / "state.json").write_text(json.dumps({
        "meta": meta, "rng": rng_meta, "optimizer": {"param_groups": opt["param_groups"], "scalars": state_meta},
    }))
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def load_training_state(directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                        device: str | torch.device = "cpu") -> dict[str, Any]:
    """Restore weights, optimizer and RNG states; return the saved ``meta``."""
    directory = Path(directory)
    load_weights(model, directory / "model.safetensors", device)
    info = json.loads((directory / "state.json").read_text())
    tensors = load_file(str(directory / "state.safetensors"))
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
