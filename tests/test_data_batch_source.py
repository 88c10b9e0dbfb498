"""Batch sources: ready batches per update, deterministic per (seed, epoch), disjoint between ranks."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vectorseq.data.batch_source import InMemorySource, SampledSource, StreamingSource, fixed_batches
from vectorseq.data.batching import make_batches
from vectorseq.errors import VectorseqError
from vectorseq.text.subword_sampling import SamplingSpec
from vectorseq.vectorizer import TextVectorizer

BUDGET = 60


def _ids(n: int = 200, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Sentence ``i`` starts with token ``4 + i`` on both sides, so a batch row tells which sentence it is."""
    rng = np.random.default_rng(seed)
    src = [np.array([4 + i] + [4] * int(rng.integers(0, 11)), dtype=np.int64) for i in range(n)]
    tgt = [np.array([4 + i] + [5] * int(rng.integers(0, 11)), dtype=np.int64) for i in range(n)]
    return src, tgt


def _sentences(batch) -> list[int]:
    return (batch.src[:, 0] - 4).tolist()


def _key(batch) -> tuple:
    """A batch's content, comparable with ==."""
    return tuple(t.tolist() for t in (batch.src, batch.tgt_in, batch.tgt_out)) + (batch.n_tgt_tokens,)


def _updates(source, epoch=0, start=0, rank=0, world=1, accumulate=1) -> list[list[tuple]]:
    return [[_key(b) for b in group] for group in source.updates(epoch, start, rank, world, accumulate)]


def test_in_memory_same_seed_and_epoch_give_the_same_batches():
    a, b = InMemorySource(*_ids(), BUDGET, seed=1), InMemorySource(*_ids(), BUDGET, seed=1)
    assert _updates(a, epoch=2) == _updates(b, epoch=2)
    assert _updates(a, epoch=2) != _updates(a, epoch=3)
    assert _updates(a, epoch=2) != _updates(InMemorySource(*_ids(), BUDGET, seed=2), epoch=2)
    for group in a.updates(0, 0, 0, 1, 1):
        assert group[0].src.shape[0] * group[0].src.shape[1] <= BUDGET or group[0].src.shape[0] == 1


def test_ranks_take_disjoint_interleaved_slices_like_accumulation():
    source = InMemorySource(*_ids(), BUDGET, seed=1)
    one = _updates(source, accumulate=2)  # 1 process, 2 batches per update
    r0 = _updates(source, rank=0, world=2)
    r1 = _updates(source, rank=1, world=2)
    assert len(one) == len(r0) == len(r1) > 0
    for u, (a, b) in enumerate(zip(r0, r1)):
        assert [a[0], b[0]] == one[u]  # rank r takes batches r, r + world, ...
    rank_sentences = [{i for group in source.updates(0, 0, r, 2, 1) for b in group for i in _sentences(b)}
                      for r in (0, 1)]
    assert rank_sentences[0] and not rank_sentences[0] & rank_sentences[1]  # disjoint
    once = [i for group in source.updates(0, 0, 0, 1, 1) for b in group for i in _sentences(b)]
    assert sorted(once) == list(range(200))  # 1 process, accumulate 1: every sentence once


def test_start_skips_the_updates_already_done():
    source = InMemorySource(*_ids(), BUDGET, seed=1)
    for world, acc in ((1, 1), (2, 1), (1, 3)):
        full = _updates(source, epoch=1, world=world, accumulate=acc)
        assert _updates(source, epoch=1, start=3, world=world, accumulate=acc) == full[3:]


def test_too_little_data_raises_one_line():
    source = InMemorySource(*_ids(4), BUDGET, seed=1)
    with pytest.raises(VectorseqError) as e:
        next(source.updates(0, 0, 0, 2, 8))
    assert str(e.value) == ("too little training data for 2 process(es) x accumulate 8 at batch_tokens=60; "
                            "lower batch_tokens or the number of processes")


def test_fixed_batches_cover_the_set_once_unshuffled():
    src, tgt = _ids(50)
    batches = list(fixed_batches(src, tgt, BUDGET))
    assert sum(b.src.shape[0] for b in batches) == 50
    assert [_key(b) for b in batches] == [_key(b) for b in fixed_batches(src, tgt, BUDGET)]


# -------------------------------------------------------------------------------------------- streaming
@pytest.fixture
def stream_files(tmp_path):
    rng = np.random.default_rng(0)
    words = "a man woman dog runs in the park with ball red blue".split()
    src = [" ".join(rng.choice(words, rng.integers(1, 10))) for _ in range(120)]
    tgt = [" ".join(rng.choice(words, rng.integers(1, 10))) for _ in range(120)]
    (tmp_path / "s.txt").write_text("\n".join(src) + "\n")
    (tmp_path / "t.txt").write_text("\n".join(tgt) + "\n")
    vec = TextVectorizer(standardize="none", split="whitespace").adapt(src + tgt)
    return {"src_path": tmp_path / "s.txt", "tgt_path": tmp_path / "t.txt", "src_vectorizer": vec,
            "tgt_vectorizer": vec, "seed": 3, "window": 50}


def test_streaming_updates_are_deterministic_and_start_skips(stream_files):
    source = StreamingSource({**stream_files, "batch_tokens": BUDGET})
    full = _updates(source, epoch=1, accumulate=2)
    assert len(full) > 3 and all(len(g) == 2 for g in full)
    assert _updates(source, epoch=1, accumulate=2) == full
    assert _updates(source, epoch=2, accumulate=2) != full
    assert _updates(source, epoch=1, start=3, accumulate=2) == full[3:]


def test_streaming_ranks_stop_together_and_too_little_data_raises(stream_files):
    calls = []

    def any_exhausted(flag: bool) -> bool:  # a stand-in for the all-reduce: record and pass through
        calls.append(flag)
        return flag

    source = StreamingSource({**stream_files, "batch_tokens": BUDGET}, any_exhausted=any_exhausted)
    n = len(_updates(source, rank=1, world=2))
    assert calls == [False] * n + [True]  # asked before every update, and once more to stop
    with pytest.raises(VectorseqError, match="too little training data for 1 process"):
        _updates(StreamingSource({**stream_files, "batch_tokens": 10_000}), accumulate=50)
    assert torch.is_tensor(next(iter(source.updates(0, 0, 0, 1, 1)))[0].src)


# ------------------------------------------------------------------------------------- subword sampling
def test_sampled_source_cuts_each_epoch_from_its_sampled_ids_the_same_on_every_rank():
    texts = [" ".join(["transformers translate sentences"] * (1 + i % 4)) + f" n{i}" for i in range(120)]
    vec = TextVectorizer(standardize="none", split="sentencepiece", max_tokens=60).adapt(texts)
    ids = [np.asarray(x, dtype=np.int64) for x in vec.encode_many(texts)]

    def source():
        return SampledSource(ids, ids, BUDGET * 4, seed=1, texts=(texts, texts), vecs=(vec, vec),
                             specs=(SamplingSpec(0.3), None))

    a = source()
    src0, tgt0 = a.epoch_ids(0)
    assert tgt0 is ids and [x.tolist() for x in src0] != [x.tolist() for x in ids]  # only the sampled side changes
    # batch lengths follow the sampled ids; rank slices of 2 processes are the 1-process batches, in order
    one = _updates(source(), epoch=2, accumulate=2)
    two = [_updates(source(), epoch=2, rank=r, world=2) for r in range(2)]
    assert [[g0[0], g1[0]] for g0, g1 in zip(*two)] == one
    assert _updates(a, epoch=2) != _updates(a, epoch=3)


def test_sampled_source_buckets_by_the_sampled_lengths():
    texts = [" ".join(["subword regularization samples pieces"] * (1 + i % 5)) + f" n{i}" for i in range(150)]
    vec = TextVectorizer(standardize="none", split="sentencepiece", max_tokens=60).adapt(texts)
    ids = [np.asarray(x, dtype=np.int64) for x in vec.encode_many(texts)]
    s = SampledSource(ids, ids, BUDGET * 4, seed=1, texts=(texts, texts), vecs=(vec, vec),
                      specs=(SamplingSpec(0.4), SamplingSpec(0.4)))
    src, tgt = s.epoch_ids(1)
    lens = (np.array([len(x) + 1 for x in src]), np.array([len(x) + 1 for x in tgt]))
    got = [b.tolist() for b in s.epoch_batches(1)]
    assert got == [b.tolist() for b in make_batches(*lens, BUDGET * 4, seed=1, epoch=1)]
    assert got != [b.tolist() for b in make_batches(s.src_lens, s.tgt_lens, BUDGET * 4, seed=1, epoch=1)]
