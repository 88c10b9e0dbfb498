"""The CPU plan of an experiment: how many runs each size has, their budget, what is done and what is left.

``vectorseq compare EXP --plan`` prints it without training anything. The estimate is measured, not guessed:

- a run counts as finished when its result was trained with the config the experiment gives it today (as
  ``compare`` decides what to skip);
- the cost of one update of a strategy is taken from its runs already in ``results.jsonl`` (``train_minutes /
  steps``; it depends on the batch, the model and the inputs, not on the number of training pairs), else from
  the median of every finished run, else from ``seconds_per_update`` (give a measured value: ``--seconds-per-update``);
- the number of updates of a run still to do is the mean of the finished runs at the same size (they stopped by
  patience or at the cap), else the cap of that size: an upper bound when nothing at that size has finished
  (an epoch cap counts in updates at the rate of the run's own checkpoint, else of the size's other checkpoints);
  less the updates a run has already trained in a folder compare will resume or continue (an interrupted run,
  or a finished one under a more patient stopping rule);
- a finished run that an unfinished ``compare --again`` (``again.json``) has not trained again yet counts as left;

Cells the experiment's ``cut:`` removes are counted apart and cost nothing; runs a GPU finished count as
finished, but their minutes are neither CPU hours spent nor a measure of the cost of an update here.

The figures are CPU hours of one single-thread run; with ``--workers N`` on N free cores the wall time is about
the CPU time divided by N.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .again import pending_notice, waiting
from .experiment import is_finished, steps_done, updates_per_epoch
from .results import RESULTS_FILE, latest_results, read_results, record_key
from .spec import Experiment


@dataclass
class SizePlan:
    """One training-set size of the grid."""

    size: str
    runs: int
    finished: int
    budget: dict[str, Any]
    spent_h: float  # CPU hours of the finished runs
    left_h: float  # estimated CPU hours of the runs still to do
    measured_steps: bool  # False: the runs left were counted at the cap (nothing at this size finished yet)
    cut: int = 0  # cells of the stated grid at this size cut by the experiment's `cut:`
    other_device_runs: int = 0  # finished runs trained on another device (a GPU): not in spent_h


def on_cpu(record: dict[str, Any]) -> bool:
    """Whether a run trained on the CPU (records from before devices were recorded did: no other device had
    trained a run until then)."""
    return str(record.get("device") or "cpu") == "cpu"


def _per_update_seconds(records: list[dict[str, Any]]) -> dict[str, float]:
    """Strategy -> the mean seconds per update of its finished CPU runs (a GPU's minutes say nothing about what the
    runs left will cost here)."""
    out: dict[str, list[float]] = {}
    for r in records:
        if r.get("status") == "ok" and r.get("steps") and r.get("train_minutes") and on_cpu(r):
            out.setdefault(r["strategy"], []).append(60.0 * r["train_minutes"] / r["steps"])
    return {s: statistics.fmean(v) for s, v in out.items()}


def _steps_per_run(exp: Experiment, runs: list, budget: dict[str, Any], finished_steps: list[int]) -> dict:
    """Run key -> the updates it is expected to train in all: the mean of the finished runs at its size, else
    the update cap, else the epoch cap at its checkpoint's updates per epoch (or the median of its size's)."""
    if finished_steps or budget.get("max_steps") or not budget.get("max_epochs"):
        steps = statistics.fmean(finished_steps) if finished_steps else budget.get("max_steps") or 0
        return {run.key: steps for run in runs}
    rates = {run.key: updates_per_epoch(exp, run) for run in runs}
    known = [r for r in rates.values() if r]
    median = statistics.median(known) if known else 0.0  # nothing has trained an epoch yet: unknown, counted 0
    return {key: budget["max_epochs"] * (rate or median) for key, rate in rates.items()}


def plan(exp: Experiment, seconds_per_update: float = 0.5) -> list[SizePlan]:
    """The plan of every size of ``exp``, from the records in its output folder (if any)."""
    path = Path(exp.output_dir) / RESULTS_FILE
    records = latest_results(read_results(path), exp.runs()) if path.exists() else []
    runs_by_key = {run.key: run for run in exp.runs()}
    again = waiting(Path(exp.output_dir), {record_key(r): r for r in records})  # finished, but training again
    done = {record_key(r): r for r in records
            if is_finished(exp, runs_by_key[record_key(r)], r) and record_key(r) not in again}
    cost = _per_update_seconds(records)
    fallback = statistics.median(cost.values()) if cost else seconds_per_update
    out = []
    for size in exp.sizes:
        runs = [run for run in exp.runs() if run.size == size]
        finished = [done[run.key] for run in runs if run.key in done]
        budget = {k: v for k, v in exp.budget_for(size).items() if v is not None}
        metric = exp.run_config(runs[0].strategy, size, runs[0].seed).training.early_stopping_metric if runs else None
        if metric and budget.get("patience") is not None:
            budget["patience"] = f"{budget['patience']} ({metric})"
        todo = [run for run in runs if run.key not in done]
        steps = _steps_per_run(exp, todo, budget, [r["steps"] for r in finished])
        left = sum(max(0.0, steps[run.key] - steps_done(exp, run)) * cost.get(run.strategy, fallback)
                   for run in todo)
        spent = sum(r["train_minutes"] / 60.0 for r in finished if r.get("train_minutes") and on_cpu(r))
        cut = sum(1 for r in exp.stated_runs() if r.size == size) - len(runs)
        out.append(SizePlan("all" if size is None else str(size), len(runs), len(finished), budget, spent,
                            left / 3600.0, bool(finished), cut, sum(not on_cpu(r) for r in finished)))
    return out


def plan_text(exp: Experiment, workers: int = 1, seconds_per_update: float = 0.5) -> str:
    """The plan as a Markdown table and a total, as ``compare --plan`` prints it."""
    rows = plan(exp, seconds_per_update)
    lines = [f"{exp.name}: {sum(p.runs for p in rows)} runs -> {Path(exp.output_dir)}", "",
             "| pairs | runs | cut | finished | budget | CPU h spent | CPU h left (est.) |",
             "| --- | ---: | ---: | ---: | --- | ---: | ---: |"]
    for p in rows:
        budget = ", ".join(f"{k} {v}" for k, v in p.budget.items()) or "the base config's own"
        left = f"{p.left_h:.1f}" + ("" if p.measured_steps or p.finished == p.runs else " (at the cap)")
        done = f"{p.finished}" + (f" ({p.other_device_runs} on a GPU)" if p.other_device_runs else "")
        lines.append(f"| {p.size} | {p.runs} | {p.cut} | {done} | {budget} | {p.spent_h:.1f} | {left} |")
    left = sum(p.left_h for p in rows)
    lines += ["", f"left: ~{left:.1f} CPU hours, ~{left / max(1, workers):.1f} hours with --workers {workers}"
              " (on as many free cores)"]
    out = Path(exp.output_dir)
    again = waiting(out, {record_key(r): r for r in read_results(out / RESULTS_FILE)}) \
        if (out / RESULTS_FILE).exists() else set()
    if notice := pending_notice(out, len(again)):
        lines.append(f"counted as left, as not finished: {notice}")
    if any(p.cut for p in rows):
        stated = exp.stated_runs()
        lines.append(f"cut: {len(stated) - len(exp.runs())} of the {len(stated)} cells the experiment states:")
        lines += [f"- {sum(c.covers(r) for r in stated)} cells: {c.reason}" for c in exp.cuts]
    return "\n".join(lines)
