"""Tests for vectorseq/data/parallel.py: read_parallel, read_tsv, read_monolingual.

They also cover what these readers are made of: the line reader (vectorseq/data/lines.py) and the pair
checks (vectorseq/data/pairs.py). Bad-input tests check that the error is a DataError (never a raw
UnicodeDecodeError or OSError) and that its one-line message names the file, the 1-based line and the fix.
"""
from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _data_files import pair_files, write
from vectorseq.data import read_monolingual, read_parallel, read_tsv
from vectorseq.errors import ConfigError, DataError


# ========================================================================================================
# parallel.py: reading
# ========================================================================================================
def test_read_plain_and_gzip_detected_by_magic_bytes(tmp_path):
    # Source: plain text with CRLF endings and surrounding whitespace; internal spacing must survive.
    src = write(tmp_path / "src.txt", "  Hello  world \r\nA cat.\r\n\tTwo\tdogs. \n")
    # Target: gzip data under a name without .gz, so only the magic bytes reveal it.
    tgt = write(tmp_path / "tgt.txt", "Hallo  Welt\nEine Katze.\nZwei\tHunde.\n", gz=True)
    corpus = read_parallel(src, tgt)
    assert corpus.src == ["Hello  world", "A cat.", "Two\tdogs."]
    assert corpus.tgt == ["Hallo  Welt", "Eine Katze.", "Zwei\tHunde."]
    assert len(corpus) == 3
    assert corpus.pairs()[1] == ("A cat.", "Eine Katze.")
    assert corpus.skipped == {}
    assert "src.txt" in corpus.source and "tgt.txt" in corpus.source

    # A file named .gz that is really plain text is read as plain text.
    plain_gz = write(tmp_path / "plain.gz", "Hallo  Welt\nEine Katze.\nZwei\tHunde.\n")
    assert read_parallel(src, plain_gz).tgt == corpus.tgt


# Any text without line breaks, including non-ASCII, tabs and \r inside a line.
_line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=30)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_line_text, _line_text), min_size=1, max_size=8), st.booleans())
def test_round_trip_property(pairs, gz):
    """Whatever is written (one pair per line) reads back stripped, except for pairs with an empty side."""
    with tempfile.TemporaryDirectory() as d:
        src = write(Path(d) / "s", "".join(s + "\n" for s, _ in pairs), gz=gz)
        tgt = write(Path(d) / "t", "".join(t + "\r\n" for _, t in pairs), gz=not gz)
        corpus = read_parallel(src, tgt, on_error="skip")
    # The reader strips with str.strip(); a leading BOM on line 1 is dropped first.
    def clean(text, first):
        return (text[1:] if first and text.startswith("\ufeff") else text).strip()

    expected = [(clean(s, i == 0), clean(t, i == 0)) for i, (s, t) in enumerate(pairs)]
    kept = [(s, t) for s, t in expected if s and t]
    assert corpus.pairs() == kept
    assert corpus.skipped == ({"empty": len(expected) - len(kept)} if len(kept) < len(expected) else {})


def test_utf8_bom_is_dropped_and_last_line_without_newline(tmp_path):
    src, tgt = pair_files(tmp_path, "\ufeffone\ntwo", "eins\nzwei\n")
    corpus = read_parallel(src, tgt)
    assert corpus.src == ["one", "two"]


def test_mismatched_line_counts(tmp_path):
    src, tgt = pair_files(tmp_path, "a\nb\nc\n", "x\ny\n")
    for mode in ("raise", "skip"):  # never skippable
        with pytest.raises(DataError) as err:
            read_parallel(src, tgt, on_error=mode)
        msg = str(err.value)
        assert f"{src} has 3 lines but {tgt} has 2" in msg
        assert "aligned line by line" in msg
        assert err.value.line == 3 and err.value.path == str(src)
    # The other way round: the target is longer.
    s2, t2 = write(tmp_path / "s2.txt", "a\nb\n"), write(tmp_path / "t2.txt", "x\ny\nz\n")
    with pytest.raises(DataError) as err:
        read_parallel(s2, t2)
    assert f"{s2} has 2 lines but {t2} has 3" in str(err.value) and err.value.path == str(t2)


def test_mismatch_reported_before_a_per_pair_error(tmp_path):
    # Line 2 is empty in the target, but the real cause is that a target line is missing.
    src, tgt = pair_files(tmp_path, "a\nb\nc\nd\n", "x\n\nz\n")
    with pytest.raises(DataError, match="has 4 lines but .* has 3"):
        read_parallel(src, tgt)


@pytest.mark.parametrize(
    "src_text, tgt_text, bad_file, fragment",
    [
        ("a\n\nc\n", "x\ny\nz\n", "src.txt", "is empty in"),
        ("a\nb\nc\n", "x\n   \nz\n", "tgt.txt", "is empty in"),
        ("a\n\nc\n", "x\n\nz\n", "src.txt", "empty in both"),
    ],
)
def test_empty_lines(tmp_path, src_text, tgt_text, bad_file, fragment):
    src, tgt = pair_files(tmp_path, src_text, tgt_text)
    with pytest.raises(DataError) as err:
        read_parallel(src, tgt)
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path / bad_file}:2: ")
    assert fragment in msg and "on_error='skip'" in msg
    assert err.value.line == 2
    # min_length=0 accepts empty lines.
    assert len(read_parallel(src, tgt, min_length=0)) == 3


def test_invalid_utf8_names_line_and_byte_offset(tmp_path):
    src, tgt = pair_files(tmp_path, "fine\nal\xe9\n".encode("utf-8"), b"gut\ncaf\xe9 ok\n")  # latin-1 byte in tgt
    with pytest.raises(DataError) as err:
        read_parallel(src, tgt)
    msg = str(err.value)
    assert msg.startswith(f"{tgt}:2: ")
    assert "invalid UTF-8 at byte offset 3 of line 2" in msg
    assert "byte 7 of the file" in msg  # "gut\n" is 4 bytes, then "caf"
    assert "iconv" in msg
    assert not isinstance(err.value, UnicodeDecodeError)


def test_invalid_utf8_in_gzip_file(tmp_path):
    src = write(tmp_path / "src.gz", b"a\nb\n\xff\xfe c\n", gz=True)
    tgt = write(tmp_path / "tgt.gz", b"x\ny\nz\n", gz=True)
    with pytest.raises(DataError, match=r"src\.gz:3: invalid UTF-8 at byte offset 0 of line 3"):
        read_parallel(src, tgt)


def test_too_long_and_length_ratio(tmp_path):
    src, tgt = pair_files(tmp_path, "one two\none two three four five\n", "eins zwei\neins zwei drei\n")
    with pytest.raises(DataError) as err:
        read_parallel(src, tgt, max_length=4)
    msg = str(err.value)
    assert msg.startswith(f"{src}:2: ") and "5 tokens" in msg and "max_length=4" in msg
    assert "raise max_length" in msg

    with pytest.raises(DataError) as err:
        read_parallel(src, tgt, max_length_ratio=1.5)
    msg = str(err.value)
    assert msg.startswith(f"{src}:2: ") and "ratio of 1.67" in msg and "max_length_ratio=1.5" in msg

    assert len(read_parallel(src, tgt, max_length=5, max_length_ratio=2)) == 2


def test_target_side_too_long_names_target_file(tmp_path):
    src, tgt = pair_files(tmp_path, "a b\n", "w x y z\n")
    with pytest.raises(DataError) as err:
        read_parallel(src, tgt, max_length=3)
    assert err.value.path == str(tgt) and err.value.line == 1


def test_skip_mode_counts_each_reason(tmp_path):
    src_lines = [b"good one", b"", b"a b c d e f g", b"short", b"caf\xe9", b"two words", b"", b"last pair"]
    tgt_lines = [b"gut eins", b"leer", b"x", b"ein zwei drei vier", b"cafe", b"zwei Worte", b"", b"letztes"]
    src, tgt = pair_files(tmp_path, b"\n".join(src_lines) + b"\n", b"\n".join(tgt_lines) + b"\n")
    corpus = read_parallel(src, tgt, on_error="skip", max_length=6, max_length_ratio=3)
    assert corpus.src == ["good one", "two words", "last pair"]
    assert corpus.tgt == ["gut eins", "zwei Worte", "letztes"]
    assert corpus.skipped == {"empty": 2, "too_long": 1, "length_ratio": 1, "invalid_utf8": 1}
    assert corpus.n_skipped == 5


def test_min_length(tmp_path):
    src, tgt = pair_files(tmp_path, "a b\nc\n", "x y\nz w\n")
    with pytest.raises(DataError, match=r"src\.txt:2: .*fewer than min_length=2"):
        read_parallel(src, tgt, min_length=2)
    assert read_parallel(src, tgt, min_length=2, on_error="skip").skipped == {"too_short": 1}


def test_missing_file_and_directory(tmp_path):
    good = write(tmp_path / "ok.txt", "a\n")
    missing = tmp_path / "nope" / "train.de"
    for args in ((missing, good), (good, missing)):
        with pytest.raises(DataError) as err:
            read_parallel(*args)
        assert str(missing) in str(err.value) and "check the path" in str(err.value)
    with pytest.raises(DataError, match="is a directory"):
        read_parallel(tmp_path, good)


def test_corrupt_gzip(tmp_path):
    data = gzip.compress(("hello world\n" * 5000).encode())
    src = write(tmp_path / "src.gz", data[: len(data) // 2])  # truncated
    tgt = write(tmp_path / "tgt.txt", "x\n" * 5000)
    with pytest.raises(DataError, match=r"src\.gz:\d+: the gzip data is corrupt or truncated"):
        read_parallel(src, tgt)


def test_bad_options():
    with pytest.raises(ConfigError, match="on_error"):
        read_parallel("a", "b", on_error="ignore")
    with pytest.raises(ConfigError, match="max_length"):
        read_parallel("a", "b", max_length=0)
    with pytest.raises(ConfigError, match="max_length_ratio"):
        read_parallel("a", "b", max_length_ratio=0.5)


# ========================================================================================================
# parallel.py: TSV and monolingual
# ========================================================================================================
def test_read_tsv_columns_header_and_gzip(tmp_path):
    path = write(tmp_path / "pairs.tsv.gz", "id\tde\ten\n1\tHallo Welt \t Hello world\n2\tKatze\tCat\r\n", gz=True)
    corpus = read_tsv(path, src_column=2, tgt_column=1, skip_header=True)
    assert corpus.src == ["Hello world", "Cat"]
    assert corpus.tgt == ["Hallo Welt", "Katze"]


def test_read_tsv_keeps_empty_leading_column(tmp_path):
    # Stripping the whole line would shift the columns; the leading empty field must stay.
    path = write(tmp_path / "p.tsv", "\tsrc one\ttgt one\n\tsrc two\ttgt two\n")
    assert read_tsv(path, 1, 2).pairs() == [("src one", "tgt one"), ("src two", "tgt two")]


def test_read_tsv_wrong_number_of_columns(tmp_path):
    path = write(tmp_path / "p.tsv", "a\tx\nb\ty\textra\nc\tz\nd\n")
    with pytest.raises(DataError) as err:
        read_tsv(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:2: ") and "has 3 tab-separated columns but line 1 has 2" in msg
    corpus = read_tsv(path, on_error="skip")
    assert corpus.src == ["a", "c"] and corpus.skipped == {"bad_columns": 2}


def test_read_tsv_too_few_columns_for_indices_and_pair_errors(tmp_path):
    path = write(tmp_path / "p.tsv", "only one column\n")
    with pytest.raises(DataError, match=r"p\.tsv:1: the first row has 1 tab-separated column"):
        read_tsv(path)
    path = write(tmp_path / "q.tsv", "a\tx\n\t y\n\nb\tz\n")
    with pytest.raises(DataError) as err:
        read_tsv(path)
    assert str(err.value).startswith(f"{path}:2: ") and "source column 0" in str(err.value)
    assert read_tsv(path, on_error="skip").skipped == {"empty": 2}
    with pytest.raises(ConfigError):
        read_tsv(path, 1, 1)


def test_read_monolingual_streams(tmp_path):
    path = write(tmp_path / "mono.gz", " first \n\nsecond\r\n", gz=True)
    lines = read_monolingual(path)
    assert iter(lines) is lines  # a generator, not a list
    assert list(lines) == ["first", "second"]
    assert list(read_monolingual(path, skip_empty=False)) == ["first", "", "second"]
    with pytest.raises(DataError, match="check the path"):
        read_monolingual(tmp_path / "missing.txt")  # at call time, before iterating
    bad = write(tmp_path / "bad.txt", b"ok\n\xc3\x28\n")
    with pytest.raises(DataError, match=r"bad\.txt:2: invalid UTF-8"):
        list(read_monolingual(bad))
