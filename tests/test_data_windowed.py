"""Tests for vectorseq/data/windowed.py: sharded, windowed token-budget batches read from files.

Batches are checked *by content*: every sentence holds a unique token, the vectorizer (whitespace split,
no standardization) maps ids back to the exact text, and the pairs a stream yields are compared with what
``read_parallel`` / ``read_tsv`` read from the same files.
"""
from __future__ import annotations

import gzip
import math
from collections import Counter

import pytest
import torch

from _streaming_corpus import (  # noqa: F401 (files and vec are pytest fixtures)
    BAD_UTF8_LINE,
    EMPTY_LINE,
    N_PAIRS,
    decoded_pairs,
    expected_pairs,
    files,
    make_corpus,
    stream,
    vec,
    write_pair_files,
)
from vectorseq.data.pairs import count_lines
from vectorseq.data.parallel import read_parallel, read_tsv
from vectorseq.data.windowed import StreamingBatches
from vectorseq.errors import ConfigError, DataError
from vectorseq.text.subword_sampling import SamplingSpec
from vectorseq.vectorizer import TextVectorizer


# ========================================================================================================
# Coverage, sharding, determinism
# ========================================================================================================
@pytest.mark.parametrize("world,num_workers", [(1, 1), (2, 1), (2, 3)])
def test_shards_are_disjoint_and_cover_every_valid_pair_once(files, vec, world, num_workers):
    want = expected_pairs(*files)
    assert len(want) == N_PAIRS - 2
    per_shard, skipped = [], Counter()
    for rank in range(world):
        for worker in range(num_workers):
            s = stream(files, vec, rank=rank, world=world, worker=worker, num_workers=num_workers, window=64)
            got = decoded_pairs(s, vec)
            per_shard.append(got)
            skipped.update(s.stats["skipped"])
            assert s.stats["pairs"] == len(got)
    union = Counter(p for got in per_shard for p in got)
    assert union == Counter(want)  # every valid pair exactly once, nothing else
    assert sum(len(g) for g in per_shard) == len(want)  # hence disjoint
    for i, a in enumerate(per_shard):  # and disjoint, explicitly
        for b in per_shard[i + 1:]:
            assert not set(a) & set(b)
    # each bad line is counted by exactly one shard
    assert dict(skipped) == {"invalid_utf8": 1, "empty": 1}
    # the documented rule: line i (0-based) belongs to shard i % (world * num_workers)
    if world * num_workers > 1:
        n = world * num_workers
        for shard, got in enumerate(per_shard):
            assert {int(s.split()[0][1:]) % n for s, _ in got} == {shard}


def test_same_seed_and_epoch_give_identical_batches_another_epoch_another_order(files, vec):
    a = list(stream(files, vec, seed=3, epoch=1, window=100))
    b = list(stream(files, vec, seed=3, epoch=1, window=100))
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert torch.equal(x.src, y.src) and torch.equal(x.tgt_in, y.tgt_in) and torch.equal(x.tgt_out, y.tgt_out)
    s = stream(files, vec, seed=3, epoch=1, window=100)
    again = list(s)  # iterating the same object again replays the epoch
    assert all(torch.equal(x.src, y.src) for x, y in zip(a, again))
    s.set_epoch(2)
    c = list(s)
    assert [p for p in decoded_pairs(a, vec)] != [p for p in decoded_pairs(c, vec)]  # another order
    assert Counter(decoded_pairs(a, vec)) == Counter(decoded_pairs(c, vec))  # same pairs
    d = list(stream(files, vec, seed=4, epoch=1, window=100))
    assert decoded_pairs(a, vec) != decoded_pairs(d, vec)


def test_batches_respect_the_token_budget(files, vec):
    budget = 60
    batches = list(stream(files, vec, batch_tokens=budget, window=128))
    singles = 0
    for b in batches:
        padded = b.src.shape[0] * max(b.src.shape[1], b.tgt_in.shape[1])
        if b.src.shape[0] == 1:
            singles += padded > budget
        else:
            assert padded <= budget
    assert singles == 6  # the six 62-token sources (line i with i % 97 == 5) exceed the budget: alone
    # bucketing by length: little padding compared with unsorted batches
    real = sum(b.n_src_tokens for b in batches)
    padded = sum(b.src.numel() for b in batches)
    assert real / padded > 0.8


def test_window_smaller_than_corpus_yields_everything_and_bounds_what_is_held(files, vec):
    want = Counter(expected_pairs(*files))
    for window in (1, 37, 100, 10_000):
        s = stream(files, vec, window=window)
        got = decoded_pairs(s, vec)
        assert Counter(got) == want, window
        assert s.stats["peak_held"] <= window  # never more than a window of pairs in memory
        assert s.stats["peak_held"] == min(window, len(want))
        assert s.stats["windows"] == math.ceil(len(want) / window)
        assert s.stats["held"] == 0
        assert s.stats["batches"] == len(list(s))


def test_peak_held_is_measured_while_iterating(files, vec):
    s = stream(files, vec, window=50)
    seen = []
    for _ in s:
        seen.append(s.stats["held"])
        assert s.stats["held"] <= 50
    assert max(seen) > 0 and s.stats["peak_held"] == 50


# ========================================================================================================
# Formats and errors
# ========================================================================================================
def test_gzip_input_gives_the_same_batches_as_plain(tmp_path, files, vec):
    gz = write_pair_files(tmp_path, gz=True)
    a = list(stream(files, vec, seed=1, window=80))
    b = list(stream(gz, vec, seed=1, window=80))
    assert len(a) == len(b) and all(torch.equal(x.src, y.src) and torch.equal(x.tgt_out, y.tgt_out)
                                    for x, y in zip(a, b))


def test_tsv_input_with_header_and_shards(tmp_path, vec):
    src, tgt = make_corpus()
    rows = ["source\ttarget"] + [f"{s}\t{t}" for s, t in zip(src, tgt)]
    rows[20] = "only one column"  # bad_columns
    rows[30] = ""  # empty
    path = tmp_path / "train.tsv.gz"
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    want = read_tsv(path, skip_header=True, on_error="skip")
    got, skipped = Counter(), Counter()
    for rank in range(3):
        s = StreamingBatches(tsv=path, src_vectorizer=vec, tgt_vectorizer=vec, batch_tokens=300, skip_header=True,
                             rank=rank, world=3, window=50)
        got.update(decoded_pairs(s, vec))
        skipped.update(s.stats["skipped"])
    assert got == Counter(want.pairs()) and len(want) == N_PAIRS - 2
    assert dict(skipped) == want.skipped == {"bad_columns": 1, "empty": 1}
    with pytest.raises(DataError) as e:
        list(StreamingBatches(tsv=path, src_vectorizer=vec, tgt_vectorizer=vec, batch_tokens=300,
                              skip_header=True, on_error="raise"))
    assert str(e.value).startswith(f"{path}:21: line 21 has 1 tab-separated columns")


def test_bad_lines_are_skipped_and_counted_or_raise_with_file_and_line(files, vec):
    s = stream(files, vec)
    n = len(decoded_pairs(s, vec))
    assert n == N_PAIRS - 2
    assert s.stats["skipped"] == {"invalid_utf8": 1, "empty": 1}
    assert s.stats["lines"] == N_PAIRS
    with pytest.raises(DataError) as e:
        list(stream(files, vec, on_error="raise"))
    assert e.value.path == str(files[0]) and e.value.line == BAD_UTF8_LINE
    msg = str(e.value)
    assert msg.startswith(f"{files[0]}:{BAD_UTF8_LINE}: invalid UTF-8") and "\n" not in msg
    # the same message as the in-memory reader
    with pytest.raises(DataError) as e2:
        read_parallel(*files, on_error="raise")
    assert str(e2.value) == msg
    # the empty target line is raised by the shard that owns it (line 12 -> index 11 -> shard 1 of 2)
    with pytest.raises(DataError) as e3:
        list(stream(files, vec, on_error="raise", rank=1, world=2))
    assert e3.value.path == str(files[1]) and e3.value.line == EMPTY_LINE and "is empty" in str(e3.value)
    # max_length filters like the readers
    s = stream(files, vec, max_length=20)
    got = decoded_pairs(s, vec)
    assert Counter(got) == Counter(read_parallel(*files, on_error="skip", max_length=20).pairs())
    assert s.stats["skipped"]["too_long"] > 0


def test_misaligned_files_raise_even_when_skipping(tmp_path, vec):
    src, tgt = make_corpus(50)
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("\n".join(src) + "\n")
    b.write_text("\n".join(tgt[:48]) + "\n")
    with pytest.raises(DataError, match=r"has 50 lines but .* has 48"):
        list(StreamingBatches(a, b, vec, vec, 200, on_error="skip"))
    with pytest.raises(DataError, match=r"has 50 lines but .* has 48"):
        count_lines(a, b)
    assert count_lines(a) == 50
    c = tmp_path / "c.txt.gz"
    c.write_bytes(gzip.compress(b"x\ny\nno newline at the end"))
    assert count_lines(c) == 3


def test_bad_arguments_are_config_errors(files, vec, tmp_path):
    with pytest.raises(ConfigError):
        StreamingBatches(files[0], None, vec, vec, 200)
    with pytest.raises(ConfigError):
        StreamingBatches(files[0], files[1], vec, vec, 200, rank=2, world=2)
    with pytest.raises(ConfigError):
        StreamingBatches(files[0], files[1], vec, vec, 200, window=0)
    with pytest.raises(ConfigError):
        StreamingBatches(files[0], files[1], vec, vec, 200, on_error="ignore")
    with pytest.raises(DataError, match="file not found"):
        StreamingBatches(tmp_path / "missing.txt", files[1], vec, vec, 200)


# ------------------------------------------------------------------------------------- subword sampling
@pytest.fixture(scope="module")
def sp_vec() -> TextVectorizer:
    src, tgt = make_corpus()
    return TextVectorizer(standardize=None, split="sentencepiece", max_tokens=60,
                          sentencepiece_model_type="unigram").adapt(src + tgt)


def _src_rows(batches) -> list[tuple[int, ...]]:
    """Each row's source ids without padding and EOS."""
    return [tuple(r[r != 0].tolist()[:-1]) for b in batches for r in b.src]


def test_streaming_samples_each_line_anew_each_epoch_keyed_by_its_line(files, sp_vec):
    spec = SamplingSpec(0.5)
    s = StreamingBatches(files[0], files[1], sp_vec, sp_vec, 200, seed=3, window=64, sampling=(spec, spec))
    e0 = list(s)
    assert [tuple(b.src.flatten().tolist()) for b in list(s)] == [tuple(b.src.flatten().tolist()) for b in e0]
    s.set_epoch(1)
    rows0, rows1 = Counter(_src_rows(e0)), Counter(_src_rows(list(s)))
    assert rows0 != rows1  # a new segmentation each epoch
    # every row is the sample of its line, whatever the shard: (seed, epoch, line) decides it
    lines = [(line, text) for line, text, _ in s.pairs()]
    expected = sp_vec.sample_many([t for _, t in lines], spec, seed=3, epoch=1, keys=[n for n, _ in lines])
    assert rows1 == Counter(tuple(x) for x in expected)
    assert expected != sp_vec.encode_many([t for _, t in lines])  # it does sample
    halves = [StreamingBatches(files[0], files[1], sp_vec, sp_vec, 200, seed=3, epoch=1, window=64,
                               sampling=(spec, spec), rank=r, world=2) for r in range(2)]
    assert sum((Counter(_src_rows(list(h))) for h in halves), Counter()) == rows1
