"""Tests for vectorseq/compare/budget_report.py: how the report flags runs that did not converge."""
from __future__ import annotations

from vectorseq.compare.budget_report import capped_detail, stop_note


def _history(bleu: list[float]) -> list[dict]:
    return [{"step": 100 * (i + 1), "valid_bleu": b} for i, b in enumerate(bleu)]


def test_capped_runs_say_whether_they_were_still_climbing():
    records = [{"status": "ok", "stop_class": "capped", "model_dir": "climbing"},
               {"status": "ok", "stop_class": "capped", "model_dir": "levelled"},
               {"status": "ok", "stop_class": "capped", "model_dir": "short"},  # too few validations to say
               {"status": "ok", "stop_class": "converged", "model_dir": "done"}]
    histories = {"climbing": _history([5, 8, 10, 11, 11.5, 12, 12.2, 12.6, 13.0]),  # last 5 add 13.0 - 11 = 2.0
                 "levelled": _history([5, 8, 10, 11, 10.9, 11.0, 11.1, 10.8, 10.9]),  # add 0.1, best not last
                 "short": _history([5, 8]),
                 "done": _history([1, 2, 3, 4, 5, 6, 7])}
    text = capped_detail(records, histories)
    assert text == ("Of the 2 capped runs with a validation history, 1 had their best validation BLEU at the last "
                    "validation; their last 5 validations added 1.05 BLEU to the best before them (median; at most "
                    "2.00).")
    note = stop_note(records, histories)
    assert note.startswith("† Not converged: 3 of 4 runs hit the budget cap (capped)") and note.endswith(text)
    assert stop_note(records) == note[: -len(text) - 1]  # without histories: the count alone
    assert stop_note([records[-1]], histories) is None


def test_converged_runs_whose_validation_loss_still_fell_are_named():
    """Patience on validation BLEU fired, but the loss was at its lowest at the last validation: the report names
    the run (BLEU on a few hundred sentences is noisy); a run whose loss had turned up, and capped runs, are not."""
    from vectorseq.compare.budget_report import falling_note, still_falling

    def hist(losses):
        return [{"step": 200 * (i + 1), "valid_loss": v, "valid_bleu": 20.0} for i, v in enumerate(losses)]

    recs = [{"strategy": "glove", "size": 10000, "train_pairs": 10000, "seed": 2, "status": "ok",
             "stop_class": "converged", "model_dir": "a"},
            {"strategy": "words", "size": 10000, "train_pairs": 10000, "seed": 2, "status": "ok",
             "stop_class": "converged", "model_dir": "b"},
            {"strategy": "capped", "size": 10000, "train_pairs": 10000, "seed": 1, "status": "ok",
             "stop_class": "capped", "model_dir": "c"}]
    histories = {"a": hist([2.6, 2.5, 2.45, 2.42]), "b": hist([2.6, 2.4, 2.45, 2.5]), "c": hist([2.6, 2.5])}
    assert [r["strategy"] for r in still_falling(recs, histories)] == ["glove"]
    assert falling_note(recs, histories) == (
        "Stopped while the validation loss still fell: 1 converged run(s) had their lowest validation loss at the "
        "last validation, so their BLEU patience may have fired on noise: glove (10,000 pairs, seed 2).")
    assert falling_note(recs[1:], histories) is None


def test_the_budget_table_says_what_patience_counts_at_each_size(tmp_path):
    """Patience is a count of validations: the table gives their spacing and the metric, which differ by size."""
    from _compare_grid import experiment

    from vectorseq.compare import load_experiment
    from vectorseq.compare.budget_report import budget_blocks

    exp = load_experiment(experiment(budget={"patience": 3, "per_size": {60: {"max_steps": 6},
                                                                         "all": {"max_steps": 9, "patience": 4}}},
                                     size_overrides={"all": {"training": {"valid_every": 2,
                                                                          "early_stopping_metric": "bleu+loss"}}}),
                          output_dir=tmp_path / "x")
    exp.all_pairs = 200
    rows = budget_blocks(exp, [])[1][2]
    assert rows[0][1] == "max 6 updates, patience 3 validations (every 3 updates, on bleu)"
    assert rows[1][1] == "max 9 updates, patience 4 validations (every 2 updates, on bleu+loss)"
