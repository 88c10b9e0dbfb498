"""Tests for vectorseq/compare/report.py: report.md, the self-contained report.html, figures, significance."""
from __future__ import annotations

import json

from _compare_grid import grid  # noqa: F401  (a fixture)

from vectorseq.compare import experiment as experiment_mod
from vectorseq.compare import read_results


def test_report_contains_every_run_and_figures(grid):
    out = grid["out"]
    md = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    for r in read_results(out):
        assert r["model_dir"] in md and r["model_dir"] in html
    for section in ("## Results", "## Learning curve", "## Training curves", "## Significance",
                    "## Sample translations", "## Failed runs", "## All runs"):
        assert section in md
    assert "simulated failure inside training" in md
    for stem in ("learning_curve", "training_curves", "significance"):
        for ext in ("png", "svg"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 1000
    # self-contained HTML: figures embedded, nothing fetched from elsewhere
    assert html.count("data:image/png;base64,") == 3  # the learning curve, training curves, significance heatmap
    assert 'src="figures/' not in html and "<link" not in html and "http" not in html.split("<body>")[1]
    # side-by-side samples: the same test sentences with every finished strategy's output
    src = (out / "test.src.txt").read_text(encoding="utf-8").split("\n")
    assert src[0] in md and "| **word** |" in md and "| **char** |" in md
    sig = json.loads((out / "significance.json").read_text())
    assert {(s["name_a"], s["name_b"]) in {("word", "char"), ("char", "word")} for s in sig} == {True}
    assert len(sig) == 2 and all(s["verdict"] in md for s in sig)


def test_report_only_rebuilds_from_results(grid, monkeypatch):
    out = grid["out"]
    (out / "report.md").unlink()
    (out / "report.html").unlink()

    def no_training(*a, **k):
        raise AssertionError("--report-only must not train")

    monkeypatch.setattr(experiment_mod, "train", no_training)
    # from the output folder alone (it keeps experiment.yaml), through the CLI
    from vectorseq.cli import main

    assert main(["compare", str(out), "--report-only", "--quiet"]) == 0
    assert "## All runs" in (out / "report.md").read_text(encoding="utf-8")
    assert (out / "report.html").is_file()
