"""What the report says about training length: the budget and model of each size, and which runs did not
converge.

Every run's record carries ``stop_class`` (:func:`vectorseq.training.stop_class`): ``converged`` (patience
fired), ``capped`` (max_steps / max_epochs ran out first) or ``time`` (the max_minutes safety cap). Capped and
time-limited runs are marked with :data:`NOT_CONVERGED` in the results and All runs tables, and a sentence
under the results says how many there are: their scores may be below what the strategy reaches with a larger
budget, so a reader does not take them for converged results.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from ..config import config_from_dict
from ..training import stop_class
from .spec import Experiment

NOT_CONVERGED = "†"
_BUDGET_NAMES = (("max_steps", "max {} updates"), ("max_epochs", "max {} epochs"), ("max_minutes", "max {} min"),
                 ("min_steps", "min {} updates"), ("patience", "patience {}"))


def _class(record: dict[str, Any]) -> str | None:
    """The record's stop class; records written before stop_class existed get it from their stop_reason."""
    return record.get("stop_class") or stop_class(record.get("stop_reason"))


def stop_text(record: dict[str, Any]) -> str:
    """``converged (patience=3)``, ``capped† (max_steps=400)``; a dash when unknown."""
    cls, reason = _class(record), record.get("stop_reason")
    if not cls:
        return reason or "—"
    mark = NOT_CONVERGED if cls in ("capped", "time") else ""
    return f"{cls}{mark}" + (f" ({reason})" if reason else "")


def stop_cell(records: list[dict[str, Any]]) -> str:
    """The stop classes of a group of runs: ``converged``, ``capped†``, ``2 converged, 1 capped†``."""
    counts = Counter(_class(r) for r in records if _class(r))
    if not counts:
        return "—"
    parts = [(f"{n} " if len(counts) > 1 else "") + cls + (NOT_CONVERGED if cls != "converged" else "")
             for cls, n in sorted(counts.items())]
    return ", ".join(parts)


def _late_gain(history: list[dict[str, Any]], last: int = 5) -> tuple[bool, float] | None:
    """(whether the best validation BLEU was the last one, what the last ``last`` validations added to the best
    before them) of one run's validation history; None when it has too few validations to say."""
    bleu = [h["valid_bleu"] for h in history if isinstance(h.get("valid_bleu"), (int, float))]
    if len(bleu) <= last:
        return None
    return bleu[-1] >= max(bleu), max(0.0, max(bleu) - max(bleu[:-last]))


def capped_detail(records: list[dict[str, Any]], histories: dict[str, list[dict[str, Any]]]) -> str | None:
    """How far from converged the capped runs were, from their validation histories: how many still improved at
    their last validation, and what their last 5 validations added (so a reader can tell a run that was still
    climbing from one that had levelled off without patience firing yet)."""
    gains = [g for r in records if r.get("status") == "ok" and _class(r) == "capped"
             if (g := _late_gain(histories.get(r.get("model_dir"), []))) is not None]
    if not gains:
        return None
    rising = sum(last_best for last_best, _ in gains)
    added = sorted(g for _, g in gains)
    median = added[len(added) // 2] if len(added) % 2 else (added[len(added) // 2 - 1] + added[len(added) // 2]) / 2
    return (f"Of the {len(gains)} capped runs with a validation history, {rising} had their best validation BLEU at "
            f"the last validation; their last 5 validations added {median:.2f} BLEU to the best before them "
            f"(median; at most {added[-1]:.2f}).")


def still_falling(records: list[dict[str, Any]], histories: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The converged runs whose validation loss was at its lowest at the last validation: patience fired on
    validation BLEU (noisy on a few hundred sentences) while the loss still fell, so they may have stopped early."""
    out = []
    for r in records:
        if r.get("status") != "ok" or _class(r) != "converged":
            continue
        loss = [h["valid_loss"] for h in histories.get(r.get("model_dir"), [])
                if isinstance(h.get("valid_loss"), (int, float))]
        if len(loss) > 1 and loss[-1] <= min(loss):
            out.append(r)
    return out


def falling_note(records: list[dict[str, Any]], histories: dict[str, list[dict[str, Any]]]) -> str | None:
    """The sentence naming the runs of :func:`still_falling` (None when there are none)."""
    runs = still_falling(records, histories)
    if not runs:
        return None
    named = ", ".join(f"{r['strategy']} ({size_label(r)}, seed {r['seed']})" for r in runs)
    return (f"Stopped while the validation loss still fell: {len(runs)} converged run(s) had their lowest "
            f"validation loss at the last validation, so their BLEU patience may have fired on noise: {named}.")


def size_label(record: dict[str, Any]) -> str:
    pairs = record.get("train_pairs")
    return f"{pairs:,} pairs" if pairs else f"size {record.get('size')}"


def stop_note(records: list[dict[str, Any]], histories: dict[str, list[dict[str, Any]]] | None = None) -> str | None:
    """The sentence flagging capped and time-limited runs (None when every finished run converged), with
    :func:`capped_detail` when the runs' validation histories are given."""
    ok = [r for r in records if r.get("status") == "ok"]
    capped = sum(_class(r) == "capped" for r in ok)
    timed = sum(_class(r) == "time" for r in ok)
    if not capped and not timed:
        return None
    parts = ([f"{capped} of {len(ok)} runs hit the budget cap (capped)"] if capped else []) + \
        ([f"{timed} stopped at the max_minutes safety cap (time)"] if timed else [])
    detail = capped_detail(ok, histories) if histories else None
    return (f"{NOT_CONVERGED} Not converged: {' and '.join(parts)} before early stopping fired; their scores may "
            "be below what the strategy reaches with a larger budget." + (f" {detail}" if detail else ""))


def _budget_text(training: dict[str, Any], run_training: Any = None) -> str:
    """``max 1,500 updates, min 300 updates, patience 5``; with the runs' training config, what patience counts:
    ``patience 5 validations (every 200 updates, on bleu+loss)``."""
    text = ", ".join(fmt.format(f"{training[k]:,}" if isinstance(training[k], int) else training[k])
                     for k, fmt in _BUDGET_NAMES if training.get(k) is not None)
    if run_training is not None and training.get("patience") is not None:
        text += (f" validations (every {run_training.valid_every:,} updates, on "
                 f"{run_training.early_stopping_metric})")
    return text or "the base config's own"


def _run_training(exp: Experiment, size: int | None) -> Any:
    """The training config of runs at ``size`` (the base with the size override), or None."""
    try:
        return config_from_dict(exp.raw_config(next(iter(exp.strategies)), size, exp.seeds[0])).training
    except Exception:  # the report must not fail on a config it only describes
        return None


def _model_text(exp: Experiment, size: int | None) -> str:
    """The model of runs at ``size``: the base with the size override (strategies may change it further)."""
    try:
        m = config_from_dict(exp.raw_config(next(iter(exp.strategies)), size, exp.seeds[0])).model
    except Exception:  # the report must not fail on a config it only describes
        return "—"
    return (f"{m.type}, d_model {m.d_model}, {m.encoder_layers}+{m.decoder_layers} layers"
            + (f", {m.rnn_cell}" if m.type == "rnn" else f", ff {m.ff_size}, {m.heads} heads"))


def budget_blocks(exp: Experiment, records: list[dict[str, Any]]) -> list[tuple]:
    """A table of the budget and model of every training-set size."""
    if exp.all_pairs is None:  # report-only: the size of `all` comes from the records
        exp.all_pairs = next((r.get("train_pairs") for r in records if str(r.get("size")) == "all"), None)
    rows = []
    for n in exp.sizes:
        pairs = f"all ({exp.all_pairs:,})" if n is None and exp.all_pairs else "all" if n is None else f"{n:,}"
        rows.append([pairs, _budget_text(exp.budget_for(n), _run_training(exp, n)), _model_text(exp, n)])
    scaled = exp.budget.get("max_steps_per_pair")
    note = (f"max updates scale with the data: {scaled} per training pair" if scaled else
            "the same budget at every size" if not exp.budget.get("per_size") else "budget set per size")
    return [("p", f"Budget and model per training-set size ({note}; strategies may change the model further):"),
            ("table", ["pairs", "budget", "model"], rows, ["r", "l", "l"])]
