"""Validation and early stopping."""
from __future__ import annotations

import json

import pytest
from _tiny_training import quiet, tiny_config

from vectorseq.errors import ConfigError, VectorseqError
from vectorseq.training import stop_class, train
from vectorseq.training.validation import is_better


def test_patience_stops_early(tmp_path):
    res = train(tiny_config(training={"max_steps": 1000, "valid_every": 2, "patience": 1, "lr": 0.0,
                                      "early_stopping_metric": "loss"}),
                tmp_path / "p", progress=False, evaluate_test=False, log=quiet)
    assert res.metrics["stop_reason"] == "patience=1"
    assert res.steps == 4  # the first validation sets the best; the second (lr 0: no change) is not better


def test_bleu_ties_are_broken_by_loss():
    best = {"valid_bleu": 10.0, "valid_loss": 2.0}
    assert is_better({"valid_bleu": 10.0, "valid_loss": 1.9}, best, "bleu")
    assert not is_better({"valid_bleu": 10.0, "valid_loss": 2.1}, best, "bleu")
    assert not is_better({"valid_bleu": 9.0, "valid_loss": 1.0}, best, "bleu")
    assert is_better({"valid_bleu": 9.0, "valid_loss": 1.0}, best, "loss")
    assert is_better({"valid_bleu": 0.0, "valid_loss": 9.0}, None, "bleu")


def test_a_diverged_run_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    out = tmp_path / "m"
    train(tiny_config(training={"max_steps": 6}), out, progress=False, evaluate_test=False, log=quiet)
    good = (out / "checkpoints/last/model.safetensors").read_bytes(), (out / "model.safetensors").read_bytes()
    with pytest.raises(VectorseqError, match=r"training diverged: the training loss is nan by update 12; the last "
                                             r"good checkpoint and best weights are kept"):
        train(tiny_config(training={"max_steps": 12, "lr": 1e6, "clip_norm": None}), out, progress=False,
              evaluate_test=False, log=quiet)
    assert ((out / "checkpoints/last/model.safetensors").read_bytes(), (out / "model.safetensors").read_bytes()) == good


def test_patience_records_converged_and_waits_for_min_steps(tmp_path):
    """lr 0: no validation after the first improves, so patience 1 fires at the second validation (update 4),
    recorded as `converged`; with min_steps 9 it must wait until the first validation at or after update 9."""
    over = {"max_steps": 1000, "valid_every": 2, "patience": 1, "lr": 0.0, "early_stopping_metric": "loss"}
    res = train(tiny_config(training=over), tmp_path / "a", progress=False, evaluate_test=False, log=quiet)
    assert (res.steps, res.metrics["stop_reason"], res.metrics["stop_class"]) == (4, "patience=1", "converged")
    res = train(tiny_config(training={**over, "min_steps": 9}), tmp_path / "b", progress=False, evaluate_test=False,
                log=quiet)
    assert (res.steps, res.metrics["stop_class"]) == (10, "converged")
    saved = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert saved["stop_class"] == "converged" and saved["stop_reason"] == "patience=1"


def test_a_run_that_hits_its_cap_is_recorded_as_capped(tmp_path):
    res = train(tiny_config(training={"max_steps": 4, "valid_every": 2, "patience": 50}), tmp_path / "c",
                progress=False, evaluate_test=False, log=quiet)
    assert (res.steps, res.metrics["stop_reason"], res.metrics["stop_class"]) == (4, "max_steps=4", "capped")


def test_stop_classes_and_min_steps_validation():
    assert [stop_class(r) for r in ("patience=3", "max_steps=10", "max_epochs=2", "max_minutes=1.5", None)] == \
        ["converged", "capped", "capped", "time", None]
    with pytest.raises(ConfigError, match=r"training.min_steps \(50\) is larger than training.max_steps \(10\)"):
        tiny_config(training={"max_steps": 10, "min_steps": 50})
    with pytest.raises(ConfigError, match="training.min_steps must be at least 1"):
        tiny_config(training={"min_steps": 0})
