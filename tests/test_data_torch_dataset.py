"""Tests for vectorseq/data/torch_dataset.py: StreamingDataset with DataLoader workers and pickling."""
from __future__ import annotations

import pickle
from collections import Counter

import torch
from torch.utils.data import DataLoader

from _streaming_corpus import decoded_pairs, expected_pairs, files, make_corpus, vec  # noqa: F401 (fixtures)
from vectorseq.data.torch_dataset import StreamingDataset
from vectorseq.data.windowed import StreamingBatches
from vectorseq.text.subword_sampling import SamplingSpec
from vectorseq.vectorizer import TextVectorizer


def test_streaming_dataset_with_dataloader_workers(files, vec):
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


def test_dataloader_workers_sample_each_line_as_one_process_does(files):
    # the sampling settings travel to the workers, and a line's sample does not depend on the worker
    spec = SamplingSpec(0.1)
    src, tgt = make_corpus()
    sp_vec = TextVectorizer(standardize=None, split="sentencepiece", max_tokens=60).adapt(src + tgt)
    args = (files[0], files[1], sp_vec, sp_vec, 200)
    kw = {"seed": 5, "window": 60, "sampling": (spec, spec)}
    ds = StreamingDataset(*args, **kw)
    ds.set_epoch(2)
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="fork")
    one = StreamingBatches(*args, epoch=2, **kw)

    def rows(batches):
        return Counter(tuple(r[r != 0].tolist()) for b in batches for r in b.src)

    assert rows(loader) == rows(one)
    assert rows(loader) != rows(StreamingBatches(*args, epoch=3, **kw))
