"""Pretrained word vectors -> an embedding matrix aligned with a vocabulary: :func:`build_matrix`.

:func:`build_matrix` turns a file of pretrained vectors (or a named source) into a ``[V, dim]`` float32
matrix whose row ``i`` belongs to ``vocabulary[i]``, in stages: check the options, look in the cache
(:mod:`vectorseq.embeddings.cache`), detect the format and read the vectors of the wanted words
(:mod:`vectorseq.embeddings.vectors_io`, :mod:`vectorseq.embeddings.scan`), match every vocabulary entry,
fill the rows without a vector, and cache the result. The embedding factory only initializes its tables
from the :class:`PretrainedMatrix`.

Matching and OOV rows
---------------------
For every vocabulary entry: an exact match; else the fallbacks in the order given (default
``("lower", "title", "upper")``: ``w.lower()``, ``w.capitalize()`` (first letter upper, the rest
lower), ``w.upper()``; :func:`lookup_forms`, which the vocabulary extension shares); else, for fastText
``.bin``, the subword vector (gensim's ``wv[word]``); else a random row. Random rows are drawn from a
normal with the per-dimension mean and std of the pretrained rows that matched (or, when fewer than
:data:`MIN_ROWS_FOR_MOMENTS` matched, of the first :data:`~vectorseq.embeddings.scan.SAMPLE_SIZE`
vectors of the file) -- never all zeros. ``oov="zeros"`` or ``oov="mean"`` choose all-zero rows or the
mean vector instead.

Specials are never looked up: the padding token (``pad_token``, default ``"<pad>"``) is all zeros
(``how="pad"``); the other specials (``<unk>``, ``<s>``, ``</s>``) get random rows from the same
distribution (``how="special"``), so that they are distinguishable from each other and from words.
(fastText models contain a ``</s>`` vector; it is deliberately not used: our ``</s>`` means
end-of-target-sentence, fastText's means newline.)

Cache
-----
The built matrix is cached (see :mod:`vectorseq.embeddings.cache`; ``cache_dir=False`` disables it). A
hit does not open the vectors file at all (``PretrainedMatrix.from_cache`` is True).
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vectorseq.errors import ConfigError, DataError

from .cache import cache_key, default_cache_dir, load_cached, save_cached
from .coverage import COVERED, coverage_report
from .scan import Scan, scan_vectors
from .vectors_io import canonical_format, detect_format, read_word_list

__all__ = ["DEFAULT_FALLBACKS", "MIN_ROWS_FOR_MOMENTS", "PretrainedMatrix", "build_matrix", "lookup_forms",
           "words_in"]

#: Case fallbacks, in the order training tries them when a word has no vector of its own.
DEFAULT_FALLBACKS = ("lower", "title", "upper")
_FALLBACKS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "title": str.capitalize,
    "upper": str.upper,
}
_OOV_MODES = ("random", "zeros", "mean")
#: Fewer matched rows than this: the OOV distribution comes from the first SAMPLE_SIZE vectors.
MIN_ROWS_FOR_MOMENTS = 100


@dataclass
class PretrainedMatrix:
    """An embedding matrix aligned with a vocabulary, and how each row was obtained.

    Attributes:
        matrix: float32 ``[V, dim]``; row ``i`` belongs to ``vocabulary[i]``.
        how: per row, one of ``"exact"``, ``"lower"``, ``"title"``, ``"upper"`` (matched through
            that fallback), ``"subword"`` (fastText n-grams), ``"random"`` (OOV, random),
            ``"zeros"`` / ``"mean"`` (OOV with ``oov="zeros"`` / ``"mean"``), ``"special"``
            (a special token, random) or ``"pad"`` (the padding token, all zeros).
        pretrained_mask: bool ``[V]``, True for rows that came from the vectors
            (exact / fallback / subword) -- the rows a factory may freeze.
        dim: vector dimension.
        source: the path or the name the matrix was built from.
        format: the detected (or forced) format, one of :data:`~vectorseq.embeddings.vectors_io.FORMATS`.
        from_cache: True when the matrix was read from the cache without opening the vectors.
        vocabulary: the vocabulary the rows are aligned with.
        stats: ``vectors`` (number of vectors in the file, counted while streaming),
            ``skipped`` (reason -> count, with ``on_error="skip"``), ``compression``,
            ``header`` (text formats), ``moments_from`` (``"matched"`` or ``"sample"``),
            ``oov_mean`` / ``oov_std`` (the distribution random rows were drawn from).
    """

    matrix: np.ndarray
    how: list[str]
    pretrained_mask: np.ndarray
    dim: int
    source: str
    format: str
    from_cache: bool = False
    vocabulary: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def coverage(self, counts: Mapping[str, int] | None = None) -> dict:
        """The :func:`coverage_report` of this matrix (token coverage needs ``counts``)."""
        return coverage_report(self.vocabulary, self, counts)

    def as_tensor(self):
        """The matrix as a ``torch.FloatTensor`` (shares memory with :attr:`matrix`)."""
        return torch.from_numpy(self.matrix)


def lookup_forms(word: str, fallbacks: Sequence[str] = DEFAULT_FALLBACKS) -> Iterator[tuple[str, str]]:
    """``(how, form)`` in matching order: the word itself (``"exact"``), then each fallback form
    (``"lower"``, ``"title"``, ``"upper"``) that differs from the word."""
    yield "exact", word
    for fb in fallbacks:
        form = _FALLBACKS[fb](word)
        if form != word:
            yield fb, form


def words_in(vocabulary: Any) -> list[str]:
    """The words of a vocabulary: a list of strings, a vocabulary file, or an object with ``get_vocabulary()``."""
    if hasattr(vocabulary, "get_vocabulary"):
        vocabulary = vocabulary.get_vocabulary()
    if isinstance(vocabulary, (str, os.PathLike)):
        vocabulary, _ = read_word_list(vocabulary)
    words = list(vocabulary)
    for w in words:
        if not isinstance(w, str):
            raise ConfigError(f"the vocabulary must be a list of strings, got {type(w).__name__} {w!r}")
    return words


# --------------------------------------------------------------------------------------------
# The stages of build_matrix
# --------------------------------------------------------------------------------------------
def _check_options(fallbacks: tuple[str, ...], oov: str, on_error: str, validate: str) -> None:
    for fb in fallbacks:
        if fb not in _FALLBACKS:
            raise ConfigError(f"unknown fallback {fb!r}: use any of {', '.join(_FALLBACKS)}")
    if oov not in _OOV_MODES:
        raise ConfigError(f"unknown oov mode {oov!r}: use one of {', '.join(_OOV_MODES)}")
    if on_error not in ("raise", "skip"):
        raise ConfigError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if validate not in ("matched", "all"):
        raise ConfigError(f"validate must be 'matched' or 'all', got {validate!r}")


def _cache_slot(cache_dir: Any, source: str, fmt: str, words: Any, vocab: list[str],
                options: dict) -> tuple[Path | None, str]:
    """The cache folder and this matrix's key (``""``: no caching)."""
    if cache_dir is False:
        return None, ""
    directory = default_cache_dir() if cache_dir is None or cache_dir is True else Path(cache_dir)
    try:
        return directory, cache_key(source, fmt, words, vocab, options)
    except OSError:
        return directory, ""  # missing file: detect_format reports it


def _from_cache(directory: Path, key: str, vocab: list[str]) -> PretrainedMatrix | None:
    hit = load_cached(directory, key, len(vocab))
    if hit is None:
        return None
    matrix, meta = hit
    how = list(meta["how"])
    return PretrainedMatrix(
        matrix=matrix, how=how, pretrained_mask=np.array([h in COVERED for h in how], dtype=bool),
        dim=int(meta["dim"]), source=meta["source"], format=meta["format"], from_cache=True,
        vocabulary=list(vocab), stats=meta.get("stats", {}))


def _wanted(vocab: list[str], special_set: set[str], fallbacks: tuple[str, ...]) -> set[bytes]:
    """Every non-special word and its fallback forms, UTF-8 encoded: what the scan keeps."""
    return {form.encode("utf-8") for w in vocab if w not in special_set for _, form in lookup_forms(w, fallbacks)}


def _match_rows(vocab: list[str], scan: Scan, special_set: set[str], pad_token: str | None,
                fallbacks: tuple[str, ...], oov: str) -> tuple[np.ndarray, list[str]]:
    """The matrix with every matched row filled in, and how each row was (or will be) obtained."""
    matrix = np.zeros((len(vocab), scan.dim), dtype=np.float32)
    how: list[str] = [""] * len(vocab)
    for i, w in enumerate(vocab):
        if w in special_set:
            how[i] = "pad" if w == pad_token else "special"
            continue
        for kind, form in lookup_forms(w, fallbacks):
            vec = scan.found.get(form.encode("utf-8"))
            if vec is not None:
                matrix[i] = vec
                how[i] = kind
                break
        else:
            vec = scan.subword(w) if scan.subword is not None else None
            if vec is not None:
                matrix[i] = vec
                how[i] = "subword"
            else:
                how[i] = "random" if oov == "random" else oov
    scan.found.clear()  # the matched vectors now live in the matrix
    return matrix, how


def _moments(rows: np.ndarray, index: np.ndarray | None = None, block: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std (float64) of ``rows[index]``, computed in blocks (no big temporaries).

    A dimension with std 0 gets the mean std of the others; if every std is 0 (a single vector),
    std = 0.1 x the mean absolute value (1 if that is 0 too), so random rows are never constant.
    """
    dim = rows.shape[1]
    idx = np.arange(len(rows)) if index is None else np.asarray(index)
    if len(idx) == 0:
        return np.zeros(dim, np.float64), np.full(dim, 1.0 / math.sqrt(max(dim, 1)))
    total = np.zeros(dim, np.float64)
    for start in range(0, len(idx), block):
        total += rows[idx[start : start + block]].sum(axis=0, dtype=np.float64)
    mean = total / len(idx)
    sq = np.zeros(dim, np.float64)
    absum = 0.0
    for start in range(0, len(idx), block):
        dev = rows[idx[start : start + block]].astype(np.float64) - mean
        sq += (dev * dev).sum(axis=0)
        absum += float(np.abs(dev + mean).sum())
    std = np.sqrt(sq / len(idx))
    if not (std > 0).any():
        scale = absum / (len(idx) * dim)
        std = np.full(dim, 0.1 * (scale if scale > 0 else 1.0))
    else:
        std = np.where(std > 0, std, std[std > 0].mean())
    return mean, std



def _oov_moments(matrix: np.ndarray, how: list[str], sample: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, str]:
    """The distribution of random rows: of the matched rows, or of the file's sample when few matched."""
    matched = np.flatnonzero([h in COVERED and h != "subword" for h in how])
    if len(matched) >= MIN_ROWS_FOR_MOMENTS or len(sample) <= len(matched):
        return (*_moments(matrix, matched), "matched")
    return (*_moments(np.stack(sample)), "sample")


def _fill_oov_rows(matrix: np.ndarray, how: list[str], mean: np.ndarray, std: np.ndarray, seed: int) -> None:
    """Random rows (OOV words with ``oov="random"``, specials) and mean rows (``oov="mean"``)."""
    rand_rows = np.flatnonzero([h in ("random", "special") for h in how])
    if len(rand_rows):
        # Drawn in row order, in blocks of float32 (same numbers whatever the block size).
        rng = np.random.default_rng(seed)
        mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
        for start in range(0, len(rand_rows), 4096):
            rows = rand_rows[start : start + 4096]
            matrix[rows] = rng.standard_normal((len(rows), matrix.shape[1]), dtype=np.float32) * std32 + mean32
    mean_rows = [i for i, h in enumerate(how) if h == "mean"]
    if mean_rows:
        matrix[mean_rows] = mean.astype(np.float32)


def _stats(scan: Scan, info: Any, moments_from: str, mean: np.ndarray, std: np.ndarray) -> dict[str, Any]:
    return {
        "vectors": int(scan.vectors),
        "skipped": dict(sorted(scan.skipped.items())),
        "compression": info.compression,
        "header": info.header,
        "moments_from": moments_from,
        "oov_mean": [float(x) for x in mean],
        "oov_std": [float(x) for x in std],
        **scan.extra,
    }


# --------------------------------------------------------------------------------------------
# build_matrix
# --------------------------------------------------------------------------------------------
def build_matrix(
    source: str | os.PathLike,
    vocabulary: Sequence[str] | Any,
    *,
    specials: Sequence[str] = ("<pad>", "<unk>", "<s>", "</s>"),
    pad_token: str | None = "<pad>",
    fallbacks: Sequence[str] = DEFAULT_FALLBACKS,
    oov: str = "random",
    on_error: str = "raise",
    validate: str = "matched",
    cache_dir: str | os.PathLike | None | bool = None,
    seed: int = 0,
    format: str = "auto",
    words: str | os.PathLike | None = None,
) -> PretrainedMatrix:
    """Build a ``[len(vocabulary), dim]`` float32 matrix from pretrained vectors.

    Args:
        source: a vectors file (GloVe / word2vec / fastText ``.vec`` text, gzip of those, word2vec
            binary, fastText ``.bin``, ``X.npy`` with a word list) or a named source
            (``"glove-6b-50d"``).
        vocabulary: the words, index = row (a list, a vocabulary file path, or any object with
            ``get_vocabulary()`` such as a ``TextVectorizer``).
        specials: tokens that are never looked up: ``pad_token`` gets zeros, the others random
            rows (see the module docstring).
        pad_token: the token whose row is all zeros (None: no such row).
        fallbacks: tried in this order when the exact word has no vector: any of ``"lower"``,
            ``"title"`` (``str.capitalize``), ``"upper"``; ``()`` disables them.
        oov: rows without a vector: ``"random"`` (normal with the pretrained per-dimension mean and
            std), ``"zeros"`` or ``"mean"``.
        on_error: ``"raise"`` a :class:`DataError` naming the line on a malformed line (wrong
            dimension, non-number, NaN/Inf, duplicate word, header count), or ``"skip"`` it and
            count it in ``stats["skipped"]`` (duplicates: the first occurrence wins).
        validate: ``"matched"`` (check matched lines fully and the others cheaply) or ``"all"``.
        cache_dir: where built matrices are cached; None = the default
            (:func:`~vectorseq.embeddings.cache.default_cache_dir`), False = off.
        seed: seed of the random rows.
        format: ``"auto"`` or an explicit format (see
            :func:`~vectorseq.embeddings.vectors_io.detect_format`).
        words: word list of an ``.npy`` source.

    Returns:
        A :class:`PretrainedMatrix`.

    Raises:
        DataError: a missing, unreadable or malformed vectors file.
        ConfigError: a bad option value.
        VectorseqError: a named source whose package is not installed.
    """
    vocab = words_in(vocabulary)
    fallbacks, specials = tuple(fallbacks), tuple(specials)
    _check_options(fallbacks, oov, on_error, validate)
    fmt = canonical_format(format)
    src = os.fspath(source)
    options = {"specials": list(specials), "pad": pad_token, "fallbacks": list(fallbacks), "oov": oov,
               "on_error": on_error, "validate": validate, "seed": int(seed)}
    directory, key = _cache_slot(cache_dir, src, fmt, words, vocab, options)
    hit = _from_cache(directory, key, vocab) if key else None
    if hit is not None:
        return hit

    info = detect_format(src, format=fmt, words=words)
    special_set = set(specials) | ({pad_token} if pad_token is not None else set())
    scan = scan_vectors(info, _wanted(vocab, special_set, fallbacks), on_error, validate)
    if scan.vectors == 0 and not scan.found:
        raise DataError("the file contains no usable vectors", info.path or info.source)
    matrix, how = _match_rows(vocab, scan, special_set, pad_token, fallbacks, oov)
    mean, std, moments_from = _oov_moments(matrix, how, scan.sample)
    _fill_oov_rows(matrix, how, mean, std, seed)

    pm = PretrainedMatrix(
        matrix=matrix, how=how, pretrained_mask=np.array([h in COVERED for h in how], dtype=bool),
        dim=scan.dim, source=info.source, format=info.format, from_cache=False, vocabulary=vocab,
        stats=_stats(scan, info, moments_from, mean, std))
    if key:
        save_cached(directory, key, pm.matrix,
                    {"dim": pm.dim, "source": pm.source, "format": pm.format, "how": pm.how, "stats": pm.stats})
    return pm
