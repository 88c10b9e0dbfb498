"""The report's verdicts: paired tests of every pair of strategies at every size over all their seeds, the
winner of each size, and the compact significance matrix (a table here, a heatmap in :mod:`.figures`).

A pair of strategies is tested on the seeds (in the experiment's order) at which both have finished runs with
test translations, a seed of one paired with the same seed number of the other (they trained on the same
subset): :func:`vectorseq.compare.significance.seeded_bootstrap`. Every test of a report shares one set of
sentence resamples. ``significance.json`` keeps every test; the report shows the winner per size and the
matrix instead of one line per pair.
"""
from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path
from typing import Any

from .results import aggregate, read_hypotheses, size_order
from .significance import PairedResult, Resampler, seeded_bootstrap, verdict, winner
from .spec import Experiment


def cached_hypotheses(out: Path, record: dict, cache: dict) -> list[str] | None:
    """A finished run's test translations, read once per report."""
    key = record["model_dir"]
    if key not in cache:
        cache[key] = read_hypotheses(out, key)
    return cache[key]


def ranked_strategies(exp: Experiment, records: list[dict], size: str) -> list[str]:
    """The strategies with a test BLEU at ``size``, best mean first (ties in the experiment's order)."""
    means = {row["strategy"]: row["mean"]["test_bleu"]
             for row in aggregate(r for r in records if str(r["size"]) == size) if "test_bleu" in row["mean"]}
    return sorted((s for s in exp.strategies if s in means), key=lambda s: -means[s])


def _common_seeds(exp: Experiment, ok: dict, a: str, b: str, size: str, out: Path, cache: dict,
                  n_refs: int) -> list[int]:
    """The seeds at which both strategies have test translations of the whole test set."""
    def has(s: str, sd: int) -> bool:
        r = ok.get((s, size, sd))
        h = cached_hypotheses(out, r, cache) if r else None
        return h is not None and len(h) == n_refs

    return [sd for sd in exp.seeds if has(a, sd) and has(b, sd)]


def significance_tests(exp: Experiment, records: list[dict], out: Path, refs: list[str],
                       cache: dict | None = None, earlier: list[dict] | None = None) -> list[dict[str, Any]]:
    """Every pair of strategies at every size, over their common seeds; one dict per test (A = higher mean).

    ``earlier``: the tests of the previous report (its significance.json). A pair whose finished seeds are not
    all testable here (their runs' translations were lost with a machine, not archived) keeps its earlier test
    on exactly those seeds, marked ``carried``, rather than a weaker test on fewer seeds or none."""
    cache = {} if cache is None else cache
    ok = {(r["strategy"], str(r["size"]), r["seed"]): r for r in records if r.get("status") == "ok"}
    if not refs:
        return []
    resampler = Resampler(refs, exp.report.bootstrap_samples, exp.report.seed)
    results = []
    for size in sorted({str(r["size"]) for r in records}, key=size_order):
        strategies = ranked_strategies(exp, records, size)
        for i, a in enumerate(strategies):
            for b in strategies[i + 1:]:
                seeds = _common_seeds(exp, ok, a, b, size, out, cache, len(refs))
                finished = [sd for sd in exp.seeds if (a, size, sd) in ok and (b, size, sd) in ok]
                pairs = ok[(a, size, finished[0])].get("train_pairs") if finished else None
                where = f"at {pairs:,} pairs" if pairs else f"at size {size}"
                means = {s: statistics.fmean(ok[(s, size, sd)]["test_bleu"] for sd in finished) for s in (a, b)} \
                    if finished else {}
                runs = {s: [run_fingerprint(ok[(s, size, sd)]) for sd in finished] for s in (a, b)}
                kept = _earlier_test(earlier or [], size, (a, b), finished, where, exp.report.alpha, means, runs)
                if seeds != finished and kept:
                    results.append(kept)
                    continue
                if not seeds:
                    continue
                hyps = [[cached_hypotheses(out, ok[(s, size, sd)], cache) for sd in seeds] for s in (a, b)]
                res = seeded_bootstrap(hyps[0], hyps[1], refs, name_a=a, name_b=b, seed_numbers=seeds,
                                       resampler=resampler)
                results.append({"size": ok[(a, size, seeds[0])]["size"], "train_pairs": pairs, **res.to_dict(),
                                "significant": res.significant(exp.report.alpha),
                                "verdict": verdict(res, where, exp.report.alpha),
                                # the runs tested, so a later report carries this test only for these same runs
                                "runs_a": [run_fingerprint(ok[(a, size, sd)]) for sd in seeds],
                                "runs_b": [run_fingerprint(ok[(b, size, sd)]) for sd in seeds]})
    return results


def run_fingerprint(record: dict) -> str:
    """Which training of a cell a record is: when it finished, after how many updates, with what test BLEU (a
    run trained again, e.g. with ``--again``, differs in the first at least)."""
    return f"{record.get('finished_at')}|{record.get('steps')}|{record.get('test_bleu')}"


def _earlier_test(earlier: list[dict], size: str, pair: tuple[str, str], seeds: list[int], where: str,
                  alpha: float, means: dict[str, float], runs: dict[str, list[str]]) -> dict[str, Any] | None:
    """The earlier test of ``a`` against ``b`` at ``size`` on exactly ``seeds`` (A first), marked carried; only
    while it tested the runs the records hold now: the same runs (``runs``, each side's run fingerprints) where
    the test names them, else (a test from before they were named) each side's BLEU there is the mean of the
    records' test BLEU (``means``) within rounding."""
    a, b = pair
    fields = PairedResult.__dataclass_fields__
    for t in earlier:
        if str(t.get("size")) != size or {t.get("name_a"), t.get("name_b")} != {a, b} \
                or list(t.get("seed_numbers") or []) != seeds or not seeds:
            continue
        if "runs_a" in t:
            if {t["name_a"]: t["runs_a"], t["name_b"]: t.get("runs_b")} != runs:
                continue  # the test of other runs of the same cells
        else:
            scores = {t["name_a"]: t.get("score_a"), t["name_b"]: t.get("score_b")}
            if any(scores[s] is None or abs(scores[s] - means[s]) > 0.011 for s in (a, b)):
                continue  # the test of other runs of the same cells
        res = PairedResult(**{k: t[k] for k in fields if k in t})
        if res.name_a != a:  # A is the higher mean; written the other way round, turn it
            res = dataclasses.replace(res, name_a=a, name_b=b, score_a=res.score_b, score_b=res.score_a,
                                      delta=-res.delta, ci_low=-res.ci_high, ci_high=-res.ci_low)
        return {"size": t["size"], "train_pairs": t.get("train_pairs"), **res.to_dict(),
                "significant": res.significant(alpha), "verdict": verdict(res, where, alpha),
                **({"runs_a": runs[a], "runs_b": runs[b]} if "runs_a" in t else {}), "carried": True}
    return None


def _tests_at(sig: list[dict], size: str) -> dict[tuple[str, str], PairedResult]:
    fields = PairedResult.__dataclass_fields__
    return {(s["name_a"], s["name_b"]): PairedResult(**{k: s[k] for k in fields if k in s})
            for s in sig if str(s["size"]) == size}


def winners(exp: Experiment, records: list[dict], sig: list[dict]) -> list[dict[str, Any]]:
    """Per size: the strategy with the best mean BLEU, and whether it beats the runner-up significantly."""
    out = []
    for size in sorted({str(s["size"]) for s in sig}, key=size_order):
        ranked = ranked_strategies(exp, records, size)
        w = winner(ranked, _tests_at(sig, size), exp.report.alpha)
        first = w["result"]
        where = next((f"at {s['train_pairs']:,} pairs" if s.get("train_pairs") else f"at size {size}"
                      for s in sig if str(s["size"]) == size), "")
        text = verdict(first, where, exp.report.alpha) if first else ""
        if w["beaten_by"]:
            line = (f"{where}: no winner yet: **{ranked[0]}** has the best mean BLEU over its seeds, but {text} on "
                    "the seeds both finished")
        elif w["winner"] and first:
            line = f"{where}: **{w['winner']}** wins ({text})"
        elif w["tied"]:
            line = f"{where}: tied between {', '.join(w['tied'])} ({text}; the best is not significantly better)"
        else:
            line = f"{where}: **{ranked[0]}** has the best mean BLEU"
        if w["untested"]:
            line += (f"; not tested against {', '.join(w['untested'])} (no seed where both have test "
                     "translations)")
        out.append({"size": size, "winner": w["winner"], "tied": w["tied"], "untested": w["untested"],
                    "beaten_by": w["beaten_by"], "line": line})
    return out


def matrix(exp: Experiment, records: list[dict], sig: list[dict], size: str) -> tuple[list[str], list[list]]:
    """The strategies at ``size`` (best first) and the matrix of tests: ``cells[i][j]`` is row - column as a
    ``(delta, p_value)`` pair, None on the diagonal or where no test was possible."""
    names = ranked_strategies(exp, records, size)
    tests = _tests_at(sig, size)
    cells: list[list] = []
    for a in names:
        row = []
        for b in names:
            t = tests.get((a, b))
            back = tests.get((b, a))
            row.append((t.delta, t.p_value) if t else (-back.delta, back.p_value) if back else None)
        cells.append(row)
    return names, cells


def cell_text(cell: tuple[float, float] | None, alpha: float) -> str:
    """``+2.3*`` (significant at alpha), ``-0.4``; a dash where nothing was tested."""
    if cell is None:
        return "—"
    return f"{cell[0]:+.1f}" + ("*" if cell[1] < alpha and cell[0] != 0 else "")


def significance_blocks(exp: Experiment, records: list[dict], sig: list[dict], heatmap: str | None) -> list[tuple]:
    """The report's Significance section: the test, the winner per size, a matrix per size, the heatmap."""
    blocks: list[tuple] = [("h", 2, "Significance")]
    if not sig:
        return blocks + [("p", "Needs at least two strategies with finished runs at the same size.")]
    alpha = exp.report.alpha
    blocks.append(("p", f"Paired bootstrap over the test sentences and the seeds ({exp.report.bootstrap_samples} "
                        f"resamples, seed {exp.report.seed}) of sacreBLEU BLEU, two-sided, significance level "
                        f"{alpha}: each resample draws test sentences and seeds with replacement, a seed of one "
                        "strategy paired with the same seed of the other, and compares the mean BLEU over the "
                        "drawn seeds. Every seed that both strategies finished is used (all tests are in "
                        "significance.json)."))
    carried = sum(1 for t in sig if t.get("carried"))
    if carried:
        blocks.append(("p", f"{carried} of the {len(sig)} tests are carried from the previous report (`carried` in "
                            "significance.json): their runs' test translations were not kept, so they cannot be "
                            "tested again here."))
    blocks.append(("h", 3, "Winner per size"))
    blocks.append(("ul", [w["line"] for w in winners(exp, records, sig)]))
    blocks.append(("h", 3, "Significance matrix"))
    blocks.append(("p", f"Each cell: mean BLEU of the row strategy minus the column strategy over their common "
                        f"seeds; * = significant at {alpha}. Strategies ordered by mean BLEU, best first."))
    for size in sorted({str(s["size"]) for s in sig}, key=size_order):
        names, cells = matrix(exp, records, sig, size)
        pairs = next((s.get("train_pairs") for s in sig if str(s["size"]) == size), None)
        label = f"{pairs:,} pairs" if pairs else f"size {size}"
        rows = [[f"**{a}**"] + ["·" if i == j else cell_text(c, alpha) for j, c in enumerate(row)]
                for i, (a, row) in enumerate(zip(names, cells))]
        blocks.append(("table", [label] + names, rows, ["l"] + ["r"] * len(names)))
    if heatmap:
        blocks.append(("img", "significance matrix heatmap", heatmap))
    return blocks
