"""The results of a comparison: one record per finished run in ``results.jsonl``, the files beside it, and the
summary table. The runner (:mod:`vectorseq.compare.experiment`) writes them; the report
(:mod:`vectorseq.compare.report`), the demo and users read them.

Output folder
    ``results.jsonl``: one JSON line per finished run, with the fields of :func:`new_record` (``strategy, size,
    train_pairs, seed, status`` ok/failed, ``error, traceback, test_bleu, test_chrf, test_bleu_lc, valid_loss``
    (lowest), ``valid_bleu`` (best), ``steps, stop_reason, stop_class`` (converged / capped / time, see
    :func:`vectorseq.training.stop_class`), ``train_minutes, tokens_per_s, parameters, coverage, model_dir,
    config_hash``, and where it trained and with what: ``device``, ``software`` (vectorseq's commit, torch, threads;
    see :mod:`vectorseq.compare.provenance`), ``finished_at``); a run that ran again has a later line, and the latest
    line counts.
    ``runs/STRATEGY/nSIZE_sSEED/``: each run's model folder, with its test translations in
    :data:`vectorseq.modelfolder.HYPOTHESES_FILE` (one per line); ``test.src.txt`` / ``test.ref.txt``: the test
    split; ``experiment.yaml``: the resolved experiment (the base inlined), so ``vectorseq compare OUTPUT_DIR
    --report-only`` works without the original file; ``report.md``, ``report.html``, ``figures/``,
    ``significance.json`` (see :mod:`vectorseq.compare.report`); ``archive/runs/STRATEGY/nSIZE_sSEED/``: the
    run's test translations and training log, so that the folder without ``runs/`` (as committed or
    copied) still rebuilds the whole report.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterable

from ..jsonl import append_jsonl, read_jsonl
from ..modelfolder import HYPOTHESES_FILE, LOG_FILE
from .render import md_cell
from .spec import Run

RESULTS_FILE = "results.jsonl"
TEST_SRC_FILE = "test.src.txt"
TEST_REF_FILE = "test.ref.txt"
#: each run's test translations and training log (see :func:`archive_run`)
ARCHIVE_DIR = "archive"
_ARCHIVED = (HYPOTHESES_FILE, LOG_FILE)

#: the scores and training statistics of a record (None until the run has finished)
METRIC_KEYS = ("test_bleu", "test_chrf", "test_bleu_lc", "valid_loss", "valid_bleu", "steps", "stop_reason",
               "stop_class", "train_minutes", "tokens_per_s", "parameters", "coverage", "test_sentences",
               "bleu_signature")

#: (record key, column header, decimals) of the report's results table, in order
COLUMNS = [("test_bleu", "BLEU", 1), ("test_chrf", "chrF", 1), ("test_bleu_lc", "BLEU-lc", 1),
           ("valid_loss", "valid loss", 3), ("train_minutes", "train min", 1), ("tokens_per_s", "tokens/s", 0),
           ("parameters", "parameters", 0)]


# ------------------------------------------------------------------------------------------- records
def new_record(experiment: str, run: Run, train_pairs: int, config_hash: str) -> dict[str, Any]:
    """The record of one run before it has a result: every field present, the metrics None."""
    return {"experiment": experiment, "strategy": run.strategy, "size": run.label, "train_pairs": train_pairs,
            "seed": run.seed, "status": "ok", "error": None, "traceback": None, **{k: None for k in METRIC_KEYS},
            "model_dir": run.dirname, "config_hash": config_hash}


def results_path(path: str | Path) -> Path:
    """``results.jsonl`` given that file, the output folder or another file of it (such as report.md)."""
    p = Path(path)
    if p.is_dir():
        return p / RESULTS_FILE
    return p if p.suffix == ".jsonl" else p.parent / RESULTS_FILE


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """All records of ``results.jsonl`` (``path``: that file, the output folder or its report.md), in order."""
    return read_jsonl(results_path(path), skip_broken=True)  # a line cut short by an interruption is skipped


def append_result(out: Path, record: dict[str, Any]) -> None:
    """Add one record to the output folder's results.jsonl."""
    append_jsonl(out / RESULTS_FILE, [record])


def record_key(r: dict[str, Any]) -> tuple[str, str, int]:
    """The run a record belongs to (:attr:`Run.key`)."""
    return (str(r.get("strategy")), str(r.get("size")), int(r.get("seed", 0)))


def latest_results(records: list[dict[str, Any]], runs: list[Run] | None = None) -> list[dict[str, Any]]:
    """The latest record of every run; with ``runs``, only those runs, in grid order."""
    latest: dict[tuple, dict] = {}
    for r in records:
        latest[record_key(r)] = r
    if runs is None:
        return list(latest.values())
    return [latest[r.key] for r in runs if r.key in latest]


# ------------------------------------------------------------------------------------------- files
def read_lines(path: Path) -> list[str]:
    """Lines written by :func:`write_lines` (empty lines are kept: an empty translation is a line)."""
    text = path.read_text(encoding="utf-8")
    if not text:
        return []
    return (text[:-1] if text.endswith("\n") else text).split("\n")


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(s.replace("\n", " ") + "\n" for s in lines), encoding="utf-8")


def _archived(out: Path, model_dir: str, name: str) -> Path:
    return out / ARCHIVE_DIR / model_dir / name


def archive_run(out: Path, model_dir: str) -> bool:
    """Keep a finished run's test translations and training log beside results.jsonl, so the report can be
    rebuilt (significance, training curves) from the output folder without its model folders, which are too
    large to commit or copy (plain text: git compresses what it stores, and the files stay readable). A
    retrained run's files replace its archived ones. Returns whether anything changed."""
    wrote = False
    for name in _ARCHIVED:
        src, dst = out / model_dir / name, _archived(out, model_dir, name)
        if not src.is_file():
            continue
        data = src.read_bytes()
        if dst.is_file() and dst.read_bytes() == data:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(dst)  # an interrupted archive never leaves a truncated file under the final name
        wrote = True
    return wrote


def _run_file(out: Path, model_dir: str, name: str) -> Path | None:
    """A run's file in its model folder, else in the archive; None when neither has it."""
    for p in (out / model_dir / name, _archived(out, model_dir, name)):
        if p.is_file():
            return p
    return None


def read_hypotheses(out: Path, model_dir: str) -> list[str] | None:
    """A run's test translations (model folder or archive), or None when it has none."""
    p = _run_file(out, model_dir, HYPOTHESES_FILE)
    return None if p is None else read_lines(p)


def read_history(out: Path, model_dir: str) -> list[dict[str, Any]]:
    """The records of a run's train_log.jsonl (model folder or archive; empty when there is none)."""
    p = _run_file(out, model_dir, LOG_FILE)
    return [] if p is None else read_jsonl(p, skip_broken=True)  # a line cut short by an interruption is skipped


# ------------------------------------------------------------------------------------------- numbers
def size_order(size: Any) -> float:
    """Sort key of a record's ``size``: ascending, ``all`` last."""
    return math.inf if str(size) == "all" else float(size)


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def fmt_number(x: float, digits: int) -> str:
    return f"{x:,.0f}" if digits == 0 else f"{x:.{digits}f}"


def fmt_values(values: list[Any], digits: int) -> str:
    """Mean ± sample std of the numbers among ``values`` (the mean alone for one, a dash for none)."""
    vals = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not vals:
        return "—"
    mean, std = _mean_std(vals)
    return fmt_number(mean, digits) if std is None else f"{fmt_number(mean, digits)} ± {fmt_number(std, digits)}"


def size_text(row_or_record: dict[str, Any]) -> str:
    """``1,000``, or ``all (8,000)`` for the whole training split."""
    n = row_or_record.get("train_pairs")
    if str(row_or_record.get("size")) == "all":
        return f"all ({n:,})" if n else "all"
    return f"{int(row_or_record['size']):,}"


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
    for (strategy, size), rs in sorted(groups.items(), key=lambda kv: (size_order(kv[0][1]), order.index(kv[0][0]))):
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


def summary_table(results: Any) -> str:
    """A compact Markdown table (strategy, training pairs, BLEU, chrF, BLEU-lc, runs) of comparison results.

    ``results``: run records (dicts as in ``results.jsonl``), or the path of ``results.jsonl``, of an
    experiment's output folder or of its ``report.md`` (the latest record of every run is used). Mean ± std over
    seeds; failed runs are counted in the ``runs`` column.
    """
    records = latest_results(read_results(results)) if isinstance(results, (str, Path)) else list(results)
    rows = aggregate(records)
    if not rows:
        return "(no comparison results yet)"
    out = ["| strategy | pairs | BLEU | chrF | BLEU-lc | runs |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        rs = row["records"]
        cells = [fmt_values([r.get(k) for r in rs], 1) for k in ("test_bleu", "test_chrf", "test_bleu_lc")]
        runs = f"{row['ok']}/{row['runs']}" + ("" if row["ok"] == row["runs"] else " (failed)")
        out.append(f"| {md_cell(row['strategy'])} | {size_text(row)} | {' | '.join(cells)} | {runs} |")
    return "\n".join(out)
