"""Tests for vectorseq/compare/results.py: results.jsonl records and the summary table."""
from __future__ import annotations

from _compare_grid import grid  # noqa: F401  (a fixture)

from vectorseq.compare import read_results, summary_table


def test_summary_table(grid):
    table = summary_table(grid["out"])
    lines = table.splitlines()
    assert lines[0].startswith("| strategy | pairs | BLEU")
    assert len(lines) == 2 + 6
    assert any(line.startswith("| char | all (200) |") for line in lines)
    assert "0/1 (failed)" in table
    assert summary_table(read_results(grid["out"])) == table
    assert summary_table(grid["returned"]) == table  # the report.md path run_experiment returns
    assert summary_table([]) == "(no comparison results yet)"


def test_a_line_cut_short_by_an_interruption_is_skipped(tmp_path):
    (tmp_path / "results.jsonl").write_text('{"strategy": "a", "size": 10, "seed": 1, "status": "ok"}\n{"strat',
                                            encoding="utf-8")
    assert [r["strategy"] for r in read_results(tmp_path)] == ["a"]
