"""The report's figures: the learning curve, the training curves and the significance heatmap, as PNG (embedded
in report.html) and SVG.

Each function returns the PNG's path relative to the output folder, or None when there is nothing to draw.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .results import size_order

FIGURES = "figures"


def _pyplot() -> Any:
    # matplotlib is a heavy import: loaded only when a report draws its figures, with a file-only backend
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colors(strategies: list[str]) -> dict[str, Any]:
    # tab10 up to 10 strategies; tab20 beyond, so that a 17-strategy study does not reuse a colour
    cmap = _pyplot().get_cmap("tab10" if len(strategies) <= 10 else "tab20")
    return {s: cmap(i % cmap.N) for i, s in enumerate(strategies)}


_MARKERS = "osD^v<>pP*Xh"


def _markers(strategies: list[str]) -> dict[str, str]:
    """A marker per strategy, so that lines of similar colour stay apart in print and for colour-blind readers."""
    return {s: _MARKERS[i % len(_MARKERS)] for i, s in enumerate(strategies)}


def _save(fig: Any, out: Path, stem: str, tight_layout: bool = True) -> str:
    (out / FIGURES).mkdir(parents=True, exist_ok=True)
    if tight_layout:
        fig.tight_layout()
    # a colorbar shared by several axes defeats tight_layout: such figures are cropped when saved instead
    crop = {} if tight_layout else {"bbox_inches": "tight"}
    fig.savefig(out / FIGURES / f"{stem}.png", dpi=110, **crop)
    fig.savefig(out / FIGURES / f"{stem}.svg", **crop)
    _pyplot().close(fig)
    return f"{FIGURES}/{stem}.png"


def _curve_points(rows: list[dict], strategy: str) -> list[tuple[int, float, float]]:
    """(training pairs, mean test BLEU, std over seeds) of one strategy, smallest size first."""
    return sorted((r["train_pairs"], r["mean"]["test_bleu"], r["std"].get("test_bleu") or 0.0)
                  for r in rows if r["strategy"] == strategy and "test_bleu" in r["mean"] and r["train_pairs"])


def _paired_deltas(rows: list[dict], strategy: str, ref: str) -> list[tuple[int, float]]:
    """(training pairs, mean over the seeds both finished of strategy minus ref test BLEU), smallest size first:
    paired like the report's tests, so a size where one side has more seeds does not mix seed sets."""
    by = {(r["strategy"], r["train_pairs"]): {x["seed"]: x["test_bleu"] for x in r["records"]
                                              if isinstance(x.get("test_bleu"), (int, float))}
          for r in rows if r["train_pairs"]}
    out = []
    for n in sorted({n for s, n in by if s == strategy}):
        a, b = by[(strategy, n)], by.get((ref, n), {})
        common = [sd for sd in a if sd in b]
        if common:
            out.append((n, sum(a[sd] - b[sd] for sd in common) / len(common)))
    return out


def learning_curve_figure(rows: list[dict], strategies: list[str], out: Path) -> str | None:
    """Test BLEU against training pairs (log x axis), one line per strategy, error bars = std over seeds; beside
    it, each strategy minus the first one (the reference) at every size, over the seeds both finished, where lines
    that rise together part.

    ``rows``: :func:`vectorseq.compare.results.aggregate`; needs two sizes or more. The legend lists the
    strategies best first at the largest size each reached, outside the axes so that it hides no line.
    """
    sizes = {r["train_pairs"] for r in rows if r["train_pairs"] and "test_bleu" in r["mean"]}
    if len(sizes) < 2:
        return None
    colors, markers = _colors(strategies), _markers(strategies)
    pts = {s: p for s in strategies if (p := _curve_points(rows, s))}
    ref = next(iter(pts), None)
    fig, (ax, dx) = _pyplot().subplots(1, 2, figsize=(12, 5.2), gridspec_kw={"width_ratios": [1, 1]})
    # strategies share each x: a small multiplicative offset keeps their error bars from covering each other
    shift = {s: 1.0 + 0.008 * (i - (len(pts) - 1) / 2) for i, s in enumerate(pts)}
    for s, p in pts.items():
        style = {"color": colors[s], "marker": markers[s], "markersize": 5, "linewidth": 1.3}
        ax.errorbar([n * shift[s] for n, _, _ in p], [m for _, m, _ in p], yerr=[e for _, _, e in p], capsize=2,
                    label=s, **style)
        d = _paired_deltas(rows, s, ref) if s != ref else []
        if d:
            dx.plot([n * shift[s] for n, _ in d], [v for _, v in d], **style)
    ticks = sorted(sizes)
    for a in (ax, dx):
        a.set_xscale("log")
        a.set_xticks(ticks)
        a.set_xticklabels([f"{t:,}" for t in ticks])
        a.minorticks_off()
        a.set_xlabel("training pairs (log scale)")
        a.grid(alpha=0.3)
    ax.set_ylabel("test BLEU")
    ax.set_title("Learning curve (error bars: std over seeds)")
    dx.axhline(0.0, color=colors.get(ref, "black"), linewidth=1.5)
    dx.set_ylabel(f"test BLEU minus {ref}")
    dx.set_title(f"Against {ref} (the line at 0), mean over the seeds both have")
    # legend order: best first at the largest size each strategy reached
    order = sorted(pts, key=lambda s: (-pts[s][-1][0], -pts[s][-1][1]))
    handles, labels = ax.get_legend_handles_labels()
    by_label = dict(zip(labels, handles))
    fig.subplots_adjust(left=0.06, right=0.82, wspace=0.22)
    fig.legend([by_label[s] for s in order], order, loc="center left", bbox_to_anchor=(0.83, 0.5), fontsize=8,
               title="best first at its largest size", title_fontsize=8, frameon=False)
    return _save(fig, out, "learning_curve", tight_layout=False)


def _training_panel(ax: Any, size: str, records: list[dict], histories: dict[str, list[dict]],
                    colors: dict[str, Any]) -> None:
    labelled = set()
    for r in records:
        h = histories.get(r["model_dir"])
        if str(r["size"]) != size or not h:
            continue
        s = r["strategy"]
        ax.plot([x["step"] for x in h], [x.get("valid_bleu", 0) for x in h], color=colors[s], marker=".",
                alpha=0.9 if s not in labelled else 0.5, label=None if s in labelled else s)
        labelled.add(s)
    pairs = next((r.get("train_pairs") for r in records if str(r["size"]) == size), None)
    ax.set_title(f"{size if size == 'all' else f'{int(size):,}'} training pairs"
                 + (f" ({pairs:,})" if size == "all" and pairs else ""))
    ax.set_xlabel("update")
    ax.set_ylabel("valid BLEU (greedy)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def training_curves_figure(records: list[dict], strategies: list[str], out: Path,
                           histories: dict[str, list[dict]]) -> str | None:
    """Validation BLEU against the update step: one panel per size, one line per strategy and seed.

    ``histories``: each record's ``model_dir`` -> its train_log.jsonl records.
    """
    sizes = sorted({str(r["size"]) for r in records if histories.get(r["model_dir"])}, key=size_order)
    if not sizes:
        return None
    colors = _colors(strategies)
    ncols = min(3, len(sizes))
    nrows = math.ceil(len(sizes) / ncols)
    fig, axes = _pyplot().subplots(nrows, ncols, figsize=(5 * ncols, 3.6 * nrows), squeeze=False)
    for ax, size in zip(axes.flat, sizes):
        _training_panel(ax, size, records, histories, colors)
    for ax in list(axes.flat)[len(sizes):]:
        ax.axis("off")
    return _save(fig, out, "training_curves")


def significance_figure(panels: list[tuple[str, list[str], list[list]]], alpha: float, out: Path) -> str | None:
    """The significance matrix as a heatmap, one panel per size: colour = BLEU difference row - column (red:
    the row is better), text = the difference, ``*`` where significant at ``alpha``.

    ``panels``: (title, strategies, cells) with ``cells[i][j]`` = (delta, p) or None
    (:func:`vectorseq.compare.verdicts.matrix`).
    """
    panels = [p for p in panels if len(p[1]) >= 2]
    if not panels:
        return None
    plt = _pyplot()
    n = max(len(p[1]) for p in panels)
    side = 1.2 + 0.55 * n
    # each panel's row labels need room of their own, or the next panel's long names print over its neighbour
    label = 0.065 * max(len(name) for p in panels for name in p[1])
    fig, axes = plt.subplots(1, len(panels), figsize=((side + label) * len(panels) + 1, side), squeeze=False)
    fig.subplots_adjust(wspace=label / side + 0.1)
    limit = max([abs(c[0]) for _, _, cells in panels for row in cells for c in row if c] + [0.5])
    for ax, (title, names, cells) in zip(axes.flat, panels):
        values = np.array([[c[0] if c else np.nan for c in row] for row in cells], dtype=float)
        image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for i, row in enumerate(cells):
            for j, c in enumerate(row):
                if c:
                    ax.text(j, i, f"{c[0]:+.1f}" + ("*" if c[1] < alpha and c[0] != 0 else ""), ha="center",
                            va="center", fontsize=7)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names, fontsize=7)
        ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=list(axes.flat), shrink=0.8, label="BLEU difference (row - column)")
    return _save(fig, out, "significance", tight_layout=False)
