"""The splits of every direction of a multilingual model (``data.directions``, ``data.zero_shot``).

Both named datasets are multi-parallel, so any pair of their languages is a parallel corpus:

* ``builtin`` -- :func:`~vectorseq.data.synthetic.multilingual_splits` renders one stream of values in English
  and every language the directions name; a direction's split pairs two of those columns.
* ``multi30k`` -- the captions of the same images in en, de, fr (and cs): each direction is read by the
  one-direction loader (:func:`~vectorseq.data.splits.load_splits`) as if it were configured alone.
* ``files`` -- the user's files, named with placeholders: ``data.train.src: corpus/train.{src}-{tgt}.{src}``
  reads ``corpus/train.en-de.en`` for en-de (``train.{src}`` and ``train.{tgt}`` suit multi-parallel files).

A trained direction gets ``train``, ``valid`` and ``test``; a zero-shot direction ``valid`` and ``test`` only
(``train`` is None). ``data.subset`` takes N training pairs per direction, with the same seed for each.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from vectorseq.data.corpus import ParallelCorpus
from vectorseq.data.directions import Direction, DirectionPlan
from vectorseq.data.splits import Splits, load_split, load_splits
from vectorseq.data.synthetic import multilingual_splits

__all__ = ["direction_files", "load_direction_splits"]

_SPLIT_NAMES = {"train": "train", "valid": "val", "test": "test"}  # our names -> the generator's


def load_direction_splits(data: Any, plan: DirectionPlan, seed: int = 0) -> dict[Direction, Splits]:
    """``{direction: {"train": ParallelCorpus or None, "valid": ..., "test": ...}}`` for every direction of
    ``plan`` (trained ones first)."""
    if data.dataset == "builtin":
        out = _builtin(data, plan)
    else:
        out = {d: _one_direction(data, d, seed, plan.is_zero_shot(d)) for d in plan.all}
    for d in plan.zero_shot:
        out[d]["train"] = None  # never trained on, whatever the dataset holds
    for d in plan.trained:
        if data.subset and data.dataset == "builtin":
            out[d]["train"] = out[d]["train"].subset(data.subset, mode=data.subset_mode, seed=seed)
    return out


def _one_direction(data: Any, direction: Direction, seed: int, zero_shot: bool = False) -> Splits:
    """One direction read as a bilingual config would read it (subset and length limits included); with
    ``dataset: files`` its file names are the configured ones with ``{src}`` / ``{tgt}`` filled in, and a
    zero-shot direction's training files are never opened (it has none)."""
    alone = dataclasses.replace(data, src_lang=direction.src, tgt_lang=direction.tgt, directions=None, zero_shot=[])
    if data.dataset == "files":
        alone = dataclasses.replace(alone, **{name: direction_files(getattr(data, name), direction)
                                              for name in ("train", "valid", "test")})
        if zero_shot:
            return {"train": None, "valid": load_split(alone.valid, alone, "valid", True),
                    "test": load_split(alone.test, alone, "test", False)}
    return load_splits(alone, seed=seed)


def direction_files(files: Any, direction: Direction) -> Any:
    """A split's file names (``data.train`` ...) for one direction: ``{src}`` and ``{tgt}`` replaced by its
    languages (``train.{src}-{tgt}.{src}`` -> ``train.en-de.en``)."""
    def fill(path: str | None) -> str | None:
        return None if path is None else path.replace("{src}", direction.src).replace("{tgt}", direction.tgt)

    return dataclasses.replace(files, src=fill(files.src), tgt=fill(files.tgt), tsv=fill(files.tsv))


def _builtin(data: Any, plan: DirectionPlan) -> dict[Direction, Splits]:
    b = data.builtin
    columns = multilingual_splits(plan.languages, b.n_train, b.n_val, b.n_test, seed=b.seed)
    out: dict[Direction, Splits] = {}
    for d in plan.all:
        out[d] = {ours: _pair(columns[theirs], d, theirs, b.seed) for ours, theirs in _SPLIT_NAMES.items()}
    return out


def _pair(column: dict[str, list[str]], d: Direction, split: str, seed: int) -> ParallelCorpus:
    return ParallelCorpus(list(column[d.src]), list(column[d.tgt]), {},
                          f"built-in synthetic corpus {d.name} ({split}, n={len(column[d.src])}, seed={seed})")
