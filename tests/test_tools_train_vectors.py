"""Tests of vectorseq.tools.train_vectors: word2vec / fastText vectors trained with gensim, streamed from a
corpus, read back by build_matrix. (fastText .bin subword vectors: tests/test_embeddings_vectors_io.py.)"""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from _vectors import _corpus
from vectorseq.embeddings.matrix import build_matrix
from vectorseq.embeddings.vectors_io import detect_format
from vectorseq.errors import ConfigError, DataError
from vectorseq.tools.train_vectors import train_vectors


def test_train_word2vec_streams_and_round_trips(tmp_path):
    texts = _corpus(2000, seed=3)
    corpus = tmp_path / "corpus.txt.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as f:
        f.write("\n".join(t.upper() for t in texts) + "\n")

    class Vectorizer:  # a TextVectorizer-like object
        def tokenize(self, text):
            return text.split()

    r = train_vectors(corpus, output_path=tmp_path / "w2v", dim=8, epochs=2, tokenize=Vectorizer(), lowercase=True)
    assert r.vec_path == tmp_path / "w2v.vec" and r.bin_path is None and r.vocabulary_size == 24
    assert detect_format(r.vec_path).format == "word2vec"
    pm = build_matrix(r.vec_path, ["the", "horse"], cache_dir=False, specials=())
    np.testing.assert_array_equal(pm.matrix[0], r.model.wv["the"])
    np.testing.assert_array_equal(pm.matrix[1], r.model.wv["horse"])
    again = train_vectors(iter(texts), output_path=tmp_path / "gen.vec", dim=8, epochs=2)  # one-shot iterator
    assert again.vocabulary_size == 24 and not list(tmp_path.glob(".corpus-*"))
    with pytest.raises(ConfigError):
        train_vectors(texts, output_path=tmp_path / "x", algorithm="glove")
    with pytest.raises(DataError, match="min_count"):
        train_vectors(["a b", "c d"], output_path=tmp_path / "y", min_count=5)
