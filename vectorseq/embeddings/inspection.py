"""Describe a vectors source and how well it covers a vocabulary or corpus (``vectorseq embeddings inspect``).

(Separate from :mod:`vectorseq.embeddings.coverage` because it builds a matrix, and
:class:`~vectorseq.embeddings.matrix.PretrainedMatrix` itself reports its coverage: keeping the two apart
keeps the imports one-way.)
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from vectorseq.errors import DataError

from .coverage import coverage_report
from .matrix import build_matrix, words_in
from .vectors_io import open_text, read_word_list

__all__ = ["inspect_vectors"]


def _read_texts(texts: Iterable[str] | str | os.PathLike) -> Iterator[str]:
    if isinstance(texts, (str, os.PathLike)):
        p = Path(texts)
        if not p.is_file():
            raise DataError("text file not found (a str is read as a path: pass a list of strings for texts)", str(p))
        with open_text(p) as f:
            yield from f
    else:
        yield from texts


def inspect_vectors(
    source: str | os.PathLike,
    texts: Iterable[str] | str | os.PathLike | None = None,
    vocabulary: Sequence[str] | str | os.PathLike | None = None,
    tokenize: Callable[[str], list[str]] = str.split,
    *,
    format: str = "auto",
    words: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None | bool = None,
    on_error: str = "raise",
    validate: str = "matched",
) -> dict:
    """Describe a vectors source and how well it covers a vocabulary / corpus (``vectorseq embeddings inspect``).

    Args:
        source: as for :func:`build_matrix`.
        texts: a corpus (an iterable of strings, or a path -- a ``str`` is a path -- to a text or
            ``.gz`` file, one sentence per line): its token counts weight the coverage, and its
            types (most frequent first) are the vocabulary when ``vocabulary`` is None.
        vocabulary: a list of words or a vocabulary file (see :func:`read_word_list`; its counts are
            used when there are no texts).
        tokenize: how ``texts`` are split into tokens (default ``str.split``).

    Returns:
        ``{"source", "format", "compression", "header", "dim", "vectors", "skipped", "coverage"}``
        where ``vectors`` is the number of vectors in the file (counted while streaming) and
        ``coverage`` is a :func:`coverage_report` (None when neither texts nor vocabulary are given).
    """
    counts: Counter | None = None
    if texts is not None:
        counts = Counter()
        for text in _read_texts(texts):
            counts.update(tokenize(text.rstrip("\r\n")))
    vocab: list[str]
    if vocabulary is None:
        vocab = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))] if counts else []
    elif isinstance(vocabulary, (str, os.PathLike)):
        vocab, file_counts = read_word_list(vocabulary)
        if counts is None and file_counts is not None:
            counts = Counter(file_counts)
    else:
        vocab = words_in(vocabulary)
    pm = build_matrix(source, vocab, format=format, words=words, cache_dir=cache_dir,
                      on_error=on_error, validate=validate)
    return {
        "source": pm.source,
        "format": pm.format,
        "compression": pm.stats.get("compression"),
        "header": pm.stats.get("header"),
        "dim": pm.dim,
        "vectors": pm.stats.get("vectors"),
        "skipped": pm.stats.get("skipped", {}),
        "coverage": coverage_report(vocab, pm, counts) if (vocab or counts) else None,
    }
