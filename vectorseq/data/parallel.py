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

import gzip
import os
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import BinaryIO, Union

from vectorseq.errors import ConfigError, DataError

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["ParallelCorpus", "read_parallel", "read_tsv", "read_monolingual", "SKIP_REASONS"]

#: Every reason under which a pair can be skipped (keys of :attr:`ParallelCorpus.skipped`).
SKIP_REASONS = ("empty", "too_short", "too_long", "length_ratio", "invalid_utf8", "bad_columns")

_GZIP_MAGIC = b"\x1f\x8b"
_SKIP_HINT = "or pass on_error='skip' to drop such pairs"


# --------------------------------------------------------------------------------------------------------
# The corpus object
# --------------------------------------------------------------------------------------------------------
@dataclass
class ParallelCorpus:
    """Aligned source and target sentences, plus a record of how they were read.

    Attributes:
        src: source sentences; ``src[i]`` translates to ``tgt[i]``.
        tgt: target sentences, as many as ``src``.
        skipped: how many pairs the reader dropped, by reason (see the module docstring); only
            reasons that occurred appear. Empty when nothing was skipped.
        source: a human-readable description of where the pairs came from (file names, dataset name,
            subset), for logs and reports.
    """

    src: list[str]
    tgt: list[str]
    skipped: dict[str, int] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.src) != len(self.tgt):
            raise ValueError(
                f"ParallelCorpus needs as many source as target sentences, got {len(self.src)} and {len(self.tgt)}"
            )

    def __len__(self) -> int:
        return len(self.src)

    def pairs(self) -> list[tuple[str, str]]:
        """Return the ``(source, target)`` pairs as a list, in corpus order."""
        return list(zip(self.src, self.tgt))

    @property
    def n_skipped(self) -> int:
        """Total number of pairs dropped while reading (the sum of :attr:`skipped`)."""
        return sum(self.skipped.values())

    def subset(self, n: int, mode: str = "first", seed: int = 0) -> "ParallelCorpus":
        """Return a corpus of ``n`` pairs taken from this one, e.g. for a learning curve.

        Args:
            n: how many pairs to keep, ``0 <= n <= len(self)``.
            mode: ``"first"`` keeps the first ``n`` pairs. ``"random"`` keeps ``n`` pairs chosen at random
                but reproducibly: the choice depends only on ``seed`` and ``len(self)``, and subsets with the
                same seed are *nested*, i.e. the random 1,000-pair subset is contained in the random
                3,000-pair subset. (One fixed shuffle of all indices is drawn from ``seed``; a subset of size
                ``n`` takes its first ``n`` entries.) The kept pairs stay in their original order.
            seed: the seed for ``mode="random"``; ignored for ``"first"``.

        Raises:
            VectorseqError (ConfigError): ``n`` is negative or larger than the corpus, or ``mode`` is unknown.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError(f"subset size must be a non-negative integer, got {n!r}")
        if n > len(self):
            raise ConfigError(
                f"cannot take a subset of {n} pairs from a corpus of {len(self)} pairs ({self.source or 'unnamed'}); "
                f"use a size of at most {len(self)}"
            )
        if mode == "first":
            indices = range(n)
            label = f"first {n} of {len(self)}"
        elif mode == "random":
            order = list(range(len(self)))
            random.Random(seed).shuffle(order)
            indices = sorted(order[:n])
            label = f"random {n} of {len(self)}, seed {seed}"
        else:
            raise ConfigError(f"unknown subset mode {mode!r}; use 'first' or 'random'")
        return ParallelCorpus(
            src=[self.src[i] for i in indices],
            tgt=[self.tgt[i] for i in indices],
            skipped=dict(self.skipped),
            source=f"{self.source} [{label}]" if self.source else f"[{label}]",
        )


# --------------------------------------------------------------------------------------------------------
# Opening files and decoding lines
# --------------------------------------------------------------------------------------------------------
def _open_binary(path: PathLike) -> BinaryIO:
    """Open ``path`` for binary reading, transparently decompressing gzip (detected by magic bytes).

    Raises DataError for a missing file, a directory or an unreadable file.
    """
    p = Path(path)
    try:
        f = open(p, "rb")
    except FileNotFoundError:
        raise DataError(
            f"file not found; check the path (relative paths are resolved from {os.getcwd()})", str(p)
        ) from None
    except IsADirectoryError:
        raise DataError("is a directory, expected a text file (one sentence per line)", str(p)) from None
    except PermissionError:
        raise DataError("permission denied; check the file's permissions", str(p)) from None
    except OSError as e:
        raise DataError(f"cannot open: {e.strerror or e}", str(p)) from None
    try:
        magic = f.read(2)
        f.seek(0)
    except OSError as e:
        f.close()
        raise DataError(f"cannot read: {e.strerror or e}", str(p)) from None
    if magic == _GZIP_MAGIC:
        f.close()  # reopen through gzip, which then owns (and closes) the file
        return gzip.open(p, "rb")  # type: ignore[return-value]
    return f


class _Line:
    """One physical line: its 1-based number, decoded text (None if not UTF-8) and the decode problem."""

    __slots__ = ("number", "text", "error")

    def __init__(self, number: int, text: str | None, error: str | None):
        self.number = number
        self.text = text
        self.error = error


def _iter_lines(path: PathLike, strip: bool = True) -> Iterator[_Line]:
    """Stream the lines of a plain or gzip file as :class:`_Line` objects.

    ``strip=True`` strips surrounding whitespace; ``strip=False`` removes only the line ending
    (``\\n`` or ``\\r\\n``), which TSV parsing needs (a leading tab is an empty first column).
    Invalid UTF-8 does not raise here: the line comes back with ``text=None`` and ``error`` describing the
    line and byte offsets, so that the caller can raise or skip. Gzip corruption raises DataError.
    """
    f = _open_binary(path)
    offset = 0  # byte offset of the current line in the (decompressed) file
    number = 0
    try:
        while True:
            try:
                raw = f.readline()
            except (gzip.BadGzipFile, EOFError, zlib.error) as e:
                raise DataError(
                    f"the gzip data is corrupt or truncated after line {number} ({e}); "
                    f"download or compress the file again",
                    str(path),
                    number + 1,
                ) from None
            except OSError as e:
                raise DataError(f"cannot read: {e.strerror or e}", str(path), number + 1) from None
            if not raw:
                return
            number += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield _Line(
                    number,
                    None,
                    f"invalid UTF-8 at byte offset {e.start} of line {number} "
                    f"(byte {offset + e.start} of the file{', after decompression' if isinstance(f, gzip.GzipFile) else ''}: "
                    f"{raw[e.start:e.start + 4]!r}); re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
                )
            else:
                if number == 1 and text.startswith("\ufeff"):
                    text = text[1:]  # UTF-8 byte-order mark
                if strip:
                    text = text.strip()
                else:
                    text = text.rstrip("\n").rstrip("\r")
                yield _Line(number, text, None)
            offset += len(raw)
    finally:
        f.close()


def _count_remaining(lines: Iterator[_Line]) -> int:
    """Exhaust a line iterator and return the number of the last line read (0 if none)."""
    last = 0
    for line in lines:
        last = line.number
    return last


# --------------------------------------------------------------------------------------------------------
# Pair validation shared by the readers
# --------------------------------------------------------------------------------------------------------
def _check_options(on_error: str, max_length: int | None, max_length_ratio: float | None, min_length: int) -> None:
    if on_error not in ("raise", "skip"):
        raise ConfigError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1):
        raise ConfigError(f"max_length must be a positive integer or None, got {max_length!r}")
    if max_length_ratio is not None and (
        isinstance(max_length_ratio, bool) or not isinstance(max_length_ratio, (int, float)) or max_length_ratio < 1
    ):
        raise ConfigError(f"max_length_ratio must be a number >= 1 or None, got {max_length_ratio!r}")
    if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 0:
        raise ConfigError(f"min_length must be a non-negative integer, got {min_length!r}")
    if max_length is not None and min_length > max_length:
        raise ConfigError(f"min_length ({min_length}) is larger than max_length ({max_length})")


def _check_pair(
    src: str,
    tgt: str,
    line: int,
    src_name: str,
    tgt_name: str,
    max_length: int | None,
    max_length_ratio: float | None,
    min_length: int,
) -> tuple[str, str, str] | None:
    """Validate one decoded pair. Return ``None`` if it is fine, else ``(reason, side, message)``.

    ``side`` is ``"src"`` or ``"tgt"``: the side at fault, whose file the caller names in the error.
    ``src_name``/``tgt_name`` are how the two sides are called in the message (two file names, or the
    columns of one TSV file).
    """
    if min_length >= 1 and (not src or not tgt):
        if not src and not tgt:
            msg, side = f"line {line} is empty in both {src_name} and {tgt_name}", "src"
        elif not src:
            msg, side = f"line {line} is empty in {src_name} ({tgt_name} has text)", "src"
        else:
            msg, side = f"line {line} is empty in {tgt_name} ({src_name} has text)", "tgt"
        return "empty", side, (
            f"{msg}; a pair needs a sentence on both sides: fill it in or remove the pair, {_SKIP_HINT}"
        )
    n_src, n_tgt = len(src.split()), len(tgt.split())
    for n, name, side in ((n_src, src_name, "src"), (n_tgt, tgt_name, "tgt")):
        if n < min_length:
            return "too_short", side, (
                f"line {line} has {n} token(s) in {name}, fewer than min_length={min_length}; "
                f"lower min_length {_SKIP_HINT}"
            )
    if max_length is not None:
        for n, name, side in ((n_src, src_name, "src"), (n_tgt, tgt_name, "tgt")):
            if n > max_length:
                return "too_long", side, (
                    f"line {line} has {n} tokens in {name}, more than max_length={max_length} "
                    f"(source {n_src}, target {n_tgt} tokens); raise max_length {_SKIP_HINT}"
                )
    if max_length_ratio is not None and min(n_src, n_tgt) > 0:
        ratio = max(n_src, n_tgt) / min(n_src, n_tgt)
        if ratio > max_length_ratio:
            return "length_ratio", "src" if n_src > n_tgt else "tgt", (
                f"line {line} has {n_src} source and {n_tgt} target tokens, a length ratio of {ratio:.2f} "
                f"above max_length_ratio={max_length_ratio} (often a sign of misaligned lines); "
                f"check the pair, raise max_length_ratio {_SKIP_HINT}"
            )
    return None


def _mismatch_error(src_path: str, n_src: int, tgt_path: str, n_tgt: int) -> DataError:
    return DataError(
        f"{src_path} has {n_src} lines but {tgt_path} has {n_tgt}; the files must be aligned line by line "
        f"(line i of one translates line i of the other): find where they diverge and fix it "
        f"(this is never skipped, because every later pair would be misaligned)",
        src_path if n_src > n_tgt else tgt_path,
        min(n_src, n_tgt) + 1,
    )


# --------------------------------------------------------------------------------------------------------
# Public readers
# --------------------------------------------------------------------------------------------------------
def read_parallel(
    src_path: PathLike,
    tgt_path: PathLike,
    *,
    on_error: str = "raise",
    max_length: int | None = None,
    max_length_ratio: float | None = None,
    min_length: int = 1,
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
    _check_options(on_error, max_length, max_length_ratio, min_length)
    src_name, tgt_name = str(src_path), str(tgt_path)
    # Fail now on a missing or unreadable file (the line generators below open their files lazily).
    _open_binary(src_path).close()
    _open_binary(tgt_path).close()
    src_lines = _iter_lines(src_path)
    tgt_lines = _iter_lines(tgt_path)
    try:
        return _read_pairs(
            src_lines, tgt_lines, src_name, tgt_name, on_error, max_length, max_length_ratio, min_length
        )
    finally:
        src_lines.close()
        tgt_lines.close()


def _read_pairs(
    src_lines: Iterator[_Line],
    tgt_lines: Iterator[_Line],
    src_name: str,
    tgt_name: str,
    on_error: str,
    max_length: int | None,
    max_length_ratio: float | None,
    min_length: int,
) -> ParallelCorpus:
    """The loop of :func:`read_parallel`: walk both files in step, validate, keep or skip each pair."""
    srcs: list[str] = []
    tgts: list[str] = []
    skipped: dict[str, int] = {}
    for s, t in zip_longest(src_lines, tgt_lines):
        if s is None:  # the source ended at line t.number - 1; count the rest of the target
            raise _mismatch_error(src_name, t.number - 1, tgt_name, _count_remaining(tgt_lines) or t.number)
        if t is None:
            raise _mismatch_error(src_name, _count_remaining(src_lines) or s.number, tgt_name, s.number - 1)

        if s.error is not None or t.error is not None:
            bad = s if s.error is not None else t
            problem = ("invalid_utf8", "src" if bad is s else "tgt", f"{bad.error}, {_SKIP_HINT}")
        else:
            problem = _check_pair(
                s.text, t.text, s.number, src_name, tgt_name, max_length, max_length_ratio, min_length
            )
        if problem is None:
            srcs.append(s.text)
            tgts.append(t.text)
            continue
        reason, side, message = problem
        if on_error == "skip":
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        raise_pair_error(side, message, s.number, t.number, src_lines, tgt_lines, src_name, tgt_name)
    return ParallelCorpus(srcs, tgts, skipped, f"{src_name} + {tgt_name}")


def raise_pair_error(side: str, message: str, src_number: int, tgt_number: int, src_lines, tgt_lines,
                     src_name: str, tgt_name: str):
    """Raise the DataError of a bad pair, unless the files differ in length: then the misalignment is the real
    problem (and the likely cause of this one), so that is what is reported."""
    n_src = _count_remaining(src_lines) or src_number
    n_tgt = _count_remaining(tgt_lines) or tgt_number
    if n_src != n_tgt:
        raise _mismatch_error(src_name, n_src, tgt_name, n_tgt)
    raise DataError(message, src_name if side == "src" else tgt_name, src_number)


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

    Raises:
        DataError: missing/unreadable file, a row with the wrong number of columns (in ``"raise"`` mode),
            a bad pair (in ``"raise"`` mode), or rows too narrow for the requested columns.
        ConfigError: an invalid option value.
    """
    _check_options(on_error, max_length, max_length_ratio, min_length)
    for name, col in (("src_column", src_column), ("tgt_column", tgt_column)):
        if isinstance(col, bool) or not isinstance(col, int) or col < 0:
            raise ConfigError(f"{name} must be a non-negative integer (0-based column index), got {col!r}")
    if src_column == tgt_column:
        raise ConfigError(f"src_column and tgt_column are both {src_column}; they must name different columns")
    needed = max(src_column, tgt_column) + 1
    if n_columns is not None and (isinstance(n_columns, bool) or not isinstance(n_columns, int) or n_columns < needed):
        raise ConfigError(f"n_columns must be an integer >= {needed} for columns {src_column} and {tgt_column}, got {n_columns!r}")

    name = str(path)
    src_name = f"{name} (source column {src_column})"
    tgt_name = f"{name} (target column {tgt_column})"
    expected = n_columns
    expected_from = "n_columns" if n_columns is not None else None
    srcs: list[str] = []
    tgts: list[str] = []
    skipped: dict[str, int] = {}

    def bad(reason: str, error: DataError) -> None:
        if on_error == "raise":
            raise error
        skipped[reason] = skipped.get(reason, 0) + 1

    _open_binary(path).close()  # fail now on a missing or unreadable file
    rows = _iter_lines(path, strip=False)
    try:
        for line in rows:
            if skip_header and line.number == 1:
                continue
            if line.error is not None:
                bad("invalid_utf8", DataError(f"{line.error}, {_SKIP_HINT}", name, line.number))
                continue
            if not line.text.strip():
                if min_length >= 1:
                    bad("empty", DataError(
                        f"line {line.number} is blank; remove it {_SKIP_HINT}", name, line.number))
                else:
                    srcs.append("")
                    tgts.append("")
                continue
            fields = line.text.split("\t")
            if expected is None:
                if len(fields) < needed:
                    raise DataError(
                        f"the first row has {len(fields)} tab-separated column(s), but src_column={src_column} and "
                        f"tgt_column={tgt_column} need at least {needed}; check that the file is tab-separated "
                        f"and the column indices (0-based) are right",
                        name,
                        line.number,
                    )
                expected = len(fields)
                expected_from = f"line {line.number}"
            if len(fields) != expected:
                bad("bad_columns", DataError(
                    f"line {line.number} has {len(fields)} tab-separated columns but {expected_from} has {expected}; "
                    f"a tab inside a sentence or a missing field? fix the row {_SKIP_HINT}",
                    name,
                    line.number,
                ))
                continue
            s, t = fields[src_column].strip(), fields[tgt_column].strip()
            problem = _check_pair(s, t, line.number, src_name, tgt_name, max_length, max_length_ratio, min_length)
            if problem is not None:
                reason, _side, message = problem
                bad(reason, DataError(message, name, line.number))
                continue
            srcs.append(s)
            tgts.append(t)
    finally:
        rows.close()
    return ParallelCorpus(srcs, tgts, skipped, f"{name} (columns {src_column}, {tgt_column})")


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
    _open_binary(path).close()  # fail now, not at the first next(), if the file is missing

    def generate() -> Iterator[str]:
        for line in _iter_lines(path):
            if line.error is not None:
                raise DataError(line.error, str(path), line.number)
            if skip_empty and not line.text:
                continue
            yield line.text

    return generate()
