"""The one loader of the data stage: the train / valid / test splits that a config's ``data`` section names.

Three datasets sit behind it, chosen by ``data.dataset``:

* ``builtin`` -- the generated English -> X corpus (:func:`~vectorseq.data.synthetic.builtin_splits`);
* ``multi30k`` -- the Multi30k benchmark (:func:`~vectorseq.data.multi30k.load_multi30k`);
* ``files`` -- the user's files: two aligned files or one TSV file per split
  (:func:`~vectorseq.data.parallel.read_parallel` / :func:`~vectorseq.data.parallel.read_tsv`).

:func:`load_splits` returns all three splits in memory. When the training files are streamed
(``data.streaming``) they are never loaded; the trainer then reads only the validation and test splits,
each with :func:`load_split`.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from vectorseq.data.corpus import ParallelCorpus
from vectorseq.data.multi30k import load_multi30k
from vectorseq.data.parallel import read_parallel, read_tsv
from vectorseq.data.synthetic import builtin_splits
from vectorseq.errors import ConfigError, did_you_mean

__all__ = ["load_splits", "load_split", "DATASETS"]

Splits = dict[str, "ParallelCorpus | None"]


def load_splits(data: Any, seed: int = 0) -> Splits:
    """Return ``{"train": ParallelCorpus, "valid": ..., "test": ... or None}`` for a DataConfig.

    The training subset (``data.subset``) is taken here so every strategy of a comparison sees exactly the
    same pairs for the same seed.
    """
    data = _the_direction(data)
    loader = DATASETS.get(data.dataset)
    if loader is None:
        close = did_you_mean(data.dataset, DATASETS)
        hint = f"; did you mean {close!r}?" if close else ""
        raise ConfigError(f"data.dataset: unknown dataset {data.dataset!r}{hint} (choose from {', '.join(DATASETS)})")
    splits = loader(data)
    if data.subset:
        splits["train"] = splits["train"].subset(data.subset, mode=data.subset_mode, seed=seed)
    return splits


def _the_direction(data: Any) -> Any:
    """``data`` with a one-entry ``data.directions`` (a bilingual model) as its src_lang / tgt_lang; several
    directions are read by :func:`vectorseq.data.multilingual.load_direction_splits`."""
    directions = getattr(data, "directions", None)
    if not directions:
        return data
    if len(directions) + len(getattr(data, "zero_shot", [])) > 1:
        raise ConfigError(f"data.directions {directions}: several directions are loaded per direction "
                          "(vectorseq.data.multilingual.load_direction_splits), not as one pair of splits")
    src, tgt = directions[0].split("-")
    return dataclasses.replace(data, src_lang=src, tgt_lang=tgt, directions=None)


def load_split(files: Any, data: Any, name: str, required: bool = True) -> ParallelCorpus | None:
    """Read one split of ``data.dataset: files``: ``files.tsv``, or the aligned ``files.src`` and ``files.tgt``.

    ``files`` is the split's FilesConfig (``data.train``, ``data.valid`` or ``data.test``), ``name`` its name
    in messages; ``data.on_error`` and ``data.max_length`` apply. A split without files is None, or a
    ConfigError when ``required``.
    """
    options = dict(on_error=data.on_error, max_length=data.max_length, max_chars=data.max_chars)
    if files.tsv:
        return read_tsv(files.tsv, **options)
    if files.src and files.tgt:
        return read_parallel(files.src, files.tgt, **options)
    if required:
        raise ConfigError(f"data.{name}: give src and tgt files (or tsv)")
    return None


def _builtin(data: Any) -> Splits:
    b = data.builtin
    splits = builtin_splits(n_train=b.n_train, n_val=b.n_val, n_test=b.n_test, seed=b.seed, tgt_lang=data.tgt_lang)
    return {"train": splits["train"], "valid": splits["val"], "test": splits.get("test")}


def _multi30k(data: Any) -> Splits:
    def get(split: str) -> ParallelCorpus:
        return load_multi30k(split, src_lang=data.src_lang, tgt_lang=data.tgt_lang, data_dir=data.data_dir)

    train = get("train")
    if data.max_length:  # multi30k is clean; only the length limit applies, to the training pairs
        _drop_longer(train, data.max_length)
    return {"train": train, "valid": get("val"), "test": get(data.test_split)}


def _files(data: Any) -> Splits:
    return {"train": load_split(data.train, data, "train", True),
            "valid": load_split(data.valid, data, "valid", True),
            "test": load_split(data.test, data, "test", False)}


def _drop_longer(corpus: ParallelCorpus, max_length: int) -> None:
    """Drop, in place, the pairs with more than ``max_length`` whitespace tokens on either side."""
    keep = [i for i in range(len(corpus))
            if len(corpus.src[i].split()) <= max_length and len(corpus.tgt[i].split()) <= max_length]
    if len(keep) < len(corpus):
        corpus.src = [corpus.src[i] for i in keep]
        corpus.tgt = [corpus.tgt[i] for i in keep]

#: The datasets ``data.dataset`` can name, each with the function that loads its splits.
DATASETS: dict[str, Callable[[Any], Splits]] = {"builtin": _builtin, "multi30k": _multi30k, "files": _files}
