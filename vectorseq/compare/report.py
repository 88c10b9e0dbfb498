"""The comparison report: ``report.md``, a self-contained ``report.html``, ``figures/`` and ``significance.json``.

Sections, in order:

1. **Results**: mean ± std over seeds (sample standard deviation; a single seed shows the value alone) of test
   BLEU, chrF and lowercased BLEU, the lowest validation loss, training minutes, training tokens/s, parameters
   and the pretrained-vector token coverage, one row per strategy and training-set size; the best mean BLEU at
   each size is in bold.
2. **Learning curve** (with two sizes or more): test BLEU against the number of training pairs, log x axis,
   one line per strategy, error bars = std over seeds.
3. **Training curves**: validation BLEU (greedy) against the update step, one panel per size, one line per
   strategy and seed, read from each run's ``train_log.jsonl``.
4. **Significance**: at every size, every pair of strategies is compared with a paired bootstrap test
   (:mod:`vectorseq.compare.significance`, ``report.bootstrap_samples`` resamples, seeded) on the test
   translations of *one* seed: the first seed of the experiment's ``seeds`` for which both strategies have a
   finished run. The BLEU difference quoted is that seed's corpus BLEU difference (it can differ from the
   difference of the means in the results table). Each comparison gets a plain-language verdict.
5. **Sample translations**: ``report.sample_sentences`` test sentences spread evenly over the test set (the
   same sentences for every strategy), source, reference and each strategy's output, at the largest size,
   for the first seed with the most finished runs.
6. **Failed runs** (their error and traceback tail) and **All runs** (one row per run of the grid).

``report.html`` embeds the figures as base64 PNG and carries its own CSS: it can be mailed as one file.
``report.md`` links ``figures/*.png`` (an SVG of every figure is written beside it).
"""
from __future__ import annotations

import base64
import html
import json
import math
import re
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from .experiment import (HYPS_FILE, RESULTS_FILE, TEST_REF_FILE, TEST_SRC_FILE, Experiment, latest_results,
                         read_history, read_lines, read_results)
from .significance import paired_bootstrap, verdict

FIGURES = "figures"

#: (record key, column header, decimals) of the results table, in order
COLUMNS = [("test_bleu", "BLEU", 1), ("test_chrf", "chrF", 1), ("test_bleu_lc", "BLEU-lc", 1),
           ("valid_loss", "valid loss", 3), ("train_minutes", "train min", 1), ("tokens_per_s", "tokens/s", 0),
           ("parameters", "parameters", 0)]


# ------------------------------------------------------------------------------------------- numbers
def _size_order(size: Any) -> float:
    return math.inf if str(size) == "all" else float(size)


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def _fmt_num(x: float, digits: int) -> str:
    return f"{x:,.0f}" if digits == 0 else f"{x:.{digits}f}"


def _fmt(values: list[Any], digits: int) -> str:
    vals = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not vals:
        return "—"
    mean, std = _mean_std(vals)
    return _fmt_num(mean, digits) if std is None else f"{_fmt_num(mean, digits)} ± {_fmt_num(std, digits)}"


def _coverage_cell(records: list[dict]) -> str:
    parts = []
    for side in ("src", "tgt"):
        vals = [r["coverage"][side].get("token_coverage") for r in records
                if isinstance(r.get("coverage"), dict) and isinstance(r["coverage"].get(side), dict)]
        vals = [100 * v for v in vals if isinstance(v, (int, float))]
        if vals:
            parts.append(f"{side} {_fmt(vals, 1)}%")
    return ", ".join(parts) or "—"


def aggregate(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group run records by (strategy, size): one dict per group, sizes ascending, strategies in first-seen order.

    Each dict has ``strategy, size, train_pairs, runs, ok, records`` (the finished ones), ``mean`` and ``std``
    (dicts keyed like the records' metrics; ``std`` is None for a single seed).
    """
    records = list(records)
    order = list(OrderedDict.fromkeys(str(r.get("strategy")) for r in records))
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        groups.setdefault((str(r.get("strategy")), str(r.get("size"))), []).append(r)
    rows = []
    for (strategy, size), rs in sorted(groups.items(), key=lambda kv: (_size_order(kv[0][1]), order.index(kv[0][0]))):
        ok = [r for r in rs if r.get("status") == "ok"]
        mean, std = {}, {}
        for key, _, _ in COLUMNS:
            vals = [float(r[key]) for r in ok if isinstance(r.get(key), (int, float))]
            if vals:
                mean[key], std[key] = _mean_std(vals)
        pairs = [r.get("train_pairs") for r in rs if r.get("train_pairs")]
        rows.append({"strategy": strategy, "size": rs[0].get("size"), "train_pairs": pairs[0] if pairs else None,
                     "runs": len(rs), "ok": len(ok), "records": ok, "mean": mean, "std": std})
    return rows


def _size_text(row_or_record: dict[str, Any]) -> str:
    n = row_or_record.get("train_pairs")
    if str(row_or_record.get("size")) == "all":
        return f"all ({n:,})" if n else "all"
    return f"{int(row_or_record['size']):,}"


def _as_records(results: Any) -> list[dict[str, Any]]:
    if isinstance(results, (str, Path)):
        return latest_results(read_results(results))
    return list(results)


def summary_table(results: Any) -> str:
    """A compact Markdown table (strategy, training pairs, BLEU, chrF, BLEU-lc, runs) of comparison results.

    ``results``: run records (dicts as in ``results.jsonl``), or the path of ``results.jsonl``, of an
    experiment's output folder or of its ``report.md`` (the latest record of every run is used). Mean ± std over
    seeds; failed runs are counted in the ``runs`` column.
    """
    rows = aggregate(_as_records(results))
    if not rows:
        return "(no comparison results yet)"
    out = ["| strategy | pairs | BLEU | chrF | BLEU-lc | runs |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        rs = row["records"]
        cells = [_fmt([r.get(k) for r in rs], 1) for k in ("test_bleu", "test_chrf", "test_bleu_lc")]
        runs = f"{row['ok']}/{row['runs']}" + ("" if row["ok"] == row["runs"] else " (failed)")
        out.append(f"| {_md_cell(row['strategy'])} | {_size_text(row)} | {' | '.join(cells)} | {runs} |")
    return "\n".join(out)


# ------------------------------------------------------------------------------------------- rendering
# A report is a list of blocks rendered twice, to Markdown and to HTML:
# ("h", level, text) ("p", text) ("ul", [items]) ("table", headers, rows, align) ("img", alt, relpath) ("pre", text)
def _md_cell(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _inline_html(text: str) -> str:
    """Escape, then turn **bold** and `code` into HTML (the only inline Markdown the report uses)."""
    parts = re.split(r"(`[^`]*`)", str(text))
    out = []
    for part in parts:
        if len(part) >= 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
        else:
            out.append(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(part)))
    return "".join(out)


def _to_markdown(blocks: list[tuple]) -> str:
    lines: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            lines += ["#" * b[1] + " " + b[2], ""]
        elif kind == "p":
            lines += [b[1], ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in b[1]] + [""]
        elif kind == "table":
            headers, rows, align = b[1], b[2], b[3]
            lines.append("| " + " | ".join(_md_cell(h) for h in headers) + " |")
            lines.append("| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
        elif kind == "img":
            lines += [f"![{b[1]}]({b[2]})", ""]
        elif kind == "pre":
            lines += ["```", b[1], "```", ""]
    return "\n".join(lines)


_CSS = """body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;margin:.6em 0 1.4em;font-size:.92em}
th,td{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}th{background:#f3f3f3}td.r{text-align:right;
white-space:nowrap}tr:nth-child(even) td{background:#fafafa}img{max-width:100%;border:1px solid #eee}
code{background:#f3f3f3;padding:0 .2em}pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}
h1{border-bottom:2px solid #ddd}h2{border-bottom:1px solid #eee;margin-top:1.6em}"""


def _to_html(blocks: list[tuple], title: str, base_dir: Path) -> str:
    body: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            body.append(f"<h{b[1]}>{_inline_html(b[2])}</h{b[1]}>")
        elif kind == "p":
            body.append(f"<p>{_inline_html(b[1])}</p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in b[1]) + "</ul>")
        elif kind == "table":
            headers, rows, align = b[1], b[2], b[3]
            head = "".join(f"<th>{_inline_html(h)}</th>" for h in headers)
            trs = "".join("<tr>" + "".join(f"<td{' class=r' if a == 'r' else ''}>{_inline_html(c)}</td>"
                                           for c, a in zip(row, align)) + "</tr>" for row in rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>")
        elif kind == "img":
            data = base64.b64encode((base_dir / b[2]).read_bytes()).decode("ascii")
            body.append(f'<p><img alt="{html.escape(b[1])}" src="data:image/png;base64,{data}"></p>')
        elif kind == "pre":
            body.append(f"<pre>{html.escape(b[1])}</pre>")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


# ------------------------------------------------------------------------------------------- figures
def _colors(strategies: list[str]) -> dict[str, Any]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return {s: cmap(i % 10) for i, s in enumerate(strategies)}


def _save(fig: Any, out: Path, stem: str) -> str:
    import matplotlib.pyplot as plt

    (out / FIGURES).mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out / FIGURES / f"{stem}.png", dpi=110)
    fig.savefig(out / FIGURES / f"{stem}.svg")
    plt.close(fig)
    return f"{FIGURES}/{stem}.png"


def learning_curve_figure(rows: list[dict], strategies: list[str], out: Path) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = {r["train_pairs"] for r in rows if r["train_pairs"] and "test_bleu" in r["mean"]}
    if len(sizes) < 2:
        return None
    colors = _colors(strategies)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for s in strategies:
        pts = sorted((r["train_pairs"], r["mean"]["test_bleu"], r["std"].get("test_bleu") or 0.0)
                     for r in rows if r["strategy"] == s and "test_bleu" in r["mean"] and r["train_pairs"])
        if pts:
            ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts], label=s, marker="o",
                        capsize=3, color=colors[s])
    ax.set_xscale("log")
    ticks = sorted(sizes)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:,}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("training pairs (log scale)")
    ax.set_ylabel("test BLEU")
    ax.set_title("Learning curve (error bars: std over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out, "learning_curve")


def training_curves_figure(records: list[dict], strategies: list[str], out: Path,
                           histories: dict[str, list[dict]]) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({str(r["size"]) for r in records if histories.get(r["model_dir"])}, key=_size_order)
    if not sizes:
        return None
    colors = _colors(strategies)
    ncols = min(3, len(sizes))
    nrows = math.ceil(len(sizes) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.6 * nrows), squeeze=False)
    for ax, size in zip(axes.flat, sizes):
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
    for ax in list(axes.flat)[len(sizes):]:
        ax.axis("off")
    return _save(fig, out, "training_curves")


# ------------------------------------------------------------------------------------------- sections
def _hyps(out: Path, record: dict, cache: dict) -> list[str] | None:
    key = record["model_dir"]
    if key not in cache:
        p = out / key / HYPS_FILE
        cache[key] = read_lines(p) if p.is_file() else None
    return cache[key]


def significance_tests(exp: Experiment, records: list[dict], out: Path, refs: list[str],
                       cache: dict | None = None) -> list[dict[str, Any]]:
    """Pairwise paired bootstrap tests at every size (first common seed); one dict per comparison."""
    cache = {} if cache is None else cache
    ok = {(r["strategy"], str(r["size"]), r["seed"]): r for r in records if r.get("status") == "ok"}
    results = []
    for size in sorted({str(r["size"]) for r in records}, key=_size_order):
        # order strategies by mean BLEU at this size so that A is usually the stronger system
        means = {row["strategy"]: row["mean"].get("test_bleu", -1.0)
                 for row in aggregate(r for r in records if str(r["size"]) == size)}
        strategies = sorted((s for s in exp.strategies if s in means), key=lambda s: -means[s])
        for i, a in enumerate(strategies):
            for b in strategies[i + 1:]:
                seed = next((sd for sd in exp.seeds if (a, size, sd) in ok and (b, size, sd) in ok
                             and _hyps(out, ok[(a, size, sd)], cache) is not None
                             and _hyps(out, ok[(b, size, sd)], cache) is not None), None)
                if seed is None:
                    continue
                ra, rb = ok[(a, size, seed)], ok[(b, size, seed)]
                ha, hb = _hyps(out, ra, cache), _hyps(out, rb, cache)
                if not (len(ha) == len(hb) == len(refs)):
                    continue
                res = paired_bootstrap(ha, hb, refs, name_a=a, name_b=b, n_samples=exp.report.bootstrap_samples,
                                       seed=exp.report.seed)
                pairs = ra.get("train_pairs")
                where = f"at {pairs:,} pairs" if pairs else f"at size {size}"
                results.append({"size": ra["size"], "train_pairs": pairs, "seed": seed, **res.to_dict(),
                                "significant": res.significant(exp.report.alpha),
                                "verdict": verdict(res, where, exp.report.alpha)})
    return results


def _sample_blocks(exp: Experiment, records: list[dict], out: Path, cache: dict) -> list[tuple]:
    src_p, ref_p = out / TEST_SRC_FILE, out / TEST_REF_FILE
    if not (src_p.is_file() and ref_p.is_file()):
        return [("p", "The test split was not found in the output folder (test.src.txt / test.ref.txt).")]
    src, ref = read_lines(src_p), read_lines(ref_p)
    ok = [r for r in records if r.get("status") == "ok" and _hyps(out, r, cache) is not None
          and len(_hyps(out, r, cache)) == len(ref)]
    if not ok or not ref:
        return [("p", "No finished run has test translations yet.")]
    size = max({str(r["size"]) for r in ok}, key=_size_order)
    at_size = [r for r in ok if str(r["size"]) == size]
    seed = max(exp.seeds, key=lambda sd: (sum(r["seed"] == sd for r in at_size), -exp.seeds.index(sd)))
    chosen = {r["strategy"]: r for r in at_size if r["seed"] == seed}
    k = min(exp.report.sample_sentences, len(ref))
    if k == 0:
        return []
    idx = sorted({round(i * (len(ref) - 1) / max(k - 1, 1)) for i in range(k)})
    blocks: list[tuple] = [("p", f"{len(idx)} test sentences spread evenly over the test set, at "
                                 f"{_size_text(at_size[0])} training pairs, seed {seed}.")]
    for n, i in enumerate(idx, 1):
        rows = [["source", src[i]], ["reference", ref[i]]]
        rows += [[f"**{s}**", _hyps(out, chosen[s], cache)[i].strip() or "(empty)"]
                 for s in exp.strategies if s in chosen]
        blocks.append(("table", ["", f"test sentence {i + 1}"], rows, ["l", "l"]))
    return blocks


def _results_blocks(rows: list[dict]) -> list[tuple]:
    headers = ["strategy", "pairs", "runs"] + [h for _, h, _ in COLUMNS] + ["vector coverage"]
    best: dict[str, float] = {}
    scored: dict[str, int] = {}
    for row in rows:
        if "test_bleu" in row["mean"]:
            size = str(row["size"])
            best[size] = max(best.get(size, -1.0), row["mean"]["test_bleu"])
            scored[size] = scored.get(size, 0) + 1
    table = []
    for row in rows:
        rs = row["records"]
        cells = [_fmt([r.get(k) for r in rs], d) for k, _, d in COLUMNS]
        size = str(row["size"])
        if "test_bleu" in row["mean"] and row["mean"]["test_bleu"] == best.get(size) and scored[size] > 1:
            cells[0] = f"**{cells[0]}**"
        runs = f"{row['ok']}/{row['runs']}"
        table.append([row["strategy"], _size_text(row), runs] + cells + [_coverage_cell(rs)])
    return [("table", headers, table, ["l", "r", "r"] + ["r"] * len(COLUMNS) + ["l"])]


def _describe_setup(exp: Experiment, records: list[dict], n_runs: int, refs: list[str]) -> list[str]:
    from ..config import config_from_dict, merge
    from .experiment import BUDGET_KEYS

    items = []
    try:
        budget = {"training": {k: exp.budget.get(k) for k in BUDGET_KEYS}} if exp.budget else {}
        cfg = config_from_dict(merge(exp.base, budget))
        m, d = cfg.model, cfg.data
        arch = (f"{m.type}, d_model {m.d_model}, {m.encoder_layers}+{m.decoder_layers} layers"
                + (f", {m.rnn_cell}" if m.type == "rnn" else f", ff {m.ff_size}, {m.heads} heads"))
        items.append(f"data: `{d.dataset}` {d.src_lang}->{d.tgt_lang}; base model: {arch}; "
                     f"test decoding: beam {cfg.decoding.beam_size}")
    except Exception:  # the base alone may not be a valid config; the strategies complete it
        pass
    budget = ", ".join(f"{k} {v}" for k, v in exp.budget.items() if v is not None) or "the base config's own"
    items.append(f"budget (every run): {budget}")
    items.append(f"strategies: {', '.join(f'`{s}`' for s in exp.strategies)}")
    items.append("training pairs: " + ", ".join("all" if n is None else f"{n:,}" for n in exp.sizes)
                 + f"; seeds: {', '.join(map(str, exp.seeds))}")
    ok = sum(r.get("status") == "ok" for r in records)
    failed = sum(r.get("status") == "failed" for r in records)
    missing = n_runs - len(records)
    items.append(f"runs: {ok} finished, {failed} failed" + (f", {missing} not run yet" if missing else "")
                 + f" (of {n_runs})")
    sig = next((r.get("bleu_signature") for r in records if r.get("bleu_signature")), None)
    if refs:
        items.append(f"test sentences: {len(refs):,}" + (f"; BLEU signature `{sig}`" if sig else ""))
    return items


def build_blocks(exp: Experiment, records: list[dict], out: Path, n_runs: int | None = None) -> tuple[list, list]:
    """The report as blocks (see ``_to_markdown``) and the significance results."""
    n_runs = len(exp.runs()) if n_runs is None else n_runs
    ref_p = out / TEST_REF_FILE
    refs = read_lines(ref_p) if ref_p.is_file() else []
    strategies = list(exp.strategies)
    rows = aggregate(records)
    cache: dict = {}
    blocks: list[tuple] = [("h", 1, f"Comparison: {exp.name}")]
    if exp.description:
        blocks.append(("p", exp.description))
    blocks.append(("ul", _describe_setup(exp, records, n_runs, refs)))

    blocks.append(("h", 2, "Results"))
    if rows:
        blocks.append(("p", "Test scores (sacreBLEU) and training statistics, mean ± std over seeds; the best mean "
                            "BLEU at each size in bold. valid loss = lowest validation loss per token; tokens/s = "
                            "training throughput (source + target tokens); vector coverage = share of training "
                            "tokens found in the pretrained vectors."))
        blocks += _results_blocks(rows)
    else:
        blocks.append(("p", "No results yet."))

    lc = learning_curve_figure(rows, strategies, out)
    if lc:
        blocks += [("h", 2, "Learning curve"), ("img", "test BLEU against training pairs", lc)]
    histories = {r["model_dir"]: read_history(out / r["model_dir"])
                 for r in records if r.get("status") == "ok"}
    tc = training_curves_figure([r for r in records if r.get("status") == "ok"], strategies, out, histories)
    if tc:
        blocks += [("h", 2, "Training curves"), ("img", "validation BLEU against update step", tc)]

    sig = significance_tests(exp, records, out, refs, cache) if refs else []
    blocks.append(("h", 2, "Significance"))
    if sig:
        blocks.append(("p", f"Paired bootstrap resampling ({exp.report.bootstrap_samples} resamples of the test "
                            f"sentences, seed {exp.report.seed}) of sacreBLEU BLEU, two-sided, significance level "
                            f"{exp.report.alpha}. With several seeds, the outputs of the first seed (in the "
                            "experiment's order) that both strategies finished are tested; Δ is that seed's "
                            "BLEU difference."))
        blocks.append(("ul", [s["verdict"] for s in sig]))
        table = [[s["name_a"], s["name_b"], str(s["seed"]), f"{s['score_a']:.1f}", f"{s['score_b']:.1f}",
                  f"{s['delta']:+.1f} [{s['ci_low']:+.1f}, {s['ci_high']:+.1f}]", f"{s['p_value']:.3f}"]
                 for s in sig]
        blocks.append(("table", ["A", "B", "seed", "BLEU A", "BLEU B", "Δ (95% CI)", "p"], table,
                       ["l", "l", "r", "r", "r", "r", "r"]))
    else:
        blocks.append(("p", "Needs at least two strategies with finished runs at the same size."))

    blocks.append(("h", 2, "Sample translations"))
    blocks += _sample_blocks(exp, records, out, cache)

    failed = [r for r in records if r.get("status") == "failed"]
    if failed:
        blocks.append(("h", 2, "Failed runs"))
        blocks.append(("table", ["strategy", "pairs", "seed", "error"],
                       [[r["strategy"], _size_text(r), str(r["seed"]), r.get("error") or ""] for r in failed],
                       ["l", "r", "r", "l"]))
        for r in failed:
            if r.get("traceback"):
                blocks += [("p", f"`{r['strategy']}`, {_size_text(r)} pairs, seed {r['seed']}:"),
                           ("pre", r["traceback"])]

    blocks.append(("h", 2, "All runs"))
    table = []
    for r in sorted(records, key=lambda r: (_size_order(r["size"]), strategies.index(r["strategy"])
                                            if r["strategy"] in strategies else 99, r["seed"])):
        def num(k: str, d: int) -> str:
            v = r.get(k)
            return _fmt_num(float(v), d) if isinstance(v, (int, float)) else "—"
        table.append([r["strategy"], _size_text(r), str(r["seed"]), r.get("status", "?"), num("test_bleu", 1),
                      num("test_chrf", 1), num("test_bleu_lc", 1), num("valid_loss", 3), num("steps", 0),
                      r.get("stop_reason") or "—", num("train_minutes", 1), f"`{r.get('model_dir')}`"])
    blocks.append(("table", ["strategy", "pairs", "seed", "status", "BLEU", "chrF", "BLEU-lc", "valid loss", "steps",
                             "stopped by", "train min", "model folder"], table,
                   ["l", "r", "r", "l", "r", "r", "r", "r", "r", "l", "r", "l"]))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    blocks.append(("p", f"Generated by `vectorseq compare` on {stamp} from `{RESULTS_FILE}`."))
    return blocks, sig


def write_report(exp: Experiment, out: str | Path | None = None) -> Path:
    """Write report.md, report.html, figures/ and significance.json from results.jsonl; returns report.md."""
    out = Path(out) if out is not None else exp.output_dir
    records = latest_results(read_results(out), exp.runs())
    blocks, sig = build_blocks(exp, records, out)
    (out / "significance.json").write_text(json.dumps(sig, indent=1, ensure_ascii=False), encoding="utf-8")
    md = out / "report.md"
    md.write_text(_to_markdown(blocks), encoding="utf-8")
    (out / "report.html").write_text(_to_html(blocks, f"Comparison: {exp.name}", out), encoding="utf-8")
    return md
