"""Lines of a text file, plain or gzip: the one place the data stage opens, decompresses and decodes files.

Every reader of the data stage (the in-memory readers of :mod:`vectorseq.data.parallel`, the streaming
reader of :mod:`vectorseq.data.windowed`, the samples of :mod:`vectorseq.data.sampling`) gets its lines
from :func:`iter_lines`, which

* detects gzip by the file's first two bytes (the gzip magic number ``1f 8b``), not by its name, so a
  ``.gz`` file that was already decompressed (or an unnamed gzip) still works;
* decodes strictly as UTF-8, line by line, so a bad byte is reported with its line and byte offset instead
  of surfacing as a raw ``UnicodeDecodeError`` (a UTF-8 byte-order mark at the start is dropped);
* splits on ``\\n`` only and strips the line ending (and, by default, surrounding whitespace);
* streams: it holds one line at a time, never a whole file, and a line of more than
  :data:`MAX_LINE_BYTES` comes back as a problem (a file without line breaks cannot eat memory);
* opens regular files only (:func:`open_regular`, also used by the vectors readers): a FIFO would block
  forever and ``/dev/zero`` never ends, so a device, FIFO, socket or directory is a one-line error.

A missing, unreadable or corrupt file raises :class:`~vectorseq.errors.DataError` naming the file (and the
line); an undecodable line does not raise here, it comes back with its problem so that the caller can
raise or skip it.
"""
from __future__ import annotations

import gzip
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Union

from vectorseq.errors import DataError

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["PathLike", "Line", "MAX_LINE_BYTES", "open_regular", "open_binary", "iter_lines", "count_remaining",
           "count_file_lines"]

#: The longest line read (bytes): far above any sentence, low enough that one line cannot exhaust memory.
MAX_LINE_BYTES = 1 << 20

_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


def _not_regular(mode: int) -> str | None:
    """What a non-regular file is (None for a regular file)."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"),
             (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), None if stat.S_ISREG(mode) else "not a regular file")


def open_regular(path: PathLike, what: str = "a text file (one sentence per line)") -> BinaryIO:
    """Open a regular file for binary reading: the one safe opener of data, vectors and word-list files.

    The kind is checked before opening (opening a FIFO blocks until a writer comes; a device like /dev/zero
    never ends). Raises DataError naming the file for a missing, non-regular or unreadable path.
    """
    p = Path(path)
    try:
        kind = _not_regular(os.stat(p).st_mode)
    except FileNotFoundError:
        raise DataError(
            f"file not found; check the path (relative paths are resolved from {os.getcwd()})", str(p)
        ) from None
    except OSError as e:
        raise DataError(f"cannot open: {e.strerror or e}", str(p)) from None
    if kind is not None:
        raise DataError(f"is {kind}, expected {what}", str(p))
    try:
        return open(p, "rb")
    except PermissionError:
        raise DataError("permission denied; check the file's permissions", str(p)) from None
    except OSError as e:
        raise DataError(f"cannot open: {e.strerror or e}", str(p)) from None


def open_binary(path: PathLike) -> BinaryIO:
    """Open ``path`` for binary reading, transparently decompressing gzip (detected by magic bytes).

    Raises DataError for a missing file, a directory, FIFO or device, or an unreadable file.
    """
    p = Path(path)
    f = open_regular(p)
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


def _corrupt_gzip(path: PathLike, after_line: int, error: Exception) -> DataError:
    return DataError(
        f"the gzip data is corrupt or truncated after line {after_line} ({error}); download or compress the file again",
        str(path),
        after_line + 1,
    )


class Line:
    """One physical line: its 1-based number, decoded text (None if unreadable), the problem and its kind
    (``invalid_utf8``, or ``too_long`` past :data:`MAX_LINE_BYTES`: a skip reason of the pair readers)."""

    __slots__ = ("number", "text", "error", "kind")

    def __init__(self, number: int, text: str | None, error: str | None, kind: str = "invalid_utf8"):
        self.number = number
        self.text = text
        self.error = error
        self.kind = kind


def _decode(raw: bytes, number: int, offset: int, gzipped: bool, strip: bool) -> Line:
    """Decode one raw line (``offset``: its byte offset in the decompressed file) into a :class:`Line`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        where = f"byte {offset + e.start} of the file{', after decompression' if gzipped else ''}"
        return Line(number, None,
                    f"invalid UTF-8 at byte offset {e.start} of line {number} ({where}: {raw[e.start:e.start + 4]!r}); "
                    f"re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)")
    if number == 1 and text.startswith("\ufeff"):
        text = text[1:]  # UTF-8 byte-order mark
    return Line(number, text.strip() if strip else text.rstrip("\n").rstrip("\r"), None)


def iter_lines(path: PathLike, strip: bool = True) -> Iterator[Line]:
    """Stream the lines of a plain or gzip file as :class:`Line` objects.

    ``strip=True`` strips surrounding whitespace; ``strip=False`` removes only the line ending
    (``\\n`` or ``\\r\\n``), which TSV parsing needs (a leading tab is an empty first column).
    Invalid UTF-8 does not raise here: the line comes back with ``text=None`` and ``error`` describing the
    line and byte offsets, so that the caller can raise or skip. Gzip corruption raises DataError.
    """
    f = open_binary(path)
    gzipped = isinstance(f, gzip.GzipFile)
    offset = 0  # byte offset of the current line in the (decompressed) file
    number = 0
    try:
        while True:
            try:
                raw = f.readline(MAX_LINE_BYTES + 1)
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    yield _too_long(number + 1, offset)
                    number, offset = number + 1, offset + len(raw) + _skip_line(f)
                    continue
            except _GZIP_ERRORS as e:
                raise _corrupt_gzip(path, number, e) from None
            except OSError as e:
                raise DataError(f"cannot read: {e.strerror or e}", str(path), number + 1) from None
            if not raw:
                return
            number += 1
            yield _decode(raw, number, offset, gzipped, strip)
            offset += len(raw)
    finally:
        f.close()


def _skip_line(f: BinaryIO) -> int:
    """Read past the rest of an over-long line, a block at a time; the number of bytes skipped."""
    skipped = 0
    while chunk := f.readline(MAX_LINE_BYTES):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def _too_long(number: int, offset: int) -> Line:
    """The problem line for a line longer than :data:`MAX_LINE_BYTES` (its text is never held)."""
    return Line(number, None, f"line {number} (byte {offset}) is longer than {MAX_LINE_BYTES} bytes, not a sentence; "
                              "split or remove it", "too_long")


def count_remaining(lines: Iterator[Line]) -> int:
    """Exhaust a line iterator and return the number of the last line read (0 if none)."""
    last = 0
    for line in lines:
        last = line.number
    return last


def count_file_lines(path: PathLike) -> int:
    """Count the lines of one file (plain or gzip) cheaply, in 1 MiB blocks, without decoding them.

    A last line without a line ending counts as a line.
    """
    n = 0
    last = b"\n"
    with open_binary(path) as f:
        try:
            while block := f.read(1 << 20):
                n += block.count(b"\n")
                last = block[-1:]
        except (EOFError, OSError, zlib.error) as e:
            raise _corrupt_gzip(path, n, e) from None
    return n + (last != b"\n")
