"""Tests for vectorseq/compare/figures.py: the learning curve stays readable with many strategies."""
from __future__ import annotations

from vectorseq.compare import figures
from vectorseq.compare.results import aggregate


def _records(bleu: dict[str, dict[int, list[float]]]) -> list[dict]:
    return [{"strategy": s, "size": n, "train_pairs": n, "seed": i + 1, "status": "ok", "test_bleu": b}
            for s, by_size in bleu.items() for n, scores in by_size.items() for i, b in enumerate(scores)]


def test_learning_curve_has_a_panel_against_the_first_strategy_and_a_legend_best_first(tmp_path, monkeypatch):
    bleu = {"learned": {1000: [14.0, 15.0], 3000: [20.0, 21.0]},
            "glove": {1000: [13.0, 13.0], 3000: [22.0, 22.0]},
            "bytes": {1000: [7.0, 8.0], 3000: [11.0, 11.0]},
            "cut_later": {1000: [16.0, 16.0]}}  # no 3,000-pair runs: it ranks among the strategies of its size
    saved = {}
    monkeypatch.setattr(figures, "_save", lambda fig, out, stem, **k: saved.update(fig=fig) or stem)
    assert figures.learning_curve_figure(aggregate(_records(bleu)), list(bleu), tmp_path) == "learning_curve"
    fig = saved["fig"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["glove", "learned", "bytes", "cut_later"]
    absolute, against = fig.axes
    # the second panel: each strategy minus `learned` at the sizes both have (the zero line is learned itself)
    lines = {tuple(round(y, 6) for y in line.get_ydata()) for line in against.get_lines()}
    assert {(-1.5, 1.5), (-7.0, -9.5), (1.5,), (0.0, 0.0)} <= lines
    assert "learned" in against.get_ylabel()


def test_many_strategies_get_distinct_colours_and_markers():
    names = [f"s{i}" for i in range(17)]
    colors, markers = figures._colors(names), figures._markers(names)
    assert len(set(colors.values())) == 17
    assert len({(colors[s], markers[s]) for s in names}) == 17 and markers["s0"] != markers["s1"]


def test_the_panel_against_the_reference_pairs_seeds(tmp_path, monkeypatch):
    """At a size where the reference has two seeds and another strategy one, the difference is taken on the
    common seed (as the report's paired test is), not mean minus mean over different seed sets."""
    bleu = {"learned": {1000: [14.0, 15.0], 10000: [29.5, 28.5]}, "glove": {1000: [15.0, 15.0], 10000: [31.0]}}
    saved = {}
    monkeypatch.setattr(figures, "_save", lambda fig, out, stem, **k: saved.update(fig=fig) or stem)
    figures.learning_curve_figure(aggregate(_records(bleu)), list(bleu), tmp_path)
    against = saved["fig"].axes[1]
    lines = {tuple(round(y, 6) for y in line.get_ydata()) for line in against.get_lines()}
    assert (0.5, 1.5) in lines  # 1,000: (1 + 0) / 2; 10,000: seed 1 only, 31.0 - 29.5 (not 31.0 - 29.0)
