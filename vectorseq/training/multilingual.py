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

from ..data.batch_source import InMemorySource, SampledSource
from ..data.direction_mix import DirectionMixSource
from ..data.directions import Direction, DirectionPlan, direction_plan
from ..data.language_balance import balanced_text
from ..data.multilingual import load_direction_splits
from ..errors import VectorseqError
from ..evaluation import evaluate_directions
from ..language_vectorizer import for_language
from ..translator import Translator
from .prepare import Ids, TrainingData, drop_long_ids, encode_pairs, sampling_specs
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


def is_multilingual(run: Run) -> bool:
    return direction_plan(run.cfg.data).tagged


def load_directions(run: Run) -> TrainingData:
    """Every direction's splits; ``train`` is the balanced text the vectorizers adapt on."""
    cfg = run.cfg
    plan = direction_plan(cfg.data)
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


def mix_source(run: Run, data: TrainingData, vecs: tuple[Any, Any]) -> DirectionMixSource:
    """Temperature-sampled batches of the trained directions (each with its own seed and tag)."""
    cfg, tc = run.cfg, run.cfg.training
    specs = sampling_specs(cfg)
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


def score_tests(translator: Translator, data: TrainingData) -> dict[str, Any]:
    """``test`` (the mean over the trained directions) and ``test_by_direction`` (zero-shot ones marked)."""
    tests = {dd.direction: (dd.splits["test"], dd.zero_shot) for dd in data.directions
             if dd.splits.get("test") is not None and len(dd.splits["test"])}
    if not tests:
        return {}
    result = evaluate_directions(translator, tests)
    return {"test": result["mean"], "test_by_direction": result["directions"]}
