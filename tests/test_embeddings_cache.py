"""Tests of vectorseq.embeddings.cache: a hit never opens the vectors file; any change is a miss."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from _vectors import VOCAB, glove_text, write
from vectorseq.embeddings import vectors_io
from vectorseq.embeddings.cache import default_cache_dir
from vectorseq.embeddings.matrix import build_matrix


def test_cache_hit_does_not_open_the_file(tmp_path, monkeypatch):
    p = write(tmp_path / "v.txt", glove_text())
    cache = tmp_path / "cache"
    first = build_matrix(p, VOCAB + ["dog"], cache_dir=cache)
    assert not first.from_cache
    assert sorted(x.suffix for x in cache.iterdir()) == [".json", ".npy"]
    assert not list(cache.glob("*.pkl"))
    json.loads(next(cache.glob("*.json")).read_text())

    def refuse(path):
        raise AssertionError(f"the vectors file was opened: {path}")

    monkeypatch.setattr(vectors_io, "open_vectors", refuse)  # every read of a vectors file
    second = build_matrix(p, VOCAB + ["dog"], cache_dir=cache)
    assert second.from_cache
    np.testing.assert_array_equal(second.matrix, first.matrix)
    assert second.how == first.how and second.format == "glove" and second.stats == first.stats
    assert (second.pretrained_mask == first.pretrained_mask).all()
    with pytest.raises(AssertionError, match="opened"):  # another vocabulary: a miss
        build_matrix(p, VOCAB, cache_dir=cache)
    with pytest.raises(AssertionError, match="opened"):  # other options: a miss
        build_matrix(p, VOCAB + ["dog"], cache_dir=cache, seed=1)
    monkeypatch.undo()
    os.utime(p, ns=(1, 1))  # the file changed (mtime): a miss
    assert not build_matrix(p, VOCAB + ["dog"], cache_dir=cache).from_cache
    monkeypatch.setenv("VECTORSEQ_CACHE", str(tmp_path / "envcache"))
    assert default_cache_dir() == tmp_path / "envcache" / "vectors"
    build_matrix(p, VOCAB, cache_dir=None)
    assert build_matrix(p, VOCAB).from_cache
