"""Tests for vectorseq/data/lines.py: opening plain or gzip files and decoding their lines.

(The readers' tests in test_data_parallel.py cover the messages; these check the line reader itself.)
"""
from __future__ import annotations

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
