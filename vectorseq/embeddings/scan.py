"""Finding the vectors of the wanted words in a source, and validating what is read.

:func:`scan_vectors` reads a source once (through the readers of :mod:`vectorseq.embeddings.vectors_io`)
and returns the vectors of a set of *wanted* words (UTF-8 bytes: the vocabulary plus its fallback forms),
a sample of the first :data:`SAMPLE_SIZE` vectors (for the distribution of OOV rows) and statistics.

Lean streaming
--------------
Text files are read in binary, line by line. The word is cut off with ``bytes.find(b" ")`` and
looked up in the wanted set; only matching lines (and the first :data:`SAMPLE_SIZE` lines) are split
and converted to float32. Memory therefore grows with the vocabulary, not with the file.

Words containing spaces (GloVe 840B has a few) are handled: the last ``dim`` fields are the vector,
everything before them is the word.

Validation trade-off (``validate="matched"``, the default): matched lines are fully checked
(dimension, numbers, NaN/Inf, duplicates). Unmatched lines only get a cheap field count
(``line.count(b" ")``, about 50 ns a line): a line with too few fields is reported, but a
non-number, a NaN, too many fields (indistinguishable from a word with spaces) or a duplicate on a
line whose word you do not use goes unreported -- it cannot affect the matrix. ``validate="all"``
parses and checks every line and every word (slower, and keeps a set of all words).

With ``on_error="raise"`` a malformed line is a :class:`DataError` naming the line; with ``"skip"`` it
is counted in :attr:`Scan.skipped` by reason.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vectorseq.errors import DataError

from .vectors_io import (
    VectorsInfo,
    header_fields,
    is_float,
    iter_words,
    load_fasttext,
    load_npy,
    named_has_duplicates,
    named_rows,
    read_named,
    read_text_lines,
    read_w2v_binary,
    to_vector,
    w2v_vector,
)

__all__ = ["SAMPLE_SIZE", "Scan", "scan_vectors"]

#: Number of leading vectors of a file that are always parsed, as a sample for OOV moments.
SAMPLE_SIZE = 1000
_SKIP_HINT = "or pass on_error='skip' to skip malformed lines"


class Scan:
    """The result of reading a source: wanted word -> vector, a head sample, statistics.

    ``subword`` (fastText ``.bin`` only) gives a word's character n-gram vector; ``extra`` holds
    format-specific statistics for ``PretrainedMatrix.stats``.
    """

    def __init__(self, dim: int):
        self.dim = dim
        self.found: dict[bytes, np.ndarray] = {}
        self.where: dict[bytes, int] = {}
        self.sample: list[np.ndarray] = []
        self.vectors = 0
        self.bad = 0  # lines rejected in skip mode (for the header count)
        self.skipped: Counter = Counter()
        self.subword: Callable[[str], np.ndarray | None] | None = None
        self.extra: dict[str, Any] = {}


def _show(word: bytes | str, limit: int = 60) -> str:
    if isinstance(word, bytes):
        word = word.decode("utf-8", errors="replace")
    if len(word) > limit:
        word = word[:limit] + "..."
    return repr(word)


class _Problems:
    """Raise a DataError, or count the problem when ``on_error="skip"``."""

    def __init__(self, path: str, on_error: str, skipped: Counter):
        self.path, self.skip, self.skipped = path, on_error == "skip", skipped

    def __call__(self, reason: str, message: str, line: int | None) -> None:
        if not self.skip:
            raise DataError(message, self.path, line)
        self.skipped[reason] += 1


def _check_vector(vec: np.ndarray, tokens: list[bytes] | None, word: bytes | str, lineno: int | None,
                  problem: _Problems) -> bool:
    """True when ``vec`` (parsed from ``tokens``, if text) is finite; reports the first bad value."""
    if np.isfinite(vec).all():
        return True
    i = int(np.flatnonzero(~np.isfinite(vec))[0])
    if tokens is None:
        tokens = [str(float(v)).encode() for v in vec]
    problem(
        "not_finite",
        f"the vector of {_show(word)} contains NaN or Inf (value {i + 1}: {_show(tokens[i])}"
        f"{', out of float32 range' if is_float(tokens[i]) and math.isfinite(float(tokens[i])) else ''}); "
        f"fix or delete the line, {_SKIP_HINT}",
        lineno,
    )
    return False


def _parse_tokens(tokens: list[bytes], word: bytes, lineno: int, problem: _Problems) -> np.ndarray | None:
    try:
        vec = to_vector(tokens)
    except ValueError:
        i = next(i for i, t in enumerate(tokens) if not is_float(t))
        problem(
            "not_a_number",
            f"value {i + 1} of the vector of {_show(word)} is not a number: {_show(tokens[i])}; "
            f"fix or delete the line, {_SKIP_HINT}",
            lineno,
        )
        return None
    return vec if _check_vector(vec, tokens, word, lineno, problem) else None


def _parse_line(line: bytes, dim: int, lineno: int, problem: _Problems) -> tuple[bytes, np.ndarray | None] | None:
    """Fully parse one text line. None for a blank line; ``(word, None)`` for a bad line."""
    text = line.rstrip(b"\r\n")
    if not text.strip():
        return None
    parts = text.rsplit(None, dim)
    if len(parts) < dim + 1 or not parts[0].strip():
        n = len(text.split()) - 1
        word = text.split()[0] if n >= 0 else text
        hint = ""
        if lineno == 1 and header_fields(text) is not None:
            hint = (" (if this line is a 'count dim' header, its dimension does not match the "
                    f"{dim} values of the lines that follow: fix it)")
        problem(
            "wrong_dimension",
            f"the vector of {_show(word)} has {n} values but the vectors in this file have {dim} "
            f"dimensions{hint}; fix or delete the line, {_SKIP_HINT}",
            lineno,
        )
        return word, None
    word, tokens = parts[0], parts[1:]
    if b" " in word.strip() or b"\t" in word.strip():
        # A word with spaces -- or a line with too many numbers: tell them apart by the extra fields.
        extra = word.split()[1:]
        if all(is_float(t) for t in extra):
            problem(
                "wrong_dimension",
                f"the vector of {_show(word.split()[0])} has {dim + len(extra)} values but the vectors "
                f"in this file have {dim} dimensions; fix or delete the line, {_SKIP_HINT}",
                lineno,
            )
            return word.split()[0], None
    return word, _parse_tokens(tokens, word, lineno, problem)


def _record(scan: Scan, word: bytes, vec: np.ndarray | None, lineno: int, wanted, seen, problem: _Problems) -> None:
    """Count a parsed line; keep its vector when wanted; detect duplicates (first one wins)."""
    if vec is None:
        scan.bad += 1
        return
    if seen is not None:
        first = seen.get(word)
    else:
        first = scan.where.get(word) if word in wanted else None
    if first is not None:
        scan.bad += 1
        problem(
            "duplicate",
            f"duplicate word {_show(word)} (first on line {first}); remove one of the two lines, "
            "or pass on_error='skip' to keep the first", lineno)
        return
    if seen is not None:
        seen[word] = lineno
    scan.vectors += 1
    if len(scan.sample) < SAMPLE_SIZE:
        scan.sample.append(vec)
    if word in wanted:
        scan.found[word] = vec
        scan.where[word] = lineno


def _scan_text(info: VectorsInfo, wanted: set[bytes], on_error: str, validate: str) -> Scan:
    dim = int(info.dim)
    scan = Scan(dim)
    problem = _Problems(info.path, on_error, scan.skipped)
    seen: dict[bytes, int] | None = {} if validate == "all" else None
    spaced = any(b" " in w for w in wanted)
    full = validate == "all"
    for lineno, line in read_text_lines(info):
        sp = line.find(b" ")
        if sp > 0 and not full and scan.vectors >= SAMPLE_SIZE:
            word = line[:sp]
            if word not in wanted:
                c = line.count(b" ")
                if c == dim or (c == dim + 1 and not spaced):
                    scan.vectors += 1
                    continue
            else:
                tokens = line[sp + 1 :].split()
                if len(tokens) == dim:
                    _record(scan, word, _parse_tokens(tokens, word, lineno, problem), lineno, wanted, seen, problem)
                    continue
        parsed = _parse_line(line, dim, lineno, problem)
        if parsed is None:
            continue
        _record(scan, parsed[0], parsed[1], lineno, wanted, seen, problem)
    if info.header and info.count is not None:
        total = scan.vectors + scan.bad
        if total != info.count:
            problem(
                "header_count",
                f"the header announces {info.count} vectors but the file has {total}: the file may be "
                "truncated (download it again) or the header is wrong (fix it; or pass format='glove' "
                f"if the first line is a vector), {_SKIP_HINT}", 1)
    return scan


def _scan_w2v_binary(info: VectorsInfo, wanted: set[bytes], on_error: str, validate: str) -> Scan:
    """Stream a word2vec binary file (``count dim`` header; ``word `` + dim little-endian float32)."""
    dim = int(info.dim)
    scan = Scan(dim)
    problem = _Problems(info.path, on_error, scan.skipped)
    seen: dict[bytes, int] | None = {} if validate == "all" else None
    for k, word, buf, offset in read_w2v_binary(info):
        lineno = k + 2  # "line" = header + vector number
        if word in wanted or len(scan.sample) < SAMPLE_SIZE or seen is not None:
            vec = w2v_vector(buf, offset, dim)
            if _check_vector(vec, None, word, lineno, problem):
                _record(scan, word, vec, lineno, wanted, seen, problem)
        else:
            scan.vectors += 1
    return scan


def _scan_fasttext_bin(info: VectorsInfo, wanted: set[bytes], on_error: str, validate: str) -> Scan:
    kv = load_fasttext(info.path)
    scan = Scan(int(kv.vector_size))
    info.dim = scan.dim
    problem = _Problems(info.path, on_error, scan.skipped)
    scan.vectors = len(kv.key_to_index)
    for wb in wanted:
        idx = kv.key_to_index.get(wb.decode("utf-8"))
        if idx is not None:
            vec = np.asarray(kv.vectors[idx], dtype=np.float32)
            if _check_vector(vec, None, wb, None, problem):
                scan.found[wb] = vec.copy()
    scan.sample = list(np.asarray(kv.vectors[:SAMPLE_SIZE], dtype=np.float32))
    if validate == "all" and not np.isfinite(kv.vectors).all():
        bad = int(np.flatnonzero(~np.isfinite(kv.vectors).all(axis=1))[0])
        problem("not_finite", f"the vector of {_show(kv.index_to_key[bad])} contains NaN or Inf; "
                "retrain or repair the model", None)

    def subword(word: str) -> np.ndarray | None:
        if getattr(kv, "bucket", 0) == 0:
            return None
        try:
            vec = np.asarray(kv.get_vector(word), dtype=np.float32)
        except KeyError:
            return None
        if not vec.any() or not np.isfinite(vec).all():
            return None  # no n-grams could be extracted
        return vec.copy()

    scan.subword = subword
    scan.extra = {"min_n": int(kv.min_n), "max_n": int(kv.max_n), "bucket": int(kv.bucket)}
    return scan


def _rows_from_array(arr: Any, index: dict[bytes, int], problem: _Problems, scan: Scan, validate: str) -> None:
    """Gather the wanted rows of a (memory-mapped) array; check them (all rows with validate='all')."""
    if index:
        order = sorted(index.items(), key=lambda kv: kv[1])
        rows = np.asarray(arr[[i for _, i in order]], dtype=np.float32)
        for (word, i), vec in zip(order, rows):
            if _check_vector(vec, None, word, i + 1, problem):
                scan.found[word] = vec.copy()
    n = arr.shape[0]
    scan.sample = list(np.asarray(arr[: min(SAMPLE_SIZE, n)], dtype=np.float32))
    if validate == "all":
        for start in range(0, n, 65536):
            block = np.asarray(arr[start : start + 65536], dtype=np.float32)
            ok = np.isfinite(block).all(axis=1)
            if not ok.all():
                row = start + int(np.flatnonzero(~ok)[0])
                problem("not_finite", f"row {row} of the array (line {row + 1} of the word list) contains "
                        f"NaN or Inf; repair the array, {_SKIP_HINT}", None)
    scan.vectors = n - scan.skipped.get("not_finite", 0)


def _scan_npy(info: VectorsInfo, wanted: set[bytes], on_error: str, validate: str) -> Scan:
    arr = load_npy(info.path)
    scan = Scan(int(arr.shape[1]))
    info.dim = scan.dim
    problem = _Problems(info.words_path, on_error, scan.skipped)
    index: dict[bytes, int] = {}
    seen: dict[bytes, int] | None = {} if validate == "all" else None
    n_words = 0
    for n_words, word in iter_words(info.words_path):
        if seen is not None:
            if word in seen:
                problem("duplicate", f"duplicate word {_show(word)} (first on line {seen[word]}); "
                        "remove one (and its row), or pass on_error='skip' to keep the first", n_words)
                continue
            seen[word] = n_words
        if word in wanted:
            if word in index:
                if seen is None:
                    problem("duplicate", f"duplicate word {_show(word)} (first on line {index[word] + 1}); "
                            "remove one (and its row), or pass on_error='skip' to keep the first", n_words)
                continue
            index[word] = n_words - 1
    if n_words != arr.shape[0]:
        raise DataError(f"the word list has {n_words} lines but the array {Path(info.path).name} has "
                        f"{arr.shape[0]} rows; they must match (line i+1 = row i)", info.words_path)
    _rows_from_array(arr, index, problem, scan, validate)
    return scan


def _scan_named(info: VectorsInfo, wanted: set[bytes], on_error: str, validate: str) -> Scan:
    arr, column, index_path = read_named(info.source)
    scan = Scan(int(arr.shape[1]))
    problem = _Problems(index_path, on_error, scan.skipped)
    index: dict[bytes, int] = {}
    for i, wb in named_rows(info.source, column, wanted):
        if wb in index:
            problem("duplicate", f"duplicate word {_show(wb)} (rows {index[wb]} and {i})", None)
            continue
        index[wb] = i
    if validate == "all" and named_has_duplicates(info.source, column):
        problem("duplicate", "the word index contains duplicate words", None)
    _rows_from_array(arr, index, problem, scan, validate)
    return scan


_SCANNERS: dict[str, Callable[[VectorsInfo, set[bytes], str, str], Scan]] = {
    "glove": _scan_text,
    "word2vec": _scan_text,
    "word2vec-binary": _scan_w2v_binary,
    "fasttext-bin": _scan_fasttext_bin,
    "npy": _scan_npy,
    "glove-6b-50d": _scan_named,
}


def scan_vectors(info: VectorsInfo, wanted: set[bytes], on_error: str = "raise", validate: str = "matched") -> Scan:
    """Read the source ``info`` describes once; keep the vectors of the ``wanted`` words (UTF-8 bytes).

    ``on_error``: ``"raise"`` a :class:`DataError` on a malformed line or ``"skip"`` it (counted by reason);
    ``validate``: ``"matched"`` or ``"all"`` (see the module docstring). Duplicates: the first one wins.
    """
    return _SCANNERS[info.format](info, wanted, on_error, validate)
