"""Validation and early stopping."""
from __future__ import annotations

import pytest
from _tiny_training import quiet, tiny_config

from vectorseq.errors import VectorseqError
from vectorseq.training import train
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
