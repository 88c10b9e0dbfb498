"""The training stages of a model with several directions (``data.directions``), beside the bilingual ones.

:func:`train <vectorseq.training.pipeline.train>` runs the same stages for every model; where a
multilingual model differs, it calls these instead of their bilingual counterparts in
:mod:`~vectorseq.training.prepare`:

* :func:`load_directions` -- every direction's splits (:mod:`vectorseq.data.multilingual`) and the
  language-balanced text the vectorizers adapt on (:mod:`vectorseq.data.language_balance`);
* :func:`encode_training` -- each direction's training ids (over-long pairs dropped) and its validation set
  with its tag (:class:`~vectorseq.text.language_tags.Tagging`); zero-shot directions are validated only;
* :func:`mix_source` -- one in-memory source per trained direction, mixed by temperature sampling
  (:class:`~vectorseq.data.direction_mix.DirectionMixSource`);
* :func:`score_tests` -- the test split of every direction, and the mean over the trained ones.

A bilingual model never reaches this module, so it trains exactly as before.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from ..data.batch_source import BatchSource, InMemorySource, SampledSource, StreamingSource
from ..data.direction_mix import DirectionMixSource, StreamMixSource
from ..data.directions import Direction, DirectionPlan, direction_plan
from ..data.language_balance import balanced_text
from ..data.multilingual import direction_files, load_direction_splits
from ..data.sampling import sample_pairs
from ..data.splits import load_split
from ..errors import VectorseqError
from ..evaluation import evaluate_directions
from ..language_vectorizer import for_language
from ..translator import Translator
from .prepare import Ids, TrainingData, drop_long_ids, encode_pairs, sampling_specs, stream_files
from .run import Run
from .validation import ValidSet


@dataclass
class DirectionData:
    """One direction of a multilingual model: its splits (``train`` None when zero-shot), its tag, its ids."""

    direction: Direction
    splits: dict[str, Any]
    zero_shot: bool
    tagging: Any = None  # set once the vectorizers exist
    train_ids: Ids | None = None
    train_files: Any = None  # data.streaming: the direction's training files (a FilesConfig), read as a stream
    size: int | None = None  # data.streaming: how many valid training pairs they hold


def is_multilingual(run: Run) -> bool:
    return direction_plan(run.cfg.data).tagged


def load_directions(run: Run) -> TrainingData:
    """Every direction's splits; ``train`` is the balanced text the vectorizers adapt on."""
    cfg = run.cfg
    plan = direction_plan(cfg.data)
    if cfg.data.streaming:
        return _streamed_directions(run, plan)
    splits = load_direction_splits(cfg.data, plan, seed=cfg.training.seed)
    for d, s in splits.items():
        for name in ("train", "valid"):
            if name == "valid" or not plan.is_zero_shot(d):
                if s[name] is None or len(s[name]) == 0:
                    raise VectorseqError(f"direction {d.name}: the {name} split is empty after filtering; "
                                         "check data.max_length and data.subset")
    directions = [DirectionData(d, splits[d], plan.is_zero_shot(d)) for d in plan.all]
    adapt = balanced_text({d: splits[d]["train"] for d in plan.trained}, seed=cfg.training.seed)
    return TrainingData({"train": None, "valid": None, "test": None}, adapt, directions)


def direction_vectorizers(vecs: tuple[Any, Any], direction: Direction) -> tuple[Any, Any]:
    """The vectorizers that read one direction's source and write its target (with one vocabulary per
    language: the source language's and the target language's; otherwise ``vecs`` themselves)."""
    return for_language(vecs[0], direction.src), for_language(vecs[1], direction.tgt)


def _streamed_directions(run: Run, plan: DirectionPlan) -> TrainingData:
    """``data.streaming``: each direction's valid/test in memory and, for a trained one, its training files'
    reservoir sample (the vectorizers adapt on the samples; when resuming, none is kept, only the count that the
    temperature sampling needs)."""
    data, seed = run.cfg.data, run.cfg.training.seed
    directions = []
    for d in plan.all:
        files = {name: direction_files(getattr(data, name), d) for name in ("train", "valid", "test")}
        dd = DirectionData(d, {"train": None, "valid": load_split(files["valid"], data, "valid", True),
                               "test": load_split(files["test"], data, "test", False)}, plan.is_zero_shot(d))
        if not dd.zero_shot:
            dd.train_files = files["train"]
            sample = sample_pairs(**stream_files(files["train"]), n=0 if run.resuming else data.adapt_sample, seed=seed,
                                  max_length=data.max_length, on_error=data.on_error, max_chars=data.max_chars)
            if not sample.pairs_read:
                raise VectorseqError(f"direction {d.name}: the training files hold no valid pair ({sample.source})")
            dd.splits["train"], dd.size = sample, sample.pairs_read
        directions.append(dd)
    adapt = None if run.resuming else balanced_text({dd.direction: dd.splits["train"] for dd in directions
                                                     if not dd.zero_shot}, seed=seed)
    return TrainingData({"train": None, "valid": None, "test": None}, adapt, directions)


def encode_training(run: Run, data: TrainingData, vecs: tuple[Any, Any]) -> tuple[Ids, list[ValidSet]]:
    """All training ids together (for the input layers' statistics) and one validation set per direction."""
    plan: DirectionPlan = direction_plan(run.cfg.data)
    sets = []
    for dd in data.directions:
        dd.tagging = plan.tagging(dd.direction.tgt, *vecs)
        dvecs = direction_vectorizers(vecs, dd.direction)
        if not dd.zero_shot:
            train = dd.splits["train"]
            dd.train_ids = drop_long_ids(run, train, encode_pairs(*dvecs, train))
        valid = dd.splits["valid"]
        sets.append(ValidSet(*encode_pairs(*dvecs, valid), list(valid.tgt), dd.direction.name, dd.tagging,
                             dd.zero_shot, dd.direction.tgt))
    trained = [dd.train_ids for dd in data.directions if not dd.zero_shot]
    return (list(itertools.chain(*(i[0] for i in trained))), list(itertools.chain(*(i[1] for i in trained)))), sets


def mix_source(run: Run, data: TrainingData, vecs: tuple[Any, Any]) -> BatchSource:
    """Temperature-sampled batches of the trained directions (each with its own seed and tag)."""
    cfg, tc = run.cfg, run.cfg.training
    specs = sampling_specs(cfg)
    if cfg.data.streaming:
        return _stream_mix(run, data, vecs, specs)
    sources, names = [], []
    for i, dd in enumerate(d for d in data.directions if not d.zero_shot):
        seed = tc.seed + i  # directions do not share a batch order (nor, with sampling, their draws)
        if specs == (None, None):
            source = InMemorySource(*dd.train_ids, tc.batch_tokens, seed, dd.tagging)
        else:
            corpus = dd.splits["train"]
            source = SampledSource(*dd.train_ids, tc.batch_tokens, seed, texts=(corpus.src, corpus.tgt),
                                   vecs=direction_vectorizers(vecs, dd.direction), specs=specs, tagging=dd.tagging)
        sources.append(source)
        names.append(dd.direction.name)
    return DirectionMixSource(sources, names, cfg.data.sampling_temperature, tc.seed)


def _stream_mix(run: Run, data: TrainingData, vecs: tuple[Any, Any], specs: tuple[Any, Any]) -> StreamMixSource:
    """One training stream per trained direction (its files, vectorizers, tag and seed), mixed by temperature."""
    tc, d = run.cfg.training, run.cfg.data
    trained = [dd for dd in data.directions if not dd.zero_shot]
    sources = []
    for i, dd in enumerate(trained):
        src_vec, tgt_vec = direction_vectorizers(vecs, dd.direction)
        args = dict(**stream_files(dd.train_files), src_vectorizer=src_vec, tgt_vectorizer=tgt_vec, batch_tokens=tc.batch_tokens,
                    seed=tc.seed + i, window=d.window, sampling=specs, max_length=d.max_length,
                    on_error=d.on_error, max_chars=d.max_chars, tagging=dd.tagging)
        sources.append(StreamingSource(args, num_workers=d.num_workers, pin_memory=run.device.type == "cuda",
                                       description=f"streaming {dd.direction.name}"))
        dd.splits["train"] = None  # the sample has served its purpose: free it
    return StreamMixSource(sources, [dd.size for dd in trained], [dd.direction.name for dd in trained],
                           d.sampling_temperature, tc.seed, any_exhausted=run.dist.any_rank)


def score_tests(translator: Translator, data: TrainingData) -> dict[str, Any]:
    """``test`` (the mean over the trained directions) and ``test_by_direction`` (zero-shot ones marked)."""
    tests = {dd.direction: (dd.splits["test"], dd.zero_shot) for dd in data.directions
             if dd.splits.get("test") is not None and len(dd.splits["test"])}
    if not tests:
        return {}
    result = evaluate_directions(translator, tests)
    return {"test": result["mean"], "test_by_direction": result["directions"]}
