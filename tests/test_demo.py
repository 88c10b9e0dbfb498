"""The README's main job, in its quick form: three strategies train, are scored and compared, and the
demo prints the table and sample translations."""
from __future__ import annotations

import json

import pytest

from _readme import readme_table_rows

from vectorseq.demo import STRATEGIES, run_demo


@pytest.mark.slow
def test_quick_demo_runs_the_whole_pipeline(tmp_path, capsys):
    report = run_demo(output_dir=tmp_path / "demo", quick=True, progress=False)
    out = capsys.readouterr().out
    assert report.name == "report.md" and report.is_file()
    assert (report.parent / "report.html").is_file()
    rows = [json.loads(line) for line in (report.parent / "results.jsonl").read_text().splitlines()]
    assert sorted(r["strategy"] for r in rows) == sorted(STRATEGIES)
    assert all(r["status"] == "ok" for r in rows)
    for name in STRATEGIES:
        assert f"| {name} |" in out
    assert "sample test translations" in out and "vectorseq translate" in out
    for r in rows:
        assert (report.parent / r["model_dir"] / "model.safetensors").is_file()


@pytest.mark.slow
def test_the_full_demo_prints_the_readme_table(tmp_path, capsys):
    """The README's demo numbers are what `bash scripts/demo.sh` prints (a budget of updates, one thread)."""
    rows = readme_table_rows("demo-table")
    assert len(rows) == 1 + len(STRATEGIES)  # the header and one row per strategy
    run_demo(output_dir=tmp_path / "demo", progress=False)
    printed = capsys.readouterr().out.splitlines()
    missing = [r for r in rows if r not in printed]
    assert not missing, f"README rows not printed by the demo: {missing}"
