"""The README's main job, in its quick form: three strategies train, are scored and compared, and the
demo prints the table and sample translations."""
from __future__ import annotations

import json

import pytest

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
