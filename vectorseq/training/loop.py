"""The training loop: epochs of updates from a batch source until a stopping rule fires.

Each update: the input layers' ``on_step`` (unfreezing), the learning rate of this step, the update step
(:mod:`vectorseq.training.step`), the counters (:class:`~vectorseq.training.state.TrainState`), the progress
bar; every ``valid_every`` updates and when training stops, the :class:`~vectorseq.training.validation.Validator`.
Training stops by ``max_steps``, ``max_epochs``, ``max_minutes`` (decided by all ranks together: their clocks
differ) or ``patience`` (not before ``min_steps``); :func:`stop_class` names the kind of stop for results:
``converged`` (patience), ``capped`` (max_steps / max_epochs: the budget ran out, improving or not) or ``time``
(max_minutes, a safety cap: the run's length depended on the machine). The loop has one data path,
``source.updates(...)``: it never asks whether the batches come from memory or from a stream.
"""
from __future__ import annotations

import sys
import time

import torch
from tqdm.auto import tqdm

from ..data.batch_source import BatchSource
from .optim import set_learning_rate
from .run import Run
from .state import TrainState
from .step import Meter, UpdateStep
from .validation import Validator, patience_met


STOP_CLASSES = {"patience": "converged", "max_steps": "capped", "max_epochs": "capped", "max_minutes": "time"}


def stop_class(stop_reason: str | None) -> str | None:
    """``converged``, ``capped`` or ``time`` for a stop reason such as ``patience=3`` (None when unknown)."""
    if not stop_reason:
        return None
    return STOP_CLASSES.get(stop_reason.split("=", 1)[0])


class Trainer:
    """A model, its optimizer, a batch source, the training state and the validator, and the loop over them."""

    def __init__(self, run: Run, model: torch.nn.Module, optimizer: torch.optim.Optimizer, source: BatchSource,
                 state: TrainState, validator: Validator, progress: bool = True):
        self.model, self.optimizer, self.source, self.state, self.validator = model, optimizer, source, state, validator
        self.dist, self.tc, self.say = run.dist, run.cfg.training, run.say
        self.step = UpdateStep(model, run.dist.wrap(model, run.device), optimizer, run.device, self.tc, run.dist.world)
        self.show_progress = progress and run.dist.main
        self.elapsed = state.elapsed_s
        # a checkpoint is written only at a validation: a resumed run's step has been validated
        self.validated_step = state.step

    def fit(self) -> str:
        """Train until a stopping rule fires; return which one."""
        tc = self.tc
        self.model.train()
        self.pbar = tqdm(total=tc.max_steps, initial=self.state.step, disable=not self.show_progress,
                         dynamic_ncols=True, desc="train", mininterval=0.5 if sys.stderr.isatty() else 30.0)
        self.t_start = time.time() - self.state.elapsed_s
        self.meter = Meter()
        stop_reason = self._already_finished()
        if stop_reason is not None:  # a finished run started again: nothing to train, not one update more
            self.say(f"training had already stopped ({stop_reason}) at update {self.state.step}")
        while stop_reason is None:
            stop_reason = self._epoch()
        self.pbar.close()
        self.elapsed = time.time() - self.t_start
        self.dist.barrier()
        return stop_reason

    def _already_finished(self) -> str | None:
        """The stopping rule a resumed state has already met (a run re-started after it finished), or None."""
        tc, state = self.tc, self.state
        if tc.max_steps is not None and state.step >= tc.max_steps:
            return f"max_steps={tc.max_steps}"
        if patience_met(tc, state):
            return f"patience={tc.patience}"
        if tc.max_minutes is not None and state.elapsed_s >= 60 * tc.max_minutes:
            return f"max_minutes={tc.max_minutes}"
        if tc.max_epochs is not None and state.epoch >= tc.max_epochs:
            return f"max_epochs={tc.max_epochs}"
        return None

    def _epoch(self) -> str | None:
        """The rest of this epoch's updates; the stop reason if training stopped inside it."""
        state, acc, dist = self.state, self.tc.accumulate, self.dist
        per_update = dist.world * acc
        first = state.first_update(per_update)
        for index, group in enumerate(self.source.updates(state.epoch, first, dist.rank, dist.world, acc),
                                      start=first):
            factor = self._before_update(state.step + 1)
            self.step(group, self.meter)
            state.finish_update(index, per_update)
            stop_reason = self._after_update(factor)
            if stop_reason is not None:
                return stop_reason
        state.next_epoch()
        if self.tc.max_epochs is not None and state.epoch >= self.tc.max_epochs:
            return self._validate(f"max_epochs={self.tc.max_epochs}")
        return None

    def _before_update(self, step: int) -> float:
        """Let the input layers change (unfreezing) and set the learning rate; return the schedule's factor."""
        for name in ("src", "tgt"):
            change = getattr(self.model, f"{name}_input").on_step(step)
            if change:
                self.say(f"step {step}: embeddings.{name} {change}")
        return set_learning_rate(self.optimizer, step, self.tc, self.state.plateau_factor)

    def _after_update(self, factor: float) -> str | None:
        """Progress, stopping rules and validation after an update; the stop reason, if any."""
        tc, step, meter = self.tc, self.state.step, self.meter
        self.pbar.update(1)
        if step % tc.log_every == 0:
            self.pbar.set_postfix(loss=f"{float(meter.loss_sum) / max(meter.tgt_tokens, 1):.3f}",
                                  lr=f"{tc.lr * factor:.2e}", tok_s=f"{meter.bar_rate(self.dist.world):.0f}",
                                  refresh=False)
        elapsed = time.time() - self.t_start
        stop_reason = None
        if tc.max_steps is not None and step >= tc.max_steps:
            stop_reason = f"max_steps={tc.max_steps}"
        elif tc.max_minutes is not None and self.dist.any_rank(elapsed >= 60 * tc.max_minutes):
            stop_reason = f"max_minutes={tc.max_minutes}"  # decided together: ranks' clocks differ
        if stop_reason is not None or step % tc.valid_every == 0:
            stop_reason = self._validate(stop_reason, elapsed)
        return stop_reason

    def _validate(self, stop_reason: str | None, elapsed: float | None = None) -> str | None:
        """Validate (log, best weights, checkpoint) unless this update has been validated already, e.g. an
        epoch whose last update fell on ``valid_every``; return the stop reason."""
        if self.state.step == self.validated_step:
            return stop_reason
        elapsed = time.time() - self.t_start if elapsed is None else elapsed
        stop_reason = self.validator(self.model, self.optimizer, self.state, self.meter, elapsed, stop_reason)
        self.meter.reset()
        self.validated_step = self.state.step
        return stop_reason
