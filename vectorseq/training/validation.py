"""Validation, early stopping and what is saved at each validation.

Every ``valid_every`` updates (and when training stops) the :class:`Validator` measures the validation loss,
perplexity (teacher forcing) and greedy BLEU/chrF on raw references, appends one record to
``train_log.jsonl``, keeps the best weights in ``model.safetensors`` (by ``early_stopping_metric``), halves the
plateau schedule's learning rate after ``plateau_patience`` validations without improvement, stops after
``patience`` of them (not before ``min_steps`` updates), and writes ``checkpoints/last`` for resume. Only rank
0 validates and writes; the decisions are broadcast so every rank continues or stops together.

A multilingual model has one :class:`ValidSet` per direction: the loss is over the trained directions'
tokens together, BLEU/chrF the mean over the trained directions (or one chosen by ``data.valid_direction``),
and every direction's scores (zero-shot ones marked) are logged under ``valid_by_direction``. A bilingual model has one set and no breakdown.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..config import Config
from ..data.batch_source import fixed_batches
from ..data.batching import source_with_eos
from ..decoding import translate_ids
from ..errors import VectorseqError
from ..evaluation import score
from ..jsonl import append_jsonl, write_jsonl
from ..language_vectorizer import for_language, output_bias
from ..modelfolder import LAST_CHECKPOINT, LOG_FILE, WEIGHTS_FILE, save_weights
from ..text.language_tags import Tagging
from ..vectorizer import TextVectorizer
from .averaging import keep_snapshot
from .run import Run
from .state import TrainState
from .step import Meter, batch_loss


@dataclass
class ValidSet:
    """The validation pairs of one direction: ids without specials, raw references, its tag (None: bilingual)."""

    src_ids: list[np.ndarray]
    tgt_ids: list[np.ndarray]
    refs: list[str]
    name: str | None = None
    tagging: Tagging | None = None
    zero_shot: bool = False
    tgt_lang: str | None = None  # a multilingual set's target language (decoding with one vocabulary per language)


@torch.no_grad()
def validate(model: torch.nn.Module, sets: Sequence[ValidSet], tgt_vec: TextVectorizer, cfg: Config,
             device: torch.device) -> dict[str, Any]:
    """Validation loss/perplexity (teacher forcing, trained directions) and greedy BLEU/chrF on raw references
    (the mean over the trained directions, or ``data.valid_direction``'s alone)."""
    model.eval()
    nll, ntok = 0.0, 0
    for vs in (v for v in sets if not v.zero_shot):
        for b in _batches(vs, cfg.training.batch_tokens):
            b = b.to(device)
            _, n = batch_loss(model, b, 0.0)
            nll += float(n)
            ntok += b.n_tgt_tokens
    scored = {vs.name: _greedy_scores(model, vs, tgt_vec, cfg, device) for vs in sets}
    pick = cfg.data.valid_direction  # None: the mean over the trained directions
    trained = [scored[vs.name] for vs in sets if (vs.name == pick if pick else not vs.zero_shot)]
    model.train()
    loss = nll / max(ntok, 1)
    mean = {k: round(float(np.mean([s[k] for s in trained])), 2) for k in ("bleu", "bleu_lc", "chrf")}
    out = {"valid_loss": round(loss, 4), "valid_ppl": round(math.exp(min(loss, 50)), 2),
           "valid_bleu": mean["bleu"], "valid_bleu_lc": mean["bleu_lc"], "valid_chrf": mean["chrf"],
           "samples": trained[0]["samples"]}
    if len(sets) > 1 or sets[0].name is not None:
        out["valid_by_direction"] = {vs.name: {"bleu": scored[vs.name]["bleu"], "chrf": scored[vs.name]["chrf"],
                                               **({"zero_shot": True} if vs.zero_shot else {})} for vs in sets}
    return out


def _batches(vs: ValidSet, budget: int) -> Any:
    """The set's fixed batches (a bilingual set is called as it always was)."""
    if vs.tagging is None:
        return fixed_batches(vs.src_ids, vs.tgt_ids, budget)
    return fixed_batches(vs.src_ids, vs.tgt_ids, budget, vs.tagging)


def _greedy_scores(model: torch.nn.Module, vs: ValidSet, tgt_vec: TextVectorizer, cfg: Config,
                   device: torch.device) -> dict[str, Any]:
    """Greedy BLEU/chrF of one set (at most ``valid_max_sentences``) and its first samples."""
    limit = cfg.training.valid_max_sentences or len(vs.src_ids)
    tag = vs.tagging or Tagging()
    starts = None if vs.tagging is None else [tag.tgt_start] * min(limit, len(vs.src_ids))
    hyps = translate_ids(model, [source_with_eos(tag.source(s)) for s in vs.src_ids[:limit]], beam_size=1,
                         max_length_ratio=cfg.decoding.max_length_ratio,
                         max_length_extra=cfg.decoding.max_length_extra, batch_size=128, device=device,
                         start_ids=starts, output_bias=output_bias(tgt_vec, vs.tgt_lang))
    decode = for_language(tgt_vec, vs.tgt_lang).decode
    texts = [decode(h[0].tokens) for h in hyps]
    return {**score(texts, vs.refs[:limit]), "samples": list(zip(vs.refs[:3], texts[:3]))}


def is_better(record: dict, best: dict | None, metric: str) -> bool:
    """Whether a validation record beats the best so far (BLEU, ties broken by loss; or loss). ``bleu+loss``
    picks the best by BLEU too (the loss only changes what counts as progress: :func:`counts_as_progress`)."""
    if best is None:
        return True
    if metric in ("bleu", "bleu+loss"):
        return record["valid_bleu"] > best["valid_bleu"] or (
            record["valid_bleu"] == best["valid_bleu"] and record["valid_loss"] < best["valid_loss"])
    return record["valid_loss"] < best["valid_loss"]


def counts_as_progress(record: dict, best: dict | None, lowest_loss: float | None, metric: str) -> bool:
    """Whether a validation resets patience: it beats the best (``early_stopping_metric``) or, with ``bleu+loss``,
    has the lowest validation loss so far. Why: greedy BLEU on a few hundred validation sentences moves by about a
    point between validations, so 5 validations without a better BLEU can come from noise while the (smooth) loss
    still falls; the study found such runs at 10,000 pairs."""
    if is_better(record, best, metric):
        return True
    return metric == "bleu+loss" and (lowest_loss is None or record["valid_loss"] < lowest_loss)


def replay_patience(history: Sequence[dict[str, Any]], metric: str) -> tuple[dict | None, int]:
    """The best validation (step, loss, BLEU, chrF) and the count of validations since the last progress that
    ``history`` (a training log's validation records) gives under ``metric``: what a run that had always trained
    under this rule would hold now."""
    best, lowest, bad = None, None, 0
    for rec in history:
        bad = 0 if counts_as_progress(rec, best, lowest, metric) else bad + 1
        if is_better(rec, best, metric):
            best = {k: rec[k] for k in ("step", "valid_loss", "valid_bleu", "valid_chrf")}
        lowest = rec["valid_loss"] if lowest is None else min(lowest, rec["valid_loss"])
    return best, bad


def resume_patience(state: TrainState, history: Sequence[dict[str, Any]], metric: str, where: Path) -> None:
    """Recount a resumed run's validations without progress under today's ``early_stopping_metric`` (a run may
    resume under a more patient rule, e.g. ``bleu`` -> ``bleu+loss``); refuse when the kept best weights were
    chosen by another metric (resuming would mix two rules)."""
    records = [r for r in history if "valid_loss" in r and "valid_bleu" in r]
    if not records or state.best is None:
        return  # no log to replay (deleted by hand): the checkpoint's own counter stands
    best, bad = replay_patience(records, metric)
    if best is None or best["step"] != state.best.get("step"):
        raise VectorseqError(
            f"{where}: the best weights were kept at update {state.best.get('step')}, but training."
            f"early_stopping_metric={metric!r} picks update {best and best['step']} of its training log: the run "
            "was started with another metric; set that metric again, or train into a new folder")
    state.bad_validations = bad


def patience_met(tc: Any, state: TrainState) -> bool:
    """Whether patience stops training now: ``patience`` validations without improvement, and at least
    ``min_steps`` updates done (a slow start must not end a run that has barely begun)."""
    if tc.patience is None or state.step == 0 or state.bad_validations < tc.patience:
        return False
    return tc.min_steps is None or state.step >= tc.min_steps


def resumed_log(path: Path, step: int) -> list[dict[str, Any]]:
    """The training log a run resumed from the checkpoint of update ``step`` continues: its records up to that
    step. A newer record belongs to a validation whose checkpoint a kill prevented (it runs again), a last line
    cut short by a kill is no record; when either is there the file is rewritten without it (atomically). A
    broken line before the last is damage no kill makes: a one-line error, so nothing is dropped silently."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.is_file() else []
    records = []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            if i < len(lines):
                raise VectorseqError(f"{path}:{i}: not a JSON record, so the training log is damaged; delete that "
                                     "line (or the file) and train again") from None
    kept = [r for r in records if isinstance(r, dict) and isinstance(r.get("step"), int) and r["step"] <= step]
    if len(kept) != sum(1 for line in lines if line.strip()):
        write_jsonl(path, kept)
    return kept


class Validator:
    """The validation set and the model folder; called by the loop at each validation."""

    def __init__(self, run: Run, sets: Sequence[ValidSet], tgt_vec: TextVectorizer, history: list[dict[str, Any]]):
        self.cfg, self.out, self.dist, self.device, self.say = run.cfg, run.out, run.dist, run.device, run.say
        self.sets, self.tgt_vec = list(sets), tgt_vec
        self.history = history  # the training log's records (read back when resuming)

    def __call__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: TrainState, meter: Meter,
                 elapsed: float, stop_reason: str | None) -> str | None:
        """Validate, record, save; return why training stops now (or None), the same on every rank."""
        # tokens/s of training only: measured before validation starts
        tokens_per_s = self.dist.all_sum([float(meter.tokens)])[0] / max(time.time() - meter.t0, 1e-9)
        loss_sum, tok_sum = self.dist.all_sum([float(meter.loss_sum), float(meter.tgt_tokens)])
        if not math.isfinite(loss_sum):  # every rank sees the same sum: all stop here, before any write
            raise self._diverged(state, loss_sum)
        window = time.time()
        record = None
        if self.dist.main:
            record, example = self._record(model, optimizer, state, loss_sum / max(tok_sum, 1), elapsed,
                                           tokens_per_s)
            stop_reason = self._judge(model, state, record, example, stop_reason)
        state.elapsed_s = elapsed
        stop_reason = self.dist.broadcast(stop_reason)
        decided = self.dist.broadcast({k: getattr(state, k) for k in ("best", "bad_validations", "plateau_factor")})
        for k, v in decided.items():
            setattr(state, k, v)
        if self.dist.main:
            if self.cfg.training.average_checkpoints:  # before the checkpoint: a kill between them redoes both
                keep_snapshot(self.out, model, state.step, self.cfg.training.average_checkpoints)
            record["validation_s"] = round(time.time() - window, 1)
            # the record is logged before the checkpoint of its step is committed: a kill between the two leaves a
            # record newer than the checkpoint, which resume drops (that validation runs again); in the other
            # order a kill between them lost the record
            append_jsonl(self.out / LOG_FILE, [record])
            state.save(self.out / LAST_CHECKPOINT, model, optimizer)
        return stop_reason

    def validate_only(self, model: torch.nn.Module) -> dict[str, Any]:
        """The validation scores of ``model`` as it is (no record, no saving): e.g. of averaged weights."""
        return validate(model, self.sets, self.tgt_vec, self.cfg, self.device)

    def _diverged(self, state: TrainState, loss_sum: float) -> VectorseqError:
        """Training diverged: nothing of this window is saved, so checkpoints/last and model.safetensors stay the
        last good ones (a NaN model would only give NaN scores and broken searches)."""
        kept = f"update {state.best['step']}" if state.best else "none yet"
        return VectorseqError(f"training diverged: the training loss is {loss_sum} by update {state.step}; the last "
                              f"good checkpoint and best weights are kept (best: {kept}); lower training.lr or "
                              "set training.clip_norm, then train again (a re-run resumes from the last checkpoint)")

    def _record(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: TrainState,
                train_loss: float, elapsed: float, tokens_per_s: float) -> tuple[dict[str, Any], str]:
        """The training log's record of this validation, and one example translation."""
        v = validate(model, self.sets, self.tgt_vec, self.cfg, self.device)
        samples = v.pop("samples")
        record = {"step": state.step, "epoch": state.epoch, "train_loss": round(train_loss, 4), **v,
                  "lr": optimizer.param_groups[-1]["lr"], "elapsed_s": round(elapsed, 1),
                  "tokens_per_s": round(tokens_per_s, 1)}  # training only, validation time excluded
        self.history.append(record)
        return record, samples[0][1]

    def _judge(self, model: torch.nn.Module, state: TrainState, record: dict[str, Any], example: str,
               stop_reason: str | None) -> str | None:
        """Best weights, plateau and patience; print the validation line."""
        tc = self.cfg.training
        better = is_better(record, state.best, tc.early_stopping_metric)
        earlier = [r["valid_loss"] for r in self.history[:-1] if "valid_loss" in r]  # the record is appended
        progress = counts_as_progress(record, state.best, min(earlier, default=None), tc.early_stopping_metric)
        if better:
            state.best = {k: record[k] for k in ("step", "valid_loss", "valid_bleu", "valid_chrf")}
            save_weights(model, self.out / WEIGHTS_FILE)
        if progress:
            state.bad_validations = 0
        else:
            state.bad_validations += 1
            if tc.schedule == "plateau" and state.bad_validations % max(1, tc.plateau_patience) == 0:
                state.plateau_factor *= 0.5
        if stop_reason is None and patience_met(tc, state):
            stop_reason = f"patience={tc.patience}"
        self.say(f"\nstep {state.step}: train {record['train_loss']:.3f} | valid loss {record['valid_loss']:.3f} "
                 f"ppl {record['valid_ppl']:.1f} BLEU {record['valid_bleu']:.1f} chrF {record['valid_chrf']:.1f}"
                 f"{' *' if better else ''} | e.g. {example!r}")
        return stop_reason
