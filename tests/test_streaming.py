"""Tests for vectorseq/data/streaming.py: sharded, windowed token-budget batches read from files.

Batches are checked *by content*: every sentence holds a unique token, the vectorizer (whitespace split,
no standardization) maps ids back to the exact text, and the pairs a stream yields are compared with what
``read_parallel`` / ``read_tsv`` read from the same files.
"""
from __future__ import annotations

import gzip
import math
import pickle
import random
import threading
from collections import Counter
from pathlib import Path

import pytest
import torch

from vectorseq.data.parallel import read_parallel, read_tsv
from vectorseq.data.streaming import (
    StreamingBatches,
    StreamingDataset,
    adapt_on_sample,
    count_lines,
    lockstep,
    sample_lines,
    sample_pairs,
)
from vectorseq.errors import ConfigError, DataError
from vectorseq.vectorizer import BOS_ID, EOS_ID, PAD_ID, TextVectorizer

N_PAIRS = 500
BAD_UTF8_LINE = 7  # 1-based line numbers of the two bad pairs
EMPTY_LINE = 12
WORDS = "a man woman dog runs in the park with ball red blue big small child plays on grass".split()


def make_corpus(n: int = N_PAIRS, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    src, tgt = [], []
    for i in range(n):
        k = 60 if i % 97 == 5 else rng.randint(1, 25)  # a few pairs longer than the test budget's share
        src.append(f"s{i} " + " ".join(rng.choice(WORDS) for _ in range(k)))
        tgt.append(f"t{i} " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 25))))
    return src, tgt


def write_pair_files(tmp_path: Path, gz: bool = False, bad: bool = True) -> tuple[Path, Path]:
    src, tgt = make_corpus()
    src_raw = [s.encode() for s in src]
    tgt_raw = [t.encode() for t in tgt]
    if bad:
        src_raw[BAD_UTF8_LINE - 1] = b"s-bad \xff\xfe latin1 caf\xe9"
        tgt_raw[EMPTY_LINE - 1] = b"   "
    suffix = ".gz" if gz else ".txt"
    out = []
    for name, lines in (("src", src_raw), ("tgt", tgt_raw)):
        data = b"\n".join(lines) + b"\n"
        p = tmp_path / f"{name}{suffix}"
        p.write_bytes(gzip.compress(data) if gz else data)
        out.append(p)
    return out[0], out[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    return write_pair_files(tmp_path_factory.mktemp("stream"))


@pytest.fixture(scope="module")
def vec() -> TextVectorizer:
    src, tgt = make_corpus()
    return TextVectorizer(standardize=None, split="whitespace").adapt(src + tgt)


def decoded_pairs(batches, vec: TextVectorizer) -> list[tuple[str, str]]:
    """The (source, target) texts of every row of every batch, checking each batch's layout on the way."""
    vocab = vec.get_vocabulary()
    out = []
    for b in batches:
        assert b.src.shape[0] == b.tgt_in.shape[0] == b.tgt_out.shape[0]
        assert torch.equal(b.src_mask, b.src != PAD_ID)
        assert (b.tgt_in[:, 0] == BOS_ID).all()
        assert int(b.src_mask.sum()) == b.n_src_tokens
        assert int((b.tgt_out != PAD_ID).sum()) == b.n_tgt_tokens
        for r in range(b.src.shape[0]):
            s = [i for i in b.src[r].tolist() if i != PAD_ID]
            t = [i for i in b.tgt_out[r].tolist() if i != PAD_ID]
            assert s[-1] == EOS_ID and t[-1] == EOS_ID
            out.append((" ".join(vocab[i] for i in s[:-1]), " ".join(vocab[i] for i in t[:-1])))
    return out


def expected_pairs(src: Path, tgt: Path) -> list[tuple[str, str]]:
    return read_parallel(src, tgt, on_error="skip").pairs()


def stream(files, vec, **kw) -> StreamingBatches:
    kw.setdefault("batch_tokens", 200)
    return StreamingBatches(files[0], files[1], vec, vec, **kw)


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


# ========================================================================================================
# torch DataLoader and lockstep
# ========================================================================================================
def test_streaming_dataset_with_dataloader_workers(files, vec):
    from torch.utils.data import DataLoader

    want = Counter(expected_pairs(*files))
    ds = StreamingDataset(files[0], files[1], vec, vec, 200, seed=5, window=60)
    plain = list(DataLoader(ds, batch_size=None, num_workers=0))
    direct = list(StreamingBatches(files[0], files[1], vec, vec, 200, seed=5, window=60))
    assert all(torch.equal(x.src, y.src) for x, y in zip(plain, direct)) and len(plain) == len(direct)
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="fork")
    first = list(loader)
    assert Counter(decoded_pairs(first, vec)) == want  # two workers = two disjoint shards
    second = list(loader)  # deterministic
    assert all(torch.equal(x.src, y.src) for x, y in zip(first, second))
    # worker w of 2 reads the same shard as StreamingBatches(worker=w, num_workers=2)
    w1 = list(StreamingBatches(files[0], files[1], vec, vec, 200, seed=5, window=60, worker=1, num_workers=2))
    assert torch.equal(first[1].src, w1[0].src)
    # picklable for spawn / forkserver workers, even with a word-split vectorizer (it holds closures)
    wvec = TextVectorizer(split="word").adapt(make_corpus()[0])
    ds2 = StreamingDataset(files[0], files[1], wvec, wvec, 200, window=60)
    clone = pickle.loads(pickle.dumps(ds2))
    assert clone.stream.src_vectorizer is clone.stream.tgt_vectorizer
    assert all(torch.equal(x.src, y.src) for x, y in zip(ds2, clone))


def test_lockstep_stops_every_rank_at_the_same_update():
    lengths = {0: 11, 1: 7}  # rank 1 runs out first
    acc = 2
    barrier = threading.Barrier(2)
    flags: dict[int, bool] = {}
    results: dict[int, list] = {}

    def all_reduce_any(rank: int, flag: bool) -> bool:
        flags[rank] = flag
        barrier.wait()
        out = any(flags.values())
        barrier.wait()
        return out

    def run(rank: int) -> None:
        results[rank] = list(lockstep(iter(range(lengths[rank])), acc, lambda f: all_reduce_any(rank, f)))

    threads = [threading.Thread(target=run, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(results[0]) == len(results[1]) == 7 // acc == 3
    assert results[0][0] == [0, 1] and all(len(g) == acc for g in results[0])
    # single process: stops when its own batches end, dropping a partial update
    assert list(lockstep(range(5), 2)) == [[0, 1], [2, 3]]


# ========================================================================================================
# Reservoir sampling and adapt
# ========================================================================================================
def test_reservoir_sample_size_determinism_and_uniformity(tmp_path):
    path = tmp_path / "mono.txt.gz"
    path.write_bytes(gzip.compress("".join(f"line {i}\n" for i in range(10_000)).encode()))
    a = sample_lines(path, 1000, seed=0)
    assert len(a) == 1000 and len(set(a)) == 1000
    assert a == sample_lines(path, 1000, seed=0)
    assert a != sample_lines(path, 1000, seed=1)
    deciles = Counter(int(x.split()[1]) // 1000 for x in a)
    assert set(deciles) == set(range(10))  # every decile represented ...
    assert all(60 <= c <= 140 for c in deciles.values()), deciles  # ... about equally (expected 100 each)
    numbers = [int(x.split()[1]) for x in a]
    assert numbers == sorted(numbers)  # returned in stream order
    # more requested than available: everything, once
    small = tmp_path / "small.txt"
    small.write_bytes(b"x\n\n\xff bad\ny\nz\n")  # the empty and the invalid line are left out
    assert sorted(sample_lines(small, 10, seed=0)) == ["x", "y", "z"]
    # several sources and a TSV column
    tsv = tmp_path / "p.tsv"
    tsv.write_text("a\tA\nb\tB\n")
    assert sorted(sample_lines([small, (tsv, 1)], 100)) == ["A", "B", "x", "y", "z"]


def test_adapt_on_sample(tmp_path):
    src, tgt = make_corpus(300)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("\n".join(src) + "\n")
    b.write_text("\n".join(tgt) + "\n")
    def new() -> TextVectorizer:
        return TextVectorizer(split="whitespace", standardize=None)

    full = adapt_on_sample(new(), [a, b], n=None)  # every line, streamed
    assert full.get_vocabulary() == new().adapt(src + tgt).get_vocabulary()
    part = adapt_on_sample(new(), [a, b], n=100, seed=2)
    assert part.vocabulary_size() < full.vocabulary_size()
    vocab = set(part.get_vocabulary())
    assert any(w.startswith("s") for w in vocab - set(WORDS)) and any(w.startswith("t") for w in vocab - set(WORDS))


def test_sample_pairs_keeps_pairs_aligned_and_validates_the_whole_corpus(files, tmp_path):
    want = expected_pairs(*files)
    sample = sample_pairs(files[0], files[1], n=100, seed=3)
    assert len(sample) == 100 and sample.skipped == {"invalid_utf8": 1, "empty": 1}
    assert set(sample.pairs()) <= set(want)  # aligned: every sampled (src, tgt) is a real pair
    assert sample.pairs() == sample_pairs(files[0], files[1], n=100, seed=3).pairs()
    assert sample.pairs() != sample_pairs(files[0], files[1], n=100, seed=4).pairs()
    assert "reservoir sample of 100 of 498 pairs" in sample.source
    assert sample_pairs(files[0], files[1], n=10_000).pairs() == want  # everything, in file order
    with pytest.raises(DataError) as e:
        sample_pairs(files[0], files[1], n=10, on_error="raise")
    assert e.value.line == BAD_UTF8_LINE
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("x\ny\nz\n")
    b.write_text("X\nY\n")
    with pytest.raises(DataError, match="has 3 lines but"):
        sample_pairs(a, b, n=1)
