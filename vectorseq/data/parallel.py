"""Reading and validating parallel text: the first stage of every vectorseq pipeline.

A *parallel corpus* is a list of sentence pairs: line ``i`` of the source file translates line ``i`` of the
target file. This module reads such corpora from

* two aligned text files, one sentence per line (:func:`read_parallel`), or
* one tab-separated file with a source column and a target column (:func:`read_tsv`),

and returns a :class:`ParallelCorpus`. It also streams single-language files (:func:`read_monolingual`),
for instance to train word embeddings on in-domain text.

Every reader

* accepts plain text or gzip, detected by the file's first two bytes (the gzip magic number ``1f 8b``),
  not by its name, so a ``.gz`` file that was already decompressed (or an unnamed gzip) still works;
* decodes strictly as UTF-8, line by line, so a bad byte is reported with its line and byte offset
  instead of surfacing as a raw ``UnicodeDecodeError`` (a UTF-8 byte-order mark at the start is dropped);
* splits lines on ``\\n`` only, strips the line ending (``\\n`` or ``\\r\\n``) and surrounding whitespace, and
  keeps the text inside the line unchanged;
* streams the files: it holds only the kept sentences in memory, never a whole file.

The lines come from :mod:`vectorseq.data.lines` and the pairs from :class:`~vectorseq.data.pairs.PairReader`,
the same reader the streaming path uses, so both accept and reject exactly the same pairs.

Validation
----------
Each problem raises :class:`~vectorseq.errors.DataError` whose one-line message names the file, the
1-based line and the fix, e.g.::

    data/train.de:17: line 17 is empty in data/train.de (data/train.en has text); ...

With ``on_error="skip"`` a bad pair is dropped instead and counted in :attr:`ParallelCorpus.skipped`
under its reason:

========================  ==================================================================
reason                    what is wrong with the pair
========================  ==================================================================
``"empty"``               a side is empty after stripping (and ``min_length >= 1``)
``"too_short"``           a side has fewer than ``min_length`` whitespace tokens (but is not empty)
``"too_long"``            a side has more than ``max_length`` whitespace tokens
``"length_ratio"``        the longer side has more than ``max_length_ratio`` times the tokens of the shorter
``"invalid_utf8"``        a side is not valid UTF-8
``"bad_columns"``         (TSV only) the row has a different number of columns from the others
========================  ==================================================================

Two problems are never skipped, because skipping cannot repair them: source and target files with
different numbers of lines (every pair after the first missing line would be misaligned), and a file
that is missing or is not readable at all. When a per-pair problem is found in ``"raise"`` mode and the
two files also differ in length, the line-count mismatch is reported, since it is usually the cause.

Lengths are counted in whitespace tokens (``len(text.split())``), before any subword segmentation.
"""
from __future__ import annotations

from collections.abc import Iterator

from vectorseq.data.corpus import ParallelCorpus
from vectorseq.data.lines import PathLike, iter_lines, open_binary
from vectorseq.data.pairs import SKIP_REASONS, PairReader, new_stats
from vectorseq.errors import DataError

__all__ = ["ParallelCorpus", "read_parallel", "read_tsv", "read_monolingual", "SKIP_REASONS"]


def _read_all(reader: PairReader) -> ParallelCorpus:
    """Every valid pair of ``reader``, in file order, with the skipped pairs counted by reason."""
    stats = new_stats()
    srcs: list[str] = []
    tgts: list[str] = []
    for _line, s, t in reader.pairs(stats=stats):
        srcs.append(s)
        tgts.append(t)
    return ParallelCorpus(srcs, tgts, stats["skipped"], reader.source)


def read_parallel(
    src_path: PathLike,
    tgt_path: PathLike,
    *,
    on_error: str = "raise",
    max_length: int | None = None,
    max_length_ratio: float | None = None,
    min_length: int = 1,
    max_chars: int | None = None,
) -> ParallelCorpus:
    """Read two aligned files (one sentence per line, plain text or gzip) into a :class:`ParallelCorpus`.

    Args:
        src_path: the source-language file.
        tgt_path: the target-language file; line ``i`` translates line ``i`` of ``src_path``.
        on_error: ``"raise"`` (default) stops at the first bad pair with a :class:`DataError` naming the
            file, the line and the fix; ``"skip"`` drops bad pairs and counts them by reason in
            ``corpus.skipped``. Different line counts always raise.
        max_length: if set, a pair with more than this many whitespace tokens on either side is bad
            (``"too_long"``).
        max_length_ratio: if set, a pair whose longer side has more than this many times the tokens of
            its shorter side is bad (``"length_ratio"``); e.g. ``2.5``.
        min_length: a side with fewer tokens is bad. The default 1 rejects empty lines (``"empty"``);
            0 accepts them.
        max_chars: if set, a pair with more than this many characters on either side is bad
            (``"too_long"``), whatever its tokens (a long line without spaces is one whitespace token).

    Returns:
        The pairs that passed, in file order; ``source`` is ``"SRC + TGT"``.

    Raises:
        DataError: missing/unreadable file, different line counts, corrupt gzip, or (in ``"raise"``
            mode) a bad pair.
        ConfigError: an invalid option value.

    Example::

        corpus = read_parallel("train.en.gz", "train.de.gz", max_length=100, on_error="skip")
        print(len(corpus), corpus.skipped)   # 28990 {'too_long': 10}
    """
    return _read_all(PairReader(src_path, tgt_path, on_error=on_error, max_length=max_length,
                                max_length_ratio=max_length_ratio, min_length=min_length, max_chars=max_chars,
                                owner="read_parallel"))


def read_tsv(
    path: PathLike,
    src_column: int = 0,
    tgt_column: int = 1,
    *,
    n_columns: int | None = None,
    skip_header: bool = False,
    on_error: str = "raise",
    max_length: int | None = None,
    max_length_ratio: float | None = None,
    min_length: int = 1,
    max_chars: int | None = None,
) -> ParallelCorpus:
    """Read a tab-separated file (plain or gzip) with one pair per row into a :class:`ParallelCorpus`.

    Each row is split on tab characters after removing its line ending; each field is then stripped of
    surrounding whitespace. Blank rows count as empty pairs.

    Args:
        path: the TSV file.
        src_column, tgt_column: 0-based indices of the source and target columns.
        n_columns: the number of columns every row must have. ``None`` (default) takes it from the first
            non-blank row. A row with a different count (often a tab inside a sentence) is bad
            (``"bad_columns"``).
        skip_header: ignore the first line (a header row). Line numbers in messages still count it.
        on_error, max_length, max_length_ratio, min_length: as in :func:`read_parallel`.

    Returns:
        The pairs that passed, in file order; ``source`` is ``"FILE (columns S, T)"``.

    Raises:
        DataError: missing/unreadable file, a row with the wrong number of columns (in ``"raise"`` mode),
            a bad pair (in ``"raise"`` mode), or rows too narrow for the requested columns.
        ConfigError: an invalid option value.
    """
    return _read_all(PairReader(tsv=path, src_column=src_column, tgt_column=tgt_column, n_columns=n_columns,
                                skip_header=skip_header, on_error=on_error, max_length=max_length,
                                max_length_ratio=max_length_ratio, min_length=min_length, max_chars=max_chars,
                                owner="read_tsv"))


def read_monolingual(path: PathLike, *, skip_empty: bool = True) -> Iterator[str]:
    """Stream the stripped lines of one file (plain or gzip), e.g. to train embeddings.

    The file is opened (and a missing file reported) when this function is called; lines are then read
    lazily, one at a time, so arbitrarily large files use constant memory. Iterate it again by calling
    the function again.

    Args:
        path: the file, one sentence (or document) per line.
        skip_empty: drop lines that are empty after stripping (default True).

    Yields:
        Each line with its line ending and surrounding whitespace removed.

    Raises:
        DataError: the file is missing or unreadable (at call time), or a line is not valid UTF-8 or the
            gzip data is corrupt (while iterating), naming the file and the line.
    """
    open_binary(path).close()  # fail now, not at the first next(), if the file is missing
    return _monolingual_lines(path, skip_empty)


def _monolingual_lines(path: PathLike, skip_empty: bool) -> Iterator[str]:
    for line in iter_lines(path):
        if line.error is not None:
            raise DataError(line.error, str(path), line.number)
        if skip_empty and not line.text:
            continue
        yield line.text
