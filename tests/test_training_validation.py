"""Validation and early stopping."""
from __future__ import annotations

import json

import pytest
import torch
import yaml
from _tiny_training import quiet, tiny_config
from safetensors.torch import load_file

import vectorseq.training.validation as validation
from vectorseq.errors import ConfigError, VectorseqError
from vectorseq.training import TrainState, stop_class, train
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


def _script_validations(monkeypatch, scores: list[tuple[float, float]]) -> None:
    """Validation as it is, except that the i-th validation's (BLEU, loss) are ``scores[i]``: the stopping
    rules then meet a known sequence instead of whatever a tiny model happens to reach."""
    real, done = validation.validate, []

    def scripted(*args, **kwargs):
        result = real(*args, **kwargs)
        result["valid_bleu"], result["valid_loss"] = scores[len(done)]
        done.append(1)
        return result

    monkeypatch.setattr(validation, "validate", scripted)


SCORES = [(5.0, 3.0), (7.0, 2.9), (6.0, 2.5), (6.0, 2.0), (9.0, 1.0)]  # (BLEU, loss) at updates 2, 4, 6, ...


@pytest.mark.parametrize("metric, steps, best", [("bleu", 8, 4), ("loss", 10, 10)])
def test_early_stopping_follows_the_chosen_metric(tmp_path, monkeypatch, metric, steps, best):
    """BLEU peaks at update 4 and stays lower for 2 validations: patience 2 stops at update 8 with the best at
    update 4. The loss improves at every validation: the same run stops only at max_steps."""
    _script_validations(monkeypatch, SCORES)
    res = train(tiny_config(training={"max_steps": 10, "valid_every": 2, "patience": 2,
                                      "early_stopping_metric": metric}),
                tmp_path / metric, progress=False, evaluate_test=False, log=quiet)
    assert res.steps == steps and res.best["step"] == best
    assert res.metrics["stop_reason"] == ("patience=2" if metric == "bleu" else "max_steps=10")


def test_the_plateau_schedule_halves_the_learning_rate_after_each_bad_stretch(tmp_path, monkeypatch):
    # losses 3.0, 3.1, 3.2 (two bad validations), 2.0 (better), 2.5 (bad): with plateau_patience 1 the factor
    # halves after updates 4, 6 and 10; each record logs the rate its updates used
    _script_validations(monkeypatch, [(0.0, 3.0), (0.0, 3.1), (0.0, 3.2), (0.0, 2.0), (0.0, 2.5)])
    lr = 0.004
    out = tmp_path / "p"
    res = train(tiny_config(training={"max_steps": 10, "valid_every": 2, "schedule": "plateau", "lr": lr,
                                      "plateau_patience": 1, "early_stopping_metric": "loss"}),
                out, progress=False, evaluate_test=False, log=quiet)
    assert [h["lr"] for h in res.history] == [lr, lr, lr / 2, lr / 4, lr / 4]
    meta = json.loads((out / "checkpoints/last/state.json").read_text())["meta"]
    assert meta["plateau_factor"] == 0.125 and meta["bad_validations"] == 1 and res.best["step"] == 8


def test_model_safetensors_holds_the_best_validations_weights(tmp_path, monkeypatch):
    """The best validation is the second of four (BLEU 7 at update 4): model.safetensors must be the weights
    validated there, not the last ones."""
    _script_validations(monkeypatch, SCORES)
    out = tmp_path / "b"
    validated = {}
    real_save = TrainState.save

    def keep_weights(self, directory, model, optimizer, *args, **kwargs):
        real_save(self, directory, model, optimizer, *args, **kwargs)
        validated[self.step] = load_file(str(directory / "model.safetensors"))  # the weights just validated

    monkeypatch.setattr(TrainState, "save", keep_weights)
    res = train(tiny_config(training={"max_steps": 8, "valid_every": 2, "early_stopping_metric": "bleu"}), out,
                progress=False, evaluate_test=False, log=quiet)
    assert sorted(validated) == [2, 4, 6, 8] and res.best["step"] == 4
    best = load_file(str(out / "model.safetensors"))
    assert best.keys() == validated[4].keys()
    assert all(torch.equal(best[k], validated[4][k]) for k in best)
    assert not all(torch.equal(best[k], validated[8][k]) for k in best)  # the weights did move after update 4


NOISY = [(5.0, 3.0), (7.0, 2.9), (6.0, 2.5), (6.0, 2.6), (6.0, 2.7), (6.0, 2.8), (6.0, 2.9)]  # updates 2, 4, ...


@pytest.mark.parametrize("metric, steps", [("bleu", 8), ("bleu+loss", 10)])
def test_bleu_plus_loss_waits_while_the_loss_still_falls_and_keeps_the_best_bleu(tmp_path, monkeypatch, metric,
                                                                               steps):
    """BLEU peaks at update 4; the loss falls until update 6. Patience 2 by BLEU stops at update 8; bleu+loss
    counts update 6 as progress (lowest loss) and stops at 10. Both keep the BLEU-best weights of update 4."""
    _script_validations(monkeypatch, NOISY)
    res = train(tiny_config(training={"max_steps": 14, "valid_every": 2, "patience": 2,
                                      "early_stopping_metric": metric}),
                tmp_path / "m", progress=False, evaluate_test=False, log=quiet)
    assert (res.steps, res.best["step"], res.metrics["stop_reason"]) == (steps, 4, "patience=2")


def _weights(path) -> dict:
    return load_file(str(path))


def test_a_finished_run_resumed_under_a_more_patient_rule_equals_training_under_it(tmp_path, monkeypatch):
    """A run stopped by BLEU patience, resumed with bleu+loss, continues from its checkpoint (its patience
    recounted from the log) and ends exactly where a fresh bleu+loss run ends: same steps, best, log, weights.
    Its config.yaml then records the rule it continued under."""
    over = {"max_steps": 14, "valid_every": 2, "patience": 2}
    _script_validations(monkeypatch, NOISY)  # one script for both calls: the resumed run continues it
    out = tmp_path / "extended"
    first = train(tiny_config(training={**over, "early_stopping_metric": "bleu"}), out, progress=False,
                  evaluate_test=False, log=quiet)
    assert first.steps == 8
    extended = train(tiny_config(training={**over, "early_stopping_metric": "bleu+loss"}), out, progress=False,
                     evaluate_test=False, log=quiet)
    monkeypatch.undo()
    _script_validations(monkeypatch, NOISY)
    fresh = train(tiny_config(training={**over, "early_stopping_metric": "bleu+loss"}), tmp_path / "fresh",
                  progress=False, evaluate_test=False, log=quiet)
    assert (extended.steps, extended.best["step"]) == (fresh.steps, fresh.best["step"]) == (10, 4)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    fresh_log = [json.loads(line) for line in (tmp_path / "fresh/train_log.jsonl").read_text().splitlines()]
    assert [(r["step"], r["train_loss"]) for r in log] == [(r["step"], r["train_loss"]) for r in fresh_log]
    for name in ("model.safetensors", "checkpoints/last/model.safetensors"):
        a, b = _weights(out / name), _weights(tmp_path / "fresh" / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert yaml.safe_load((out / "config.yaml").read_text())["training"]["early_stopping_metric"] == "bleu+loss"


def test_resuming_under_a_metric_that_picks_another_best_is_refused(tmp_path, monkeypatch):
    """Chosen by loss, the best is update 8; by BLEU it would be update 4, whose weights are gone: refused."""
    _script_validations(monkeypatch, SCORES)
    out = tmp_path / "m"
    train(tiny_config(training={"max_steps": 8, "valid_every": 2, "early_stopping_metric": "loss"}), out,
          progress=False, evaluate_test=False, log=quiet)
    with pytest.raises(VectorseqError, match=r"best weights were kept at update 8, but training.early_stopping_metric="
                                             r"'bleu' picks update 4 of its training log"):
        train(tiny_config(training={"max_steps": 10, "valid_every": 2, "early_stopping_metric": "bleu"}), out,
              progress=False, evaluate_test=False, log=quiet)


def test_replay_patience_counts_like_training():
    log = [{"step": 2 * (i + 1), "valid_bleu": b, "valid_loss": loss, "valid_chrf": 0.0}
           for i, (b, loss) in enumerate(NOISY)]
    assert validation.replay_patience(log, "bleu") == ({"step": 4, "valid_loss": 2.9, "valid_bleu": 7.0,
                                                         "valid_chrf": 0.0}, 5)
    assert validation.replay_patience(log, "bleu+loss")[1] == 4
    assert validation.replay_patience(log, "loss")[0]["step"] == 6
