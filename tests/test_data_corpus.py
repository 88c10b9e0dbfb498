"""Tests for vectorseq/data/corpus.py: ParallelCorpus."""
from __future__ import annotations

import pytest

from vectorseq.data import ParallelCorpus
from vectorseq.errors import ConfigError


# ========================================================================================================
# parallel.py: ParallelCorpus.subset
# ========================================================================================================
def test_subset_first_and_random_nested():
    corpus = ParallelCorpus([f"s{i}" for i in range(5000)], [f"t{i}" for i in range(5000)], source="toy")
    first = corpus.subset(10)
    assert first.src == [f"s{i}" for i in range(10)] and first.tgt[-1] == "t9"

    small = corpus.subset(1000, mode="random", seed=3)
    large = corpus.subset(3000, mode="random", seed=3)
    assert len(small) == 1000 and len(large) == 3000
    assert set(small.pairs()) <= set(large.pairs())  # nested
    assert small.src != corpus.src[:1000]  # actually random
    assert corpus.subset(1000, mode="random", seed=3).src == small.src  # deterministic
    assert corpus.subset(1000, mode="random", seed=4).src != small.src
    # Pairs stay aligned and in corpus order.
    assert all(s[1:] == t[1:] for s, t in small.pairs())
    assert [int(s[1:]) for s in small.src] == sorted(int(s[1:]) for s in small.src)
    assert "random 1000 of 5000, seed 3" in small.source
    assert len(corpus.subset(5000, mode="random")) == 5000

    with pytest.raises(ConfigError, match="5001 pairs from a corpus of 5000"):
        corpus.subset(5001)
    with pytest.raises(ConfigError, match="unknown subset mode"):
        corpus.subset(5, mode="last")


def test_corpus_requires_aligned_lists():
    with pytest.raises(ValueError):
        ParallelCorpus(["a"], [])
