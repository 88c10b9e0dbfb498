"""Whether a finished run can go on under a new stopping rule instead of training again from scratch.

A run trained under one stopping rule and resumed under a *more patient* one (a larger cap, a longer patience,
``bleu`` -> ``bleu+loss``) passes through exactly the states a fresh run under the new rule would: the rule only
decides when to stop, and a more patient rule never stops earlier. So the finished run can continue from its
last checkpoint (its patience recounted under the new rule, :func:`~vectorseq.training.validation.resume_patience`)
and the result equals a retraining, at the cost of the extra updates only. A cap that is new or lower (an epoch
cap where there was only an update cap) still qualifies for a run that has not reached it: a fresh run under the
new rule passes through the same states up to that run's last checkpoint. A rule that stops sooner, or any other
change, needs a fresh run.
"""
from __future__ import annotations

from typing import Any, Mapping

STOPPING_KEYS = ("max_steps", "max_epochs", "max_minutes", "min_steps", "patience", "early_stopping_metric")


def _not_sooner(new: float | None, old: float | None) -> bool:
    """Whether a limit ``new`` comes no sooner than ``old`` (None: no limit)."""
    return new is None or (old is not None and new >= old)


def _not_reached(key: str, cap: int, trained: Mapping[str, Any] | None) -> bool:
    """Whether a run that trained to ``trained`` (its last checkpoint's ``step`` and ``epoch``: updates and
    finished epochs) is still short of a ``max_steps`` / ``max_epochs`` cap (strictly: a run at the cap itself
    may have gone on past the stop a fresh run makes there, e.g. without its final validation)."""
    done = (trained or {}).get("step" if key == "max_steps" else "epoch")
    return done is not None and done < cap


def relaxes(old: Any, new: Any, trained: Mapping[str, Any] | None = None) -> bool:
    """Whether the training config ``new`` stops no sooner than ``old`` at every update, with the same best
    checkpoint: only the keys of :data:`STOPPING_KEYS` may differ, each in the more patient direction; with
    ``trained`` (the run's last checkpoint, ``{"step": .., "epoch": ..}``) a new or lower update or epoch cap
    also passes while the run is short of it."""
    for key in ("max_steps", "max_epochs"):
        want, had = getattr(new, key), getattr(old, key)
        if not (_not_sooner(want, had) or _not_reached(key, want, trained)):
            return False
    if not _not_sooner(new.max_minutes, old.max_minutes):  # a clock is no state a checkpoint can be checked against
        return False
    if old.patience is not None and not _not_sooner(new.patience, old.patience):
        return False
    if new.patience is not None and old.patience is None:
        return False  # patience where there was none stops sooner
    if (new.min_steps or 0) < (old.min_steps or 0):
        return False
    metric_ok = new.early_stopping_metric == old.early_stopping_metric or (
        old.early_stopping_metric == "bleu" and new.early_stopping_metric == "bleu+loss")
    # the plateau schedule halves the rate by the same count of validations without progress: another metric
    # would change the learning rates, not only the stop
    return metric_ok and (new.early_stopping_metric == old.early_stopping_metric or new.schedule != "plateau")


def only_stopping_differs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two configs (as dicts) are equal apart from the training keys of :data:`STOPPING_KEYS`."""
    def rest(d: dict[str, Any]) -> dict[str, Any]:
        return {**d, "training": {k: v for k, v in d["training"].items() if k not in STOPPING_KEYS}}
    return rest(old) == rest(new)
