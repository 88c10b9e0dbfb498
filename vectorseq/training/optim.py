"""The optimizer and the learning-rate schedules.

AdamW over parameter groups: each input layer's own groups first (an embedding table: no weight decay, its
own learning-rate multiplier), then the model's matrices (weight decay) and its biases and norms (none). The
group order is part of the checkpoint (the optimizer state is stored per parameter index), so it must not
change. The learning rate is ``lr x factor x lr_mult``: the factor is warmup then 1/sqrt decay
(``inverse_sqrt``), warmup then constant (``constant``), or halved after ``plateau_patience`` validations
without improvement (``plateau``, kept in :class:`~vectorseq.training.state.TrainState`).
"""
from __future__ import annotations

import math
from typing import Any

import torch

from ..config import Config


def learning_rate_factor(step: int, cfg: Any) -> float:
    """Warmup then 1/sqrt decay (inverse_sqrt), or warmup then constant; step counts from 1."""
    w = max(1, cfg.warmup_steps)
    if cfg.schedule == "inverse_sqrt":
        return min(step / w, math.sqrt(w / max(step, 1)))
    if cfg.schedule == "constant":
        return min(1.0, step / w)
    return 1.0  # plateau: the factor lives in the training state


def param_groups(model: torch.nn.Module, cfg: Config) -> list[dict[str, Any]]:
    """AdamW groups: embedding tables (own lr multiplier, no decay), matrices (decay), biases/norms (no decay)."""
    seen: set[int] = set()
    groups: list[dict[str, Any]] = []
    for name, layer in (("src", model.src_input), ("tgt", model.tgt_input)):
        for g in layer.parameter_groups():
            if id(g["params"][0]) not in seen:  # a shared input layer's groups are taken once
                seen.update(id(p) for p in g["params"])
                # a layer may name extra groups ("idf"): embeddings.src.idf
                groups.append({**g, "name": f"embeddings.{name}" + (f".{g['name']}" if "name" in g else "")})
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.dim() >= 2 else no_decay).append(p)
    groups.append({"params": decay, "weight_decay": cfg.training.weight_decay, "lr_mult": 1.0, "name": "decay"})
    groups.append({"params": no_decay, "weight_decay": 0.0, "lr_mult": 1.0, "name": "no_decay"})
    return [g for g in groups if g["params"]]


def build_optimizer(model: torch.nn.Module, cfg: Config) -> torch.optim.Optimizer:
    tc = cfg.training
    return torch.optim.AdamW(param_groups(model, cfg), lr=tc.lr, betas=tuple(tc.betas), eps=1e-9)


def set_learning_rate(optimizer: torch.optim.Optimizer, step: int, tc: Any, plateau_factor: float) -> float:
    """Set every group's learning rate for update ``step``; return the schedule's factor."""
    factor = learning_rate_factor(step, tc) * plateau_factor
    for g in optimizer.param_groups:
        g["lr"] = tc.lr * factor * g["lr_mult"]
    return factor
