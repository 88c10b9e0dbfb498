"""Uniform samples of lines and of sentence pairs, in one pass over files larger than memory.

:func:`sample_lines` draws a uniform sample of ``n`` lines in one pass with reservoir sampling
(Algorithm R, memory O(n)); :func:`adapt_on_sample` adapts a vectorizer on it. :func:`sample_pairs`
samples aligned, validated pairs (a :class:`~vectorseq.data.corpus.ParallelCorpus`), e.g. for a
trainer that adapts source and target vectorizers and computes token statistics on the same sample.
Word and character vectorizers could also ``adapt`` on the full stream (their memory grows with the
vocabulary only), but SentencePiece trains on every line it gets, in memory, so a sample is what keeps
it bounded. The default, 1,000,000 sentences, is a compromise: big enough that every token frequent
enough for an 8k-32k vocabulary is seen many times, small enough for SentencePiece to train on in a
few hundred MB. (How much the vocabulary differs from one adapted on everything was not measured.)
"""
from __future__ import annotations

import os
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Union

from vectorseq.data.corpus import ParallelCorpus
from vectorseq.data.lines import PathLike, iter_lines, open_binary
from vectorseq.data.options import check_int
from vectorseq.data.pairs import PairReader, new_stats

__all__ = ["sample_lines", "sample_pairs", "adapt_on_sample", "DEFAULT_ADAPT_SAMPLE"]

#: Lines :func:`adapt_on_sample` samples by default.
DEFAULT_ADAPT_SAMPLE = 1_000_000

Source = Union[PathLike, tuple[PathLike, int]]


def _source_lines(source: Source) -> Iterator[str]:
    """Non-empty, valid lines of one source: a file, or ``(tsv_file, column)`` for one TSV column."""
    if isinstance(source, tuple):
        path, column = source
        check_int("column", column, 0)
    else:
        path, column = source, None
    open_binary(path).close()
    lines = iter_lines(path, strip=column is None)
    try:
        for line in lines:
            if line.error is not None:  # a sample for a vocabulary: bad lines are simply left out
                continue
            text = line.text
            if column is not None:
                fields = text.split("\t")
                if column >= len(fields):
                    continue
                text = fields[column].strip()
            if text:
                yield text
    finally:
        lines.close()


def _reservoir(items: Iterable[Any], n: int, seed: int) -> tuple[list[Any], int]:
    """Algorithm R over ``items``: ``(sample in stream order, number of items seen)``."""
    rng = random.Random(seed)
    reservoir: list[tuple[int, Any]] = []
    i = 0
    for item in items:
        if i < n:
            reservoir.append((i, item))
        else:
            j = rng.randrange(i + 1)
            if j < n:
                reservoir[j] = (i, item)
        i += 1
    reservoir.sort(key=lambda x: x[0])
    return [item for _, item in reservoir], i


def sample_lines(sources: Source | Sequence[Source], n: int, seed: int = 0) -> list[str]:
    """A uniform random sample of ``n`` lines from one or more files, in one pass (Algorithm R).

    Reservoir sampling: the first ``n`` lines fill the reservoir; line ``i`` (0-based, ``i >= n``)
    replaces a random slot with probability ``n / (i + 1)``. Every line ends up in the sample with the
    same probability ``n / N`` whatever the stream length ``N``, memory is O(n) and the files are read
    once. With several sources the sample is drawn from their concatenation. Empty lines and lines that
    are not valid UTF-8 are left out (they are not text to learn a vocabulary from). Fewer than ``n``
    lines in all: every line is returned.

    Args:
        sources: a path (plain or gzip), a ``(tsv_path, column)`` pair for one column of a TSV file, or a
            list of them.
        n: sample size.
        seed: the sample depends only on ``seed`` and the stream (``random.Random(seed)``).

    Returns:
        The sampled lines, stripped, in stream order.
    """
    n = check_int("n", n, 0)
    if isinstance(sources, (str, os.PathLike, tuple)):
        sources = [sources]
    lines = (text for source in sources for text in _source_lines(source))
    return _reservoir(lines, n, seed)[0]


def sample_pairs(
    src_path: PathLike | None = None,
    tgt_path: PathLike | None = None,
    n: int = DEFAULT_ADAPT_SAMPLE,
    seed: int = 0,
    *,
    tsv: PathLike | None = None,
    src_column: int = 0,
    tgt_column: int = 1,
    n_columns: int | None = None,
    skip_header: bool = False,
    max_length: int | None = None,
    max_length_ratio: float | None = None,
    min_length: int = 1,
    on_error: str = "skip",
    max_chars: int | None = None,
) -> ParallelCorpus:
    """A uniform sample of ``n`` valid sentence *pairs* (Algorithm R, one pass, memory O(n)).

    The pass reads and validates every line exactly as :class:`StreamingBatches` does (same arguments,
    same DataErrors), so it doubles as a check of the whole corpus before training: a misaligned file or,
    with ``on_error="raise"``, a bad pair fails here. ``skipped`` of the result counts the bad pairs of the
    whole corpus. The sample (in file order) can stand in for the training set wherever a training run
    needs all of it in memory: adapting the vectorizers, token counts, IDF weights.
    """
    n = check_int("n", n, 0)
    reader = PairReader(src_path, tgt_path, tsv=tsv, src_column=src_column, tgt_column=tgt_column,
                        n_columns=n_columns, skip_header=skip_header, max_length=max_length,
                        max_length_ratio=max_length_ratio, min_length=min_length, on_error=on_error,
                        max_chars=max_chars, owner="sample_pairs")
    stats = new_stats()
    sample, total = _reservoir(((s, t) for _, s, t in reader.pairs(stats=stats)), n, seed)
    label = f"reservoir sample of {len(sample)} of {total} pairs, seed {seed}"
    return ParallelCorpus([s for s, _ in sample], [t for _, t in sample], dict(stats["skipped"]),
                          f"{reader.source} [{label}]", pairs_read=total)


def adapt_on_sample(vectorizer: Any, paths: Source | Sequence[Source], n: int | None = DEFAULT_ADAPT_SAMPLE,
                    seed: int = 0) -> Any:
    """Adapt ``vectorizer`` on a reservoir sample of ``n`` lines of ``paths``; returns the vectorizer.

    The default ``n`` is 1,000,000 lines (:data:`DEFAULT_ADAPT_SAMPLE`) in all (for a shared vocabulary
    pass both sides' files: the sample is drawn from their concatenation, so each side gets its share).
    ``n=None`` streams every line instead (exact counts; fine for word / character splits, whose memory
    grows with the vocabulary only, but SentencePiece would then train on the whole corpus in memory).
    """
    if n is None:
        if isinstance(paths, (str, os.PathLike, tuple)):
            paths = [paths]
        return vectorizer.adapt(text for source in paths for text in _source_lines(source))
    return vectorizer.adapt(sample_lines(paths, n, seed))
