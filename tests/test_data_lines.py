"""Tests for vectorseq/data/lines.py: opening plain or gzip files and decoding their lines.

(The readers' tests in test_data_parallel.py cover the messages; these check the line reader itself.)
"""
from __future__ import annotations

from pathlib import Path

import pytest

from _data_files import write
from vectorseq.data.lines import count_file_lines, iter_lines
from vectorseq.errors import DataError


def test_iter_lines_strips_or_keeps_inner_whitespace_and_numbers_lines(tmp_path):
    path = write(tmp_path / "t.gz", "\ufeff a\tb \r\n\n\tc\n", gz=True)
    assert [(l.number, l.text) for l in iter_lines(path)] == [(1, "a\tb"), (2, ""), (3, "c")]
    assert [l.text for l in iter_lines(path, strip=False)] == [" a\tb ", "", "\tc"]


def test_undecodable_line_comes_back_with_its_problem(tmp_path):
    path = write(tmp_path / "t.txt", b"ok\nbad \xff\nok again\n")
    lines = list(iter_lines(path))
    assert [l.text for l in lines] == ["ok", None, "ok again"]
    assert lines[1].error.startswith("invalid UTF-8 at byte offset 4 of line 2 (byte 7 of the file")


def test_count_file_lines(tmp_path):
    assert count_file_lines(write(tmp_path / "a.txt", "x\ny\n")) == 2
    assert count_file_lines(write(tmp_path / "b.gz", "x\ny", gz=True)) == 2  # last line without newline
    assert count_file_lines(write(tmp_path / "c.txt", "")) == 0
    with pytest.raises(DataError, match="file not found"):
        count_file_lines(tmp_path / "missing.txt")


# ---- issue 17 item 6: only regular files are read, and no line can exhaust memory
@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_non_regular_files_are_one_line_errors_not_hangs(tmp_path, kind):
    import os

    from vectorseq.data.lines import iter_lines
    from vectorseq.embeddings.vectors_io import detect_format, stream_vectors
    if kind == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)  # opening it for reading would block until a writer comes
    elif kind == "device":
        path = Path("/dev/zero")  # never ends
    else:
        path = tmp_path
    expected = {"fifo": "is a FIFO", "device": "is a device", "directory": "is a directory"}[kind]
    with pytest.raises(DataError, match=expected) as e:
        list(iter_lines(path))
    assert str(path) in str(e.value)
    with pytest.raises(DataError, match=expected):
        detect_format(path)
    with pytest.raises(DataError, match=expected):
        list(stream_vectors(path))


def test_a_line_longer_than_the_cap_is_a_problem_line_and_reading_goes_on(tmp_path, monkeypatch):
    import vectorseq.data.lines as lines
    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 64)
    p = tmp_path / "t.txt"
    p.write_bytes(b"ok one\n" + b"x" * 1000 + b"\nok two\n")
    got = list(lines.iter_lines(p))
    assert [(g.number, g.text, g.kind if g.error else None) for g in got] == [
        (1, "ok one", None), (2, None, "too_long"), (3, "ok two", None)]
    assert "line 2 (byte 7) is longer than 64 bytes" in got[1].error
