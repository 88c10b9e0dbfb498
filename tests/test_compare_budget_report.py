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
