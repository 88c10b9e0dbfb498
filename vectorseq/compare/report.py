"""The comparison report: ``report.md``, a self-contained ``report.html``, ``figures/`` and ``significance.json``.

Sections, in order:

0. **Setup**, with the budget and model of every training-set size (:mod:`.budget_report`).
1. **Results** (and, for multilingual strategies, **Scores by direction**: :mod:`.directions_report`): mean ± std
   over seeds (sample standard deviation; a single seed shows the value alone) of test
   BLEU, chrF and lowercased BLEU, the lowest validation loss, training minutes, training tokens/s, parameters
   and the pretrained-vector token coverage, one row per strategy and training-set size; the best mean BLEU at
   each size is in bold. The ``stopped`` column says how the runs ended (converged, or capped / time marked
   † with a sentence below the table: not converged).
2. **Learning curve** (with two sizes or more): test BLEU against the number of training pairs, log x axis,
   one line per strategy, error bars = std over seeds.
3. **Training curves**: validation BLEU (greedy) against the update step, one panel per size, one line per
   strategy and seed, read from each run's ``train_log.jsonl``.
4. **Significance** (:mod:`.verdicts`): at every size, every pair of strategies is compared with a paired
   bootstrap over test sentences and seeds (:mod:`vectorseq.compare.significance`, ``report.bootstrap_samples``
   resamples, seeded) on every seed both finished; the **winner per size** (best mean BLEU, or "tied" when it
   is not significantly better than the runner-up) and a **significance matrix** per size (BLEU difference row
   - column, * = significant), also drawn as a heatmap. ``significance.json`` keeps every test.
5. **Sample translations**: ``report.sample_sentences`` test sentences spread evenly over the test set (the
   same sentences for every strategy), source, reference and each strategy's output, at the largest size,
   for the first seed with the most finished runs.
6. **Failed runs** (their error and traceback tail) and **All runs** (one row per run of the grid).

Everything is read from the output folder (:mod:`vectorseq.compare.results`), so a report can be rebuilt at
any time. ``report.html`` embeds the figures as base64 PNG and carries its own CSS: it can be mailed as one
file. ``report.md`` links ``figures/*.png`` (an SVG of every figure is written beside it).
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from ..config import config_from_dict, merge
from .figures import learning_curve_figure, significance_figure, training_curves_figure
from .budget_report import budget_blocks, falling_note, stop_cell, stop_note, stop_text
from .directions_report import direction_blocks
from .render import to_html, to_markdown
from .results import (COLUMNS, RESULTS_FILE, TEST_REF_FILE, TEST_SRC_FILE, aggregate, archive_run, fmt_number,
                      fmt_values, latest_results, read_history, read_lines, read_results, record_key, size_order,
                      size_text)
from .spec import Experiment
from .verdicts import cached_hypotheses, matrix, significance_blocks, significance_tests

SIGNIFICANCE_FILE = "significance.json"


# ------------------------------------------------------------------------------------------- sections
def _sample_blocks(exp: Experiment, records: list[dict], out: Path, cache: dict) -> list[tuple]:
    src_p, ref_p = out / TEST_SRC_FILE, out / TEST_REF_FILE
    if not (src_p.is_file() and ref_p.is_file()):
        return [("p", "The test split was not found in the output folder (test.src.txt / test.ref.txt).")]
    src, ref = read_lines(src_p), read_lines(ref_p)
    ok = [r for r in records if r.get("status") == "ok" and cached_hypotheses(out, r, cache) is not None
          and len(cached_hypotheses(out, r, cache)) == len(ref)]
    if not ok or not ref:
        return [("p", "No finished run has test translations yet.")]
    size = max({str(r["size"]) for r in ok}, key=size_order)
    at_size = [r for r in ok if str(r["size"]) == size]
    seed = max(exp.seeds, key=lambda sd: (sum(r["seed"] == sd for r in at_size), -exp.seeds.index(sd)))
    chosen = {r["strategy"]: r for r in at_size if r["seed"] == seed}
    k = min(exp.report.sample_sentences, len(ref))
    if k == 0:
        return []
    idx = sorted({round(i * (len(ref) - 1) / max(k - 1, 1)) for i in range(k)})
    blocks: list[tuple] = [("p", f"{len(idx)} test sentences spread evenly over the test set, at "
                                 f"{size_text(at_size[0])} training pairs, seed {seed}.")]
    for i in idx:
        rows = [["source", src[i]], ["reference", ref[i]]]
        rows += [[f"**{s}**", cached_hypotheses(out, chosen[s], cache)[i].strip() or "(empty)"]
                 for s in exp.strategies if s in chosen]
        blocks.append(("table", ["", f"test sentence {i + 1}"], rows, ["l", "l"]))
    return blocks


def _results_blocks(rows: list[dict], out: Path) -> list[tuple]:
    headers = ["strategy", "pairs", "runs", "stopped"] + [h for _, h, _ in COLUMNS] + ["vector coverage"]
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
        cells = [fmt_values([r.get(k) for r in rs], d) for k, _, d in COLUMNS]
        size = str(row["size"])
        if "test_bleu" in row["mean"] and row["mean"]["test_bleu"] == best.get(size) and scored[size] > 1:
            cells[0] = f"**{cells[0]}**"
        runs = f"{row['ok']}/{row['runs']}"
        table.append([row["strategy"], size_text(row), runs, stop_cell(rs)] + cells + [_coverage_cell(rs)])
    histories = {r["model_dir"]: read_history(out, r["model_dir"])  # how far the capped runs were from converging
                 for row in rows for r in row["records"] if r.get("status") == "ok" and r.get("model_dir")}
    records = [r for row in rows for r in row["records"]]
    notes = [n for n in (stop_note(records, histories), falling_note(records, histories)) if n]
    return [("table", headers, table, ["l", "r", "r", "l"] + ["r"] * len(COLUMNS) + ["l"])] + [("p", n) for n in notes]


def _coverage_cell(records: list[dict]) -> str:
    parts = []
    for side in ("src", "tgt"):
        vals = [r["coverage"][side].get("token_coverage") for r in records
                if isinstance(r.get("coverage"), dict) and isinstance(r["coverage"].get(side), dict)]
        vals = [100 * v for v in vals if isinstance(v, (int, float))]
        if vals:
            parts.append(f"{side} {fmt_values(vals, 1)}%")
    return ", ".join(parts) or "—"


def _describe_base(exp: Experiment) -> str | None:
    """Data, model and decoding of the base config (None when the base alone is not a valid config)."""
    try:
        cfg = config_from_dict(merge(exp.base, {"training": exp.budget_for(exp.sizes[0])}))
    except Exception:  # the base alone may not be a valid config; the strategies complete it
        return None
    m, d = cfg.model, cfg.data
    arch = (f"{m.type}, d_model {m.d_model}, {m.encoder_layers}+{m.decoder_layers} layers"
            + (f", {m.rnn_cell}" if m.type == "rnn" else f", ff {m.ff_size}, {m.heads} heads"))
    return (f"data: `{d.dataset}` {d.src_lang}->{d.tgt_lang}; base model: {arch}; "
            f"test decoding: beam {cfg.decoding.beam_size}")


def _devices(records: list[dict]) -> dict[str, int]:
    """Finished runs per device (records from before devices were recorded count as ``cpu``: the only device
    any run had trained on until then)."""
    counts: dict[str, int] = {}
    for r in records:
        if r.get("status") == "ok":
            d = r.get("device") or "cpu"
            counts[d] = counts.get(d, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _describe_setup(exp: Experiment, records: list[dict], n_runs: int, refs: list[str]) -> list[str]:
    base = _describe_base(exp)
    items = [base] if base else []
    budget = ", ".join(f"{k} {v}" for k, v in exp.budget.items() if v is not None and k != "per_size")
    budget = budget or "the base config's own"
    items.append(f"budget: {budget}" + ("; per size: see the table below" if exp.budget.get("per_size") else ""))
    items.append(f"strategies: {', '.join(f'`{s}`' for s in exp.strategies)}")
    if exp.seeds_per_size:
        seeds = "; ".join(f"{'all' if n is None else f'{n:,}'} pairs: seeds {', '.join(map(str, exp.seeds_at(n)))}"
                          for n in exp.sizes)
        items.append(f"training pairs and seeds: {seeds}")
    else:
        items.append("training pairs: " + ", ".join("all" if n is None else f"{n:,}" for n in exp.sizes)
                     + f"; seeds: {', '.join(map(str, exp.seeds))}")
    ok = sum(r.get("status") == "ok" for r in records)
    failed = sum(r.get("status") == "failed" for r in records)
    missing = n_runs - len(records)
    cut = len(exp.stated_runs()) - len(exp.runs())
    items.append(f"runs: {ok} finished, {failed} failed" + (f", {missing} not run yet" if missing else "")
                 + f" (of {n_runs})" + (f"; {cut} cells of the stated grid cut, each with its reason (see "
                                        "\"Cut from the grid\")" if cut else ""))
    devices = _devices(records)
    if len(devices) > 1:  # a grid split between machines: their minutes and tokens/s are not comparable
        items.append("trained on: " + ", ".join(f"{n} runs {d}" for d, n in devices.items())
                     + "; train min and tokens/s compare runs of one device only")
    sig = next((r.get("bleu_signature") for r in records if r.get("bleu_signature")), None)
    if refs:
        items.append(f"test sentences: {len(refs):,}" + (f"; BLEU signature `{sig}`" if sig else ""))
    return items


def _figure_blocks(exp: Experiment, records: list[dict], rows: list[dict], out: Path) -> list[tuple]:
    strategies = list(exp.strategies)
    blocks: list[tuple] = []
    lc = learning_curve_figure(rows, strategies, out)
    if lc:
        blocks += [("h", 2, "Learning curve"), ("img", "test BLEU against training pairs", lc)]
    ok = [r for r in records if r.get("status") == "ok"]
    histories = {r["model_dir"]: read_history(out, r["model_dir"]) for r in ok}
    tc = training_curves_figure(ok, strategies, out, histories)
    if tc:
        blocks += [("h", 2, "Training curves"), ("img", "validation BLEU against update step", tc)]
    return blocks


def _failed_blocks(records: list[dict]) -> list[tuple]:
    failed = [r for r in records if r.get("status") == "failed"]
    if not failed:
        return []
    blocks: list[tuple] = [("h", 2, "Failed runs"),
                           ("table", ["strategy", "pairs", "seed", "error"],
                            [[r["strategy"], size_text(r), str(r["seed"]), r.get("error") or ""] for r in failed],
                            ["l", "r", "r", "l"])]
    for r in failed:
        if r.get("traceback"):
            blocks += [("p", f"`{r['strategy']}`, {size_text(r)} pairs, seed {r['seed']}:"), ("pre", r["traceback"])]
    return blocks


def _cut_blocks(exp: Experiment) -> list[tuple]:
    """Every ``cut:`` entry of the experiment: which cells it took out of the stated grid, and why."""
    if not exp.cuts:
        return []
    stated = exp.stated_runs()
    rows = []
    for i, c in enumerate(exp.cuts):
        # a cell counts under the first entry that covers it, as Experiment.cut_reason decides
        mine = [r for r in stated if c.covers(r) and not any(o.covers(r) for o in exp.cuts[:i])]
        rows.append([", ".join(sorted({r.strategy for r in mine}, key=list(exp.strategies).index)),
                     ", ".join("all" if n is None else f"{n:,}" for n in dict.fromkeys(r.size for r in mine)),
                     ", ".join(map(str, sorted({r.seed for r in mine}))), str(len(mine)), c.reason])
    return [("h", 2, "Cut from the grid"),
            ("p", f"{sum(int(r[3]) for r in rows)} of the {len(stated)} cells the experiment states were not trained, "
                  "on purpose (the experiment file's `cut:`; deleting an entry puts its cells back)."),
            ("table", ["strategies", "pairs", "seeds", "cells", "reason"], rows, ["l", "l", "l", "r", "l"])]


def _all_runs_blocks(exp: Experiment, records: list[dict]) -> list[tuple]:
    strategies = list(exp.strategies)

    def order(r: dict) -> tuple:
        return (size_order(r["size"]), strategies.index(r["strategy"]) if r["strategy"] in strategies else 99,
                r["seed"])

    def num(r: dict, k: str, d: int) -> str:
        v = r.get(k)
        return fmt_number(float(v), d) if isinstance(v, (int, float)) else "—"

    table = [[r["strategy"], size_text(r), str(r["seed"]), r.get("status", "?"), num(r, "test_bleu", 1),
              num(r, "test_chrf", 1), num(r, "test_bleu_lc", 1), num(r, "valid_loss", 3), num(r, "steps", 0),
              stop_text(r), num(r, "train_minutes", 1), f"`{r.get('model_dir')}`"]
             for r in sorted(records, key=order)]
    return [("h", 2, "All runs"),
            ("table", ["strategy", "pairs", "seed", "status", "BLEU", "chrF", "BLEU-lc", "valid loss", "steps",
                       "stopped by", "train min", "model folder"], table,
             ["l", "r", "r", "l", "r", "r", "r", "r", "r", "l", "r", "l"])]


def _heatmap(exp: Experiment, records: list[dict], sig: list[dict], out: Path) -> str | None:
    """The significance matrix of every size as one heatmap figure."""
    panels = []
    for size in sorted({str(s["size"]) for s in sig}, key=size_order):
        pairs = next((s.get("train_pairs") for s in sig if str(s["size"]) == size), None)
        panels.append((f"{pairs:,} pairs" if pairs else f"size {size}", *matrix(exp, records, sig, size)))
    return significance_figure(panels, exp.report.alpha, out)


def build_blocks(exp: Experiment, records: list[dict], out: Path, n_runs: int | None = None,
                 earlier: list[dict] | None = None) -> tuple[list, list]:
    """The report as blocks (see :mod:`vectorseq.compare.render`) and the significance results (``earlier``: the
    previous report's, kept for runs whose translations are gone; see :func:`.verdicts.significance_tests`)."""
    n_runs = len(exp.runs()) if n_runs is None else n_runs
    ref_p = out / TEST_REF_FILE
    refs = read_lines(ref_p) if ref_p.is_file() else []
    rows = aggregate(records)
    cache: dict = {}  # each run's test translations, read once
    blocks: list[tuple] = [("h", 1, f"Comparison: {exp.name}")]
    if exp.description:
        blocks.append(("p", exp.description))
    blocks.append(("ul", _describe_setup(exp, records, n_runs, refs)))
    blocks += budget_blocks(exp, records)
    blocks.append(("h", 2, "Results"))
    if rows:
        blocks.append(("p", "Test scores (sacreBLEU) and training statistics, mean ± std over seeds; the best mean "
                            "BLEU at each size in bold. valid loss = lowest validation loss per token; tokens/s = "
                            "training throughput (source + target tokens); vector coverage = share of training "
                            "tokens found in the pretrained vectors."))
        blocks += _results_blocks(rows, out)
        blocks += direction_blocks(rows, exp.test_direction().name)
    else:
        blocks.append(("p", "No results yet."))
    blocks += _figure_blocks(exp, records, rows, out)
    sig = significance_tests(exp, records, out, refs, cache, earlier) if refs else []
    blocks += significance_blocks(exp, records, sig, _heatmap(exp, records, sig, out))
    blocks += [("h", 2, "Sample translations")] + _sample_blocks(exp, records, out, cache)
    blocks += _cut_blocks(exp) + _failed_blocks(records) + _all_runs_blocks(exp, records)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    blocks.append(("p", f"Generated by `vectorseq compare` on {stamp} from `{RESULTS_FILE}`."))
    return blocks, sig


def _earlier_tests(out: Path, all_records: list[dict]) -> list[dict]:
    """The tests of the report this one replaces (none when there is none or it cannot be read), less those
    that cannot be told apart from a test of other runs: a test written before tests named their runs
    (``runs_a``/``runs_b``) that covers a run trained more than once (``--again``). Matching its mean BLEU is not
    enough: a retrained strategy's three new runs can average what the old three did, to the hundredth."""
    try:
        sig = json.loads((out / SIGNIFICANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    trained = Counter(record_key(r) for r in all_records if r.get("status") == "ok")

    def ambiguous(t: dict) -> bool:
        return "runs_a" not in t and any(trained[(name, str(t.get("size")), sd)] > 1
                                         for name in (t.get("name_a"), t.get("name_b"))
                                         for sd in t.get("seed_numbers") or [])

    return [t for t in sig if isinstance(t, dict) and not ambiguous(t)] if isinstance(sig, list) else []


def write_report(exp: Experiment, out: str | Path | None = None) -> Path:
    """Write report.md, report.html, figures/ and significance.json from results.jsonl; returns report.md."""
    out = Path(out) if out is not None else exp.output_dir
    all_records = read_results(out)
    records = latest_results(all_records, exp.runs())
    for r in records:
        if r.get("status") == "ok":
            archive_run(out, r["model_dir"])  # runs finished by an older vectorseq, or merged from another machine
    blocks, sig = build_blocks(exp, records, out, earlier=_earlier_tests(out, all_records))
    (out / SIGNIFICANCE_FILE).write_text(json.dumps(sig, indent=1, ensure_ascii=False), encoding="utf-8")
    md = out / "report.md"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    (out / "report.html").write_text(to_html(blocks, f"Comparison: {exp.name}", out), encoding="utf-8")
    return md
