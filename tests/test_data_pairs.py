"""Tests for vectorseq/data/pairs.py: the one pair reader, its shards and its counters.

(The messages are checked through read_parallel / read_tsv in test_data_parallel.py and through the stream
in test_data_windowed.py.)
"""
from __future__ import annotations

import pytest

from _data_files import pair_files, write
from vectorseq.data.pairs import PairReader, count_lines, new_stats
from vectorseq.errors import ConfigError, DataError


def test_shards_split_the_lines_and_count_only_their_own(tmp_path):
    src, tgt = pair_files(tmp_path, "a\n\nc\nd\ne\n", "A\nB\nC\nD\nE\n")
    reader = PairReader(src, tgt, on_error="skip")
    stats = [new_stats(), new_stats()]
    shards = [list(reader.pairs(k, 2, stats[k])) for k in (0, 1)]
    assert shards[0] == [(1, "a", "A"), (3, "c", "C"), (5, "e", "E")]
    assert shards[1] == [(4, "d", "D")]
    assert stats == [{"lines": 3, "skipped": {}}, {"lines": 2, "skipped": {"empty": 1}}]
    assert reader.source == f"{src} + {tgt}"


def test_tsv_shards_agree_on_the_row_width(tmp_path):
    # Shard 1's first row is too wide; the width comes from line 1, which belongs to shard 0.
    path = write(tmp_path / "p.tsv", "a\tA\nb\tB\tx\nc\tC\n")
    reader = PairReader(tsv=path, on_error="skip")
    stats = new_stats()
    assert list(reader.pairs(1, 2, stats)) == []
    assert stats["skipped"] == {"bad_columns": 1}


def test_arguments_and_alignment_are_checked(tmp_path):
    src, tgt = pair_files(tmp_path, "a\nb\n", "A\n")
    with pytest.raises(ConfigError, match="give either src_path and tgt_path, or tsv"):
        PairReader(src, tgt, tsv=src)
    with pytest.raises(ConfigError, match="sample_pairs needs src_path and tgt_path"):
        PairReader(src, owner="sample_pairs")
    with pytest.raises(DataError, match="has 2 lines but"):
        count_lines(src, tgt)
    assert count_lines(src) == 2


def test_a_long_line_without_spaces_is_too_long_by_characters(tmp_path):
    # issue 17 item 6: a 1 MB line without spaces is one whitespace token and passed max_length
    from vectorseq.data.parallel import read_parallel
    src, tgt = tmp_path / "s.txt", tmp_path / "t.txt"
    src.write_text("a b\n" + "x" * 1_000_000 + "\nc d\n", encoding="utf-8")
    tgt.write_text("A B\nY\nC D\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2 has 1000000 characters in .*s.txt, more than max_chars=2000"):
        read_parallel(src, tgt, max_length=100, max_chars=2000)
    corpus = read_parallel(src, tgt, max_length=100, max_chars=2000, on_error="skip")
    assert corpus.src == ["a b", "c d"] and corpus.skipped == {"too_long": 1}
