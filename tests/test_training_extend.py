"""Which stopping-rule changes let a finished run continue (vectorseq/training/extend.py)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from vectorseq.training.extend import only_stopping_differs, relaxes

OLD = {"max_steps": 100, "max_epochs": None, "max_minutes": None, "min_steps": 10, "patience": 5,
       "early_stopping_metric": "bleu", "schedule": "inverse_sqrt"}


def _rule(**changes) -> SimpleNamespace:
    return SimpleNamespace(**{**OLD, **changes})


@pytest.mark.parametrize("changes", [{}, {"max_steps": 200}, {"max_steps": None}, {"patience": 10},
                                     {"patience": None}, {"min_steps": 50}, {"early_stopping_metric": "bleu+loss"}])
def test_more_patient_rules_relax(changes):
    assert relaxes(_rule(), _rule(**changes))


@pytest.mark.parametrize("changes", [{"max_steps": 50}, {"patience": 3}, {"min_steps": 5},
                                     {"early_stopping_metric": "loss"}, {"max_epochs": 3},
                                     {"max_minutes": 30.0},
                                     {"early_stopping_metric": "bleu+loss", "schedule": "plateau"}])
def test_rules_that_could_stop_sooner_or_pick_another_best_do_not(changes):
    old = _rule(schedule=changes.get("schedule", "inverse_sqrt"))
    assert not relaxes(old, _rule(**changes))


@pytest.mark.parametrize("changes, trained, ok", [
    ({"max_steps": None, "max_epochs": 50}, {"step": 100, "epoch": 35}, True),   # an epoch cap not yet reached
    ({"max_steps": None, "max_epochs": 35}, {"step": 100, "epoch": 35}, False),  # reached: a fresh run stops there
    ({"max_steps": None, "max_epochs": 50}, None, False),                        # no checkpoint to check against
    ({"max_steps": 80}, {"step": 60, "epoch": 3}, True),                         # a lower cap the run is short of
    ({"max_steps": 80}, {"step": 100, "epoch": 3}, False),
    ({"max_minutes": 30.0}, {"step": 1, "epoch": 0}, False),                     # a clock is not in a checkpoint
])
def test_a_new_cap_relaxes_only_while_the_run_is_short_of_it(changes, trained, ok):
    assert relaxes(_rule(), _rule(**changes), trained) is ok


def test_patience_where_there_was_none_and_bleu_plus_loss_back_to_bleu_do_not_relax():
    assert not relaxes(_rule(patience=None), _rule(patience=50))
    assert not relaxes(_rule(early_stopping_metric="bleu+loss"), _rule())


def test_only_stopping_keys_may_differ():
    cfg = {"model": {"d_model": 32}, "training": {**OLD, "lr": 0.001}}
    assert only_stopping_differs(cfg, {**cfg, "training": {**cfg["training"], "patience": 9, "max_steps": 500}})
    assert not only_stopping_differs(cfg, {**cfg, "training": {**cfg["training"], "lr": 0.002}})
    assert not only_stopping_differs(cfg, {**cfg, "model": {"d_model": 64}})
