"""Tests of vectorseq.embeddings.inspection: `vectorseq embeddings inspect` on texts, a vocabulary file, or nothing."""
from __future__ import annotations

import json

from _vectors import write
from vectorseq.embeddings.inspection import inspect_vectors


def test_inspect_vectors(tmp_path):
    p = write(tmp_path / "c.vec", "4 2\nthe 1 0\ncat 2 0\nparis 3 0\nDOG 4 0\n")
    texts = ["the cat saw Paris", "the dog", "a yak"]
    info = inspect_vectors(p, texts=texts, cache_dir=False)
    assert (info["format"], info["dim"], info["vectors"], info["header"]) == ("word2vec", 2, 4, True)
    cov = info["coverage"]
    assert cov["types"] == 7 and cov["types_covered"] == 4 and cov["tokens"] == 8 and cov["tokens_covered"] == 5
    assert cov["top_unmatched"][0] == {"word": "a", "count": 1}
    vocab_file = write(tmp_path / "vocab.txt", "<pad>\nthe\ncat\nzebra\n")
    info = inspect_vectors(p, vocabulary=vocab_file, cache_dir=False)
    assert info["coverage"]["types"] == 3 and info["coverage"]["types_covered"] == 2
    bare = inspect_vectors(p, cache_dir=False)
    assert bare["vectors"] == 4 and bare["coverage"] is None
    json.dumps(info)
