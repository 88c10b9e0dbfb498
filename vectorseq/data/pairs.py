"""Sentence pairs read from two aligned files or one TSV file, validated: the one pair reader of vectorseq.

:class:`PairReader` walks the lines (:func:`~vectorseq.data.lines.iter_lines`), pairs them up, checks each
pair and yields the good ones as ``(line, source, target)``. The in-memory readers
(:func:`~vectorseq.data.parallel.read_parallel`, :func:`~vectorseq.data.parallel.read_tsv`), the streaming
batches (:class:`~vectorseq.data.windowed.StreamingBatches`) and the pair sample
(:func:`~vectorseq.data.sampling.sample_pairs`) all read through it, so they accept, skip and reject exactly
the same pairs with exactly the same messages.

Each problem raises :class:`~vectorseq.errors.DataError` whose one-line message names the file, the
1-based line and the fix, e.g.::

    data/train.de:17: line 17 is empty in data/train.de (data/train.en has text); ...

With ``on_error="skip"`` a bad pair is dropped instead and counted under its reason (one of
:data:`SKIP_REASONS`, see :mod:`vectorseq.data.parallel` for the table). Source and target files with
different numbers of lines are never skipped: every pair after the first missing line would be misaligned.
When a per-pair problem is found in ``"raise"`` mode and the two files also differ in length, the
line-count mismatch is reported, since it is usually the cause.

A reader can be restricted to one *shard* of the lines (line ``i``, 0-based, belongs to shard
``i % n_shards``), which is how streaming ranks and DataLoader workers split a corpus: every shard reads the
whole file, but validates and counts only its own lines.
"""
from __future__ import annotations

from collections.abc import Iterator
from itertools import zip_longest
from typing import Any

from vectorseq.data.lines import Line, PathLike, count_file_lines, count_remaining, iter_lines, open_binary
from vectorseq.data.options import check_columns, check_read_options
from vectorseq.errors import ConfigError, DataError

__all__ = ["SKIP_REASONS", "SKIP_HINT", "PairReader", "check_pair", "mismatch_error", "count_lines", "new_stats"]

#: Every reason under which a pair can be skipped (keys of ``ParallelCorpus.skipped``).
SKIP_REASONS = ("empty", "too_short", "too_long", "length_ratio", "invalid_utf8", "bad_columns")

SKIP_HINT = "or pass on_error='skip' to drop such pairs"

#: A pair's problem: ``(reason, side at fault ("src" or "tgt"), message)``.
Problem = tuple[str, str, str]


# --------------------------------------------------------------------------------------------------------
# Checks of one pair
# --------------------------------------------------------------------------------------------------------
def _empty_problem(src: str, tgt: str, line: int, src_name: str, tgt_name: str) -> Problem:
    if not src and not tgt:
        msg, side = f"line {line} is empty in both {src_name} and {tgt_name}", "src"
    elif not src:
        msg, side = f"line {line} is empty in {src_name} ({tgt_name} has text)", "src"
    else:
        msg, side = f"line {line} is empty in {tgt_name} ({src_name} has text)", "tgt"
    return "empty", side, f"{msg}; a pair needs a sentence on both sides: fill it in or remove the pair, {SKIP_HINT}"


def _length_problem(n_src: int, n_tgt: int, line: int, src_name: str, tgt_name: str, max_length: int | None,
                    max_length_ratio: float | None, min_length: int) -> Problem | None:
    sides = ((n_src, src_name, "src"), (n_tgt, tgt_name, "tgt"))
    for n, name, side in sides:
        if n < min_length:
            return "too_short", side, (f"line {line} has {n} token(s) in {name}, fewer than min_length={min_length}; "
                                       f"lower min_length {SKIP_HINT}")
    for n, name, side in sides:
        if max_length is not None and n > max_length:
            return "too_long", side, (f"line {line} has {n} tokens in {name}, more than max_length={max_length} "
                                      f"(source {n_src}, target {n_tgt} tokens); raise max_length {SKIP_HINT}")
    if max_length_ratio is not None and min(n_src, n_tgt) > 0:
        ratio = max(n_src, n_tgt) / min(n_src, n_tgt)
        if ratio > max_length_ratio:
            return "length_ratio", "src" if n_src > n_tgt else "tgt", (
                f"line {line} has {n_src} source and {n_tgt} target tokens, a length ratio of {ratio:.2f} "
                f"above max_length_ratio={max_length_ratio} (often a sign of misaligned lines); "
                f"check the pair, raise max_length_ratio {SKIP_HINT}"
            )
    return None


def check_pair(src: str, tgt: str, line: int, src_name: str, tgt_name: str, max_length: int | None,
               max_length_ratio: float | None, min_length: int, max_chars: int | None = None) -> Problem | None:
    """Validate one decoded pair. Return ``None`` if it is fine, else ``(reason, side, message)``.

    ``side`` is ``"src"`` or ``"tgt"``: the side at fault, whose file the caller names in the error.
    ``src_name``/``tgt_name`` are how the two sides are called in the message (two file names, or the
    columns of one TSV file). Lengths are counted in whitespace tokens (``len(text.split())``), and first
    in characters when ``max_chars`` is set (a long line without spaces is one token but no sentence).
    """
    if min_length >= 1 and (not src or not tgt):
        return _empty_problem(src, tgt, line, src_name, tgt_name)
    for text, name, side in ((src, src_name, "src"), (tgt, tgt_name, "tgt")):
        if max_chars is not None and len(text) > max_chars:
            return "too_long", side, (f"line {line} has {len(text)} characters in {name}, more than "
                                      f"max_chars={max_chars}; raise data.max_chars {SKIP_HINT}")
    return _length_problem(len(src.split()), len(tgt.split()), line, src_name, tgt_name, max_length,
                           max_length_ratio, min_length)


# --------------------------------------------------------------------------------------------------------
# Misaligned files
# --------------------------------------------------------------------------------------------------------
def mismatch_error(src_path: str, n_src: int, tgt_path: str, n_tgt: int) -> DataError:
    """The error for two files with different line counts (never skipped)."""
    return DataError(
        f"{src_path} has {n_src} lines but {tgt_path} has {n_tgt}; the files must be aligned line by line "
        f"(line i of one translates line i of the other): find where they diverge and fix it "
        f"(this is never skipped, because every later pair would be misaligned)",
        src_path if n_src > n_tgt else tgt_path,
        min(n_src, n_tgt) + 1,
    )


def _ended_early(s: Line | None, t: Line | None, src_lines: Iterator[Line], tgt_lines: Iterator[Line],
                 src_name: str, tgt_name: str) -> DataError:
    """One file ended before the other: count the rest of the longer one for the message."""
    if s is None:  # the source ended at line t.number - 1
        return mismatch_error(src_name, t.number - 1, tgt_name, count_remaining(tgt_lines) or t.number)
    return mismatch_error(src_name, count_remaining(src_lines) or s.number, tgt_name, s.number - 1)


def _pair_error(side: str, message: str, s: Line, t: Line, src_lines: Iterator[Line], tgt_lines: Iterator[Line],
                src_name: str, tgt_name: str) -> DataError:
    """The DataError of a bad pair, unless the files differ in length: then the misalignment is the real
    problem (and the likely cause of this one), so that is what is reported."""
    n_src = count_remaining(src_lines) or s.number
    n_tgt = count_remaining(tgt_lines) or t.number
    if n_src != n_tgt:
        return mismatch_error(src_name, n_src, tgt_name, n_tgt)
    return DataError(message, src_name if side == "src" else tgt_name, s.number)


def count_lines(src_path: PathLike, tgt_path: PathLike | None = None) -> int:
    """Count the lines of a file (plain or gzip) cheaply, without decoding them.

    With two files, also check that they are aligned: different counts raise the same
    :class:`~vectorseq.errors.DataError` as :func:`~vectorseq.data.parallel.read_parallel`. Use it before
    a streaming run to catch a misaligned corpus before training starts, or to estimate the epoch
    length (``pairs / (world * num_workers)`` pairs per shard).
    """
    n_src = count_file_lines(src_path)
    if tgt_path is not None:
        n_tgt = count_file_lines(tgt_path)
        if n_src != n_tgt:
            raise mismatch_error(str(src_path), n_src, str(tgt_path), n_tgt)
    return n_src


# --------------------------------------------------------------------------------------------------------
# TSV rows
# --------------------------------------------------------------------------------------------------------
class _RowWidth:
    """How many columns every row of a TSV file must have: ``n_columns``, or the first non-blank row's."""

    def __init__(self, name: str, src_column: int, tgt_column: int, n_columns: int | None) -> None:
        self.name, self.src_column, self.tgt_column = name, src_column, tgt_column
        self.expected = n_columns
        self.origin = "n_columns" if n_columns is not None else None

    def learn(self, fields: list[str], line: int) -> None:
        """Take the width from this row if none is known yet (a row too narrow for the columns raises)."""
        if self.expected is not None:
            return
        needed = max(self.src_column, self.tgt_column) + 1
        if len(fields) < needed:
            raise DataError(
                f"the first row has {len(fields)} tab-separated column(s), but src_column={self.src_column} and "
                f"tgt_column={self.tgt_column} need at least {needed}; check that the file is tab-separated "
                f"and the column indices (0-based) are right", self.name, line)
        self.expected, self.origin = len(fields), f"line {line}"

    def mismatch(self, fields: list[str], line: int) -> DataError | None:
        """The error of a row with another width (often a tab inside a sentence), or None."""
        if len(fields) == self.expected:
            return None
        return DataError(
            f"line {line} has {len(fields)} tab-separated columns but {self.origin} has {self.expected}; "
            f"a tab inside a sentence or a missing field? fix the row {SKIP_HINT}", self.name, line)


# --------------------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------------------
def new_stats() -> dict[str, Any]:
    """Fresh counters for :meth:`PairReader.pairs`: ``lines`` read (of the shard) and ``skipped`` by reason."""
    return {"lines": 0, "skipped": {}}


def _count_skip(stats: dict[str, Any], reason: str) -> None:
    skipped = stats["skipped"]
    skipped[reason] = skipped.get(reason, 0) + 1


class PairReader:
    """Validated pairs of two aligned files or one TSV file, optionally restricted to one shard of the lines.

    Args:
        src_path, tgt_path: two aligned files (plain or gzip); or leave both out and give ``tsv``.
        tsv: one tab-separated file; ``src_column`` / ``tgt_column`` are 0-based column indices,
            ``n_columns`` the width every row must have (default: the first non-blank row's) and
            ``skip_header`` ignores line 1 (line numbers in messages still count it).
        max_length, max_length_ratio, min_length, on_error: the checks, see
            :func:`~vectorseq.data.parallel.read_parallel`.
        owner: the caller's name, for the message when neither files nor ``tsv`` are given.

    Options are checked and the files opened (a missing one reported) when the reader is made.
    """

    def __init__(self, src_path: PathLike | None = None, tgt_path: PathLike | None = None, *,
                 tsv: PathLike | None = None, src_column: int = 0, tgt_column: int = 1, n_columns: int | None = None,
                 skip_header: bool = False, max_length: int | None = None, max_length_ratio: float | None = None,
                 min_length: int = 1, on_error: str = "raise", owner: str = "PairReader",
                 max_chars: int | None = None) -> None:
        check_read_options(on_error, max_length, max_length_ratio, min_length)
        if max_chars is not None and (isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1):
            raise ConfigError(f"max_chars must be a positive integer or None, got {max_chars!r}")
        self.max_chars = max_chars
        if tsv is not None:
            if src_path is not None or tgt_path is not None:
                raise ConfigError("give either src_path and tgt_path, or tsv, not both")
            check_columns(src_column, tgt_column, n_columns)
        elif src_path is None or tgt_path is None:
            raise ConfigError(f"{owner} needs src_path and tgt_path (two aligned files), or tsv=")
        self.src_path, self.tgt_path, self.tsv = src_path, tgt_path, tsv
        self.src_column, self.tgt_column = src_column, tgt_column
        self.n_columns, self.skip_header = n_columns, skip_header
        self.max_length, self.max_length_ratio, self.min_length = max_length, max_length_ratio, min_length
        self.on_error = on_error
        # Fail now on a missing or unreadable file, not at the first next().
        for path in (tsv,) if tsv is not None else (src_path, tgt_path):
            open_binary(path).close()

    @property
    def source(self) -> str:
        """Where the pairs come from, for logs: ``"SRC + TGT"`` or ``"FILE (columns S, T)"``."""
        if self.tsv is not None:
            return f"{self.tsv} (columns {self.src_column}, {self.tgt_column})"
        return f"{self.src_path} + {self.tgt_path}"

    def pairs(self, shard: int = 0, n_shards: int = 1,
              stats: dict[str, Any] | None = None) -> Iterator[tuple[int, str, str]]:
        """Shard ``shard``'s valid pairs as ``(line, source, target)`` (1-based line), in file order.

        ``stats`` (see :func:`new_stats`) receives this shard's ``lines`` and ``skipped`` pairs by reason.
        """
        stats = stats if stats is not None else new_stats()
        if self.tsv is not None:
            return self._tsv_pairs(shard, n_shards, stats)
        return self._file_pairs(shard, n_shards, stats)

    def _check(self, src: str, tgt: str, line: int, src_name: str, tgt_name: str) -> Problem | None:
        return check_pair(src, tgt, line, src_name, tgt_name, self.max_length, self.max_length_ratio, self.min_length,
                          self.max_chars)

    def _bad(self, reason: str, error: DataError, stats: dict[str, Any]) -> None:
        """Raise ``error`` (``on_error="raise"``) or count the pair as skipped under ``reason``."""
        if self.on_error == "raise":
            raise error
        _count_skip(stats, reason)

    # ------------------------------------------------------------------------------ two aligned files
    def _file_pairs(self, me: int, n: int, stats: dict[str, Any]) -> Iterator[tuple[int, str, str]]:
        src_name, tgt_name = str(self.src_path), str(self.tgt_path)
        src_lines, tgt_lines = iter_lines(self.src_path), iter_lines(self.tgt_path)
        try:
            for s, t in zip_longest(src_lines, tgt_lines):
                if s is None or t is None:
                    raise _ended_early(s, t, src_lines, tgt_lines, src_name, tgt_name)
                if (s.number - 1) % n != me:
                    continue
                stats["lines"] += 1
                if s.error is not None or t.error is not None:
                    bad = s if s.error is not None else t
                    problem = (bad.kind, "src" if bad is s else "tgt", f"{bad.error}, {SKIP_HINT}")
                else:
                    problem = self._check(s.text, t.text, s.number, src_name, tgt_name)
                if problem is None:
                    yield s.number, s.text, t.text
                elif self.on_error == "skip":
                    _count_skip(stats, problem[0])
                else:
                    raise _pair_error(problem[1], problem[2], s, t, src_lines, tgt_lines, src_name, tgt_name)
        finally:
            src_lines.close()
            tgt_lines.close()

    # ------------------------------------------------------------------------------ one TSV file
    def _tsv_pairs(self, me: int, n: int, stats: dict[str, Any]) -> Iterator[tuple[int, str, str]]:
        width = _RowWidth(str(self.tsv), self.src_column, self.tgt_column, self.n_columns)
        rows = iter_lines(self.tsv, strip=False)
        try:
            for line in rows:
                if self.skip_header and line.number == 1:
                    continue
                if (line.number - 1) % n != me:
                    # Every shard must infer the same width, from the first non-blank row, mine or not.
                    if line.error is None and line.text.strip():
                        width.learn(line.text.split("\t"), line.number)
                    continue
                stats["lines"] += 1
                pair = self._tsv_pair(line, width, stats)
                if pair is not None:
                    yield line.number, pair[0], pair[1]
        finally:
            rows.close()

    def _tsv_pair(self, line: Line, width: _RowWidth, stats: dict[str, Any]) -> tuple[str, str] | None:
        """One row of this shard: its ``(source, target)``, or None when it is skipped (or raise)."""
        name = str(self.tsv)
        if line.error is not None:
            return self._bad(line.kind, DataError(f"{line.error}, {SKIP_HINT}", name, line.number), stats)
        if not line.text.strip():
            if self.min_length >= 1:
                return self._bad("empty", DataError(f"line {line.number} is blank; remove it {SKIP_HINT}",
                                                    name, line.number), stats)
            return "", ""
        fields = line.text.split("\t")
        width.learn(fields, line.number)
        error = width.mismatch(fields, line.number)
        if error is not None:
            return self._bad("bad_columns", error, stats)
        s, t = fields[self.src_column].strip(), fields[self.tgt_column].strip()
        problem = self._check(s, t, line.number, f"{name} (source column {self.src_column})",
                              f"{name} (target column {self.tgt_column})")
        if problem is not None:
            return self._bad(problem[0], DataError(problem[2], name, line.number), stats)
        return s, t
