"""The optimizer's parameter groups (their order is part of the checkpoint) and the learning-rate schedules."""
from __future__ import annotations

import math
from types import SimpleNamespace

from _fakes import FakeVocab
from _tiny_training import tiny_config

from vectorseq.models import build_model
from vectorseq.training import learning_rate_factor, param_groups
from vectorseq.training.optim import build_optimizer, set_learning_rate


def test_groups_hold_every_parameter_once_input_layers_first():
    cfg = tiny_config(model={"share_embeddings": False})
    model = build_model(cfg, FakeVocab(40), FakeVocab(50))
    groups = param_groups(model, cfg)
    assert [g["name"] for g in groups] == ["embeddings.src", "embeddings.tgt", "decay", "no_decay"]
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == len({id(p) for p in model.parameters()})
    assert groups[0]["weight_decay"] == 0.0 and groups[2]["weight_decay"] == cfg.training.weight_decay
    assert all(p.dim() >= 2 for p in groups[2]["params"]) and all(p.dim() < 2 for p in groups[3]["params"])


def test_schedules_warm_up_then_decay_or_stay():
    inv = SimpleNamespace(warmup_steps=4, schedule="inverse_sqrt")
    assert [learning_rate_factor(s, inv) for s in (1, 2, 4)] == [0.25, 0.5, 1.0]
    assert math.isclose(learning_rate_factor(16, inv), 0.5)
    const = SimpleNamespace(warmup_steps=4, schedule="constant")
    assert [learning_rate_factor(s, const) for s in (2, 4, 100)] == [0.5, 1.0, 1.0]
    assert learning_rate_factor(1, SimpleNamespace(warmup_steps=4, schedule="plateau")) == 1.0


def test_set_learning_rate_applies_the_plateau_factor_and_multipliers():
    cfg = tiny_config(embeddings={"src": {"lr_multiplier": 0.1}})
    model = build_model(cfg, FakeVocab(40), FakeVocab(40))
    opt = build_optimizer(model, cfg)
    factor = set_learning_rate(opt, 5, cfg.training, plateau_factor=0.5)
    assert factor == 0.5 * learning_rate_factor(5, cfg.training)
    lrs = {g["name"]: g["lr"] for g in opt.param_groups}
    assert math.isclose(lrs["decay"], cfg.training.lr * factor)
    assert math.isclose(lrs["embeddings.src"], cfg.training.lr * factor * 0.1)
