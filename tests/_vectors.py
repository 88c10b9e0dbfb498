"""Shared helpers of the pretrained-vectors tests (tests/test_embeddings_*.py): small vectors files."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from vectorseq.embeddings.matrix import PretrainedMatrix

SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
VECS = {
    "the": [0.1, 0.2, 0.3],
    "cat": [1.5, -2.0, 3.25],
    "sat": [-0.5, 0.0, 7.0],
    "Paris": [4.0, 4.5, 5.0],
}


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def glove_text(vecs=VECS, header=False, trailing="", eol="\n") -> str:
    lines = [f"{w} {' '.join(repr(float(x)) for x in v)}{trailing}" for w, v in vecs.items()]
    if header:
        lines.insert(0, f"{len(vecs)} {len(next(iter(vecs.values())))}")
    return eol.join(lines) + eol


def check_rows(pm: PretrainedMatrix, vocab, vecs=VECS) -> None:
    for i, w in enumerate(vocab):
        if w in vecs:
            np.testing.assert_array_equal(pm.matrix[i], np.array(vecs[w], dtype=np.float32))
            assert pm.how[i] == "exact" and pm.pretrained_mask[i]


VOCAB = SPECIALS + ["the", "cat", "sat", "Paris"]


def _kv(vecs=VECS):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=3)
    kv.add_vectors(list(vecs), np.array(list(vecs.values()), dtype=np.float32))
    return kv


def _corpus(n=2500, seed=0):
    rng = random.Random(seed)
    nouns = ["cat", "dog", "man", "woman", "child", "horse", "bird", "car", "ball", "tree"]
    verbs = ["runs", "sees", "walks", "jumps", "eats", "holds"]
    adjs = ["big", "small", "red", "green", "old", "young"]
    return [" ".join(["the", rng.choice(adjs), rng.choice(nouns), rng.choice(verbs), "a", rng.choice(nouns)])
            for _ in range(n)]
