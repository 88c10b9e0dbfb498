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
