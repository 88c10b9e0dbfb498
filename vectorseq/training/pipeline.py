"""``train()``: from a config to a model folder, as a list of stages (prepare -> fit -> finish)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import Config, load_config
from ..evaluation import evaluate
from ..modelfolder import CURVE_FILE, LAST_CHECKPOINT, LOG_FILE, METRICS_FILE, WEIGHTS_FILE, load_weights, write_json
from ..translator import Translator
from .curve import plot_curve
from .averaging import average_at_end
from .loop import Trainer, stop_class
from .optim import build_optimizer
from .prepare import (build_batch_source, build_seeded_model, drop_long_ids, encode_pairs, fit_input_layers, load_data,
                      prepare_vectorizers, prepare_vectors, record_vector_widths)
from .multilingual import encode_training, is_multilingual, load_directions, mix_source, score_tests
from .run import Run, start_run
from .state import TrainState
from .validation import ValidSet, Validator, is_better, resume_patience, resumed_log


@dataclass
class TrainResult:
    model_dir: Path
    steps: int
    epochs: int
    elapsed_s: float
    best: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


def train(config: Config | str | Path, output_dir: str | Path, *, overrides: list[str] | dict | None = None,
          splits: dict[str, Any] | None = None, progress: bool = True, evaluate_test: bool = True,
          log: Any = print) -> TrainResult:
    """Train the model a config describes into ``output_dir`` and return a summary.

    ``splits`` lets callers (tests, comparisons) pass already-loaded data instead of ``cfg.data``.
    """
    cfg = config if isinstance(config, Config) else load_config(config, overrides)
    with start_run(cfg, output_dir, log) as run:  # holds the model folder's lock until training has finished
        # -------------------------------------------------------------- prepare
        multilingual = is_multilingual(run)  # several directions: their stages from training/multilingual.py
        data = load_directions(run) if multilingual else load_data(run, splits)
        src_vec, tgt_vec = prepare_vectorizers(run, data.train)
        train_ids, valid_sets = (encode_training if multilingual else encode_bilingual)(run, data, (src_vec, tgt_vec))
        built = prepare_vectors(run, src_vec, tgt_vec)
        record_vector_widths(run, built)
        model = build_seeded_model(run, src_vec, tgt_vec)
        coverage = fit_input_layers(run, model, (src_vec, tgt_vec), train_ids, built)
        source = (mix_source(run, data, (src_vec, tgt_vec)) if multilingual
                  else build_batch_source(run, data, (src_vec, tgt_vec), train_ids))
        del train_ids, built  # a streamed run's sample has served its purpose (the in-memory source keeps its ids)
        model.to(run.device)
        optimizer = build_optimizer(model, cfg)
        last = run.out / LAST_CHECKPOINT
        state = TrainState.load(last, model, optimizer, run.device) if run.resuming else TrainState()
        # only rank 0 reads, repairs (records newer than the checkpoint, a torn line) and appends to the log
        history = resumed_log(run.out / LOG_FILE, state.step) if run.resuming and run.dist.main else []
        if run.resuming:  # counted under today's stopping rule (a run may resume under a more patient one)
            if run.dist.main:
                resume_patience(state, history, cfg.training.early_stopping_metric, run.out)
            state.bad_validations = run.dist.broadcast(state.bad_validations)
        validator = Validator(run, valid_sets, tgt_vec, history)
        trainer = Trainer(run, model, optimizer, source, state, validator, progress)
        run.say(f"model: {cfg.model.type}, {model.num_parameters():,} parameters ({model.num_parameters(True):,} "
                f"trainable); {source.description} training pairs; device {run.device}; world size {run.dist.world}")
        # -------------------------------------------------------------- fit
        stop_reason = trainer.fit()
        averaged = average_checkpoints(run, model, validator, state)
        # -------------------------------------------------------------- finish: curve, test scores, metrics
        metrics = summarize(run, model, state, history, coverage, stop_reason, trainer.elapsed)
        if averaged:
            metrics["averaged"] = averaged
        if run.dist.main:
            plot_curve(history, run.out / CURVE_FILE, cfg.name)
            test = data.splits.get("test")
            if evaluate_test and multilingual:
                metrics.update(score_tests(best_translator(run, model, (src_vec, tgt_vec)), data))
            elif evaluate_test and test is not None and len(test):
                metrics.update(score_test(run, model, (src_vec, tgt_vec), test))
            write_json(run.out / METRICS_FILE, metrics)
        run.dist.barrier()
        return TrainResult(run.out, state.step, state.epoch, trainer.elapsed, state.best or {}, metrics, history)


def average_checkpoints(run: Run, model: torch.nn.Module, validator: Validator, state: TrainState) -> dict | None:
    """training.average_checkpoints: the average of the last N validations' weights, kept if it validates better."""
    keep = run.cfg.training.average_checkpoints
    if not keep or not run.dist.main:
        return None
    return average_at_end(model, run.out, keep, validator.validate_only, state.best,
                          lambda rec, best: is_better(rec, best, run.cfg.training.early_stopping_metric))


def encode_bilingual(run: Run, data: Any, vecs: tuple[Any, Any]) -> tuple[Any, list[ValidSet]]:
    """The training ids (none when streaming and resuming; pairs over data.max_ids ids dropped) and the one
    validation set of a bilingual model."""
    train_ids = drop_long_ids(run, data.train, encode_pairs(*vecs, data.train))
    valid = data.splits["valid"]
    return train_ids, [ValidSet(*encode_pairs(*vecs, valid), list(valid.tgt))]


def summarize(run: Run, model: torch.nn.Module, state: TrainState, history: list[dict[str, Any]],
              coverage: dict[str, Any], stop_reason: str, elapsed: float) -> dict[str, Any]:
    """The training part of ``metrics.json``."""
    metrics: dict[str, Any] = {"steps": state.step, "epochs": state.epoch, "stop_reason": stop_reason,
                               "stop_class": stop_class(stop_reason),
                               "train_minutes": round(elapsed / 60, 2), "parameters": model.num_parameters(),
                               "best": state.best, "world_size": run.dist.world}
    if history:
        tps = [h["tokens_per_s"] for h in history if h.get("tokens_per_s")]
        metrics["tokens_per_s"] = round(float(np.median(tps)), 1) if tps else None
    if coverage:
        metrics["coverage"] = {k: {m: v.get(m) for m in ("type_coverage", "token_coverage", "vectors_sha256")}
                               for k, v in coverage.items()}
    return metrics


def best_translator(run: Run, model: torch.nn.Module, vecs: tuple[Any, Any]) -> Translator:
    """The model with the best validation step's weights, as a translator."""
    load_weights(model, run.out / WEIGHTS_FILE, run.device)
    return Translator(model, vecs[0], vecs[1], run.cfg, run.device)


def score_test(run: Run, model: torch.nn.Module, vecs: tuple[Any, Any], test: Any) -> dict[str, Any]:
    """The best weights' scores on the test split with the configured search, and a few samples."""
    scores, _ = evaluate(best_translator(run, model, vecs), test.src, test.tgt)
    samples = scores.pop("samples")
    return {"test": scores, "test_samples": samples}
