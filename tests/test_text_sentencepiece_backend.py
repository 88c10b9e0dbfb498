"""Tests for vectorseq.text.sentencepiece_backend: training, lossless round trips, determinism, errors."""
from __future__ import annotations

import gzip
import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectorseq.errors import VectorseqError
from vectorseq.text.standardize import standardize
from vectorseq.vectorizer import BOS_ID, EOS_ID, SPECIAL_TOKENS, UNK_ID, TextVectorizer

from _text_data import CORPUS, _settings, _sk_vocab, sp_vectorizer


def test_sentencepiece_basics(sp_vectorizer):
    v = sp_vectorizer
    vocab = v.get_vocabulary()
    assert tuple(vocab[:4]) == SPECIAL_TOKENS
    assert 50 < v.vocabulary_size() <= 250
    ids = v.encode("A man sits.", add_bos=True, add_eos=True)
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID and ids[1:-1] == v.encode("A man sits.")
    pieces = v.tokenize("A man sits.")
    assert all(p in vocab for p in pieces) and "".join(pieces).replace("▁", " ").strip() == "A man sits."
    assert v.decode_tokens(pieces) == "A man sits."
    # literal control strings are text, not control ids
    ids = v.encode("</s> <s>")
    assert EOS_ID not in ids and BOS_ID not in ids


def test_sentencepiece_lossless_round_trip(sp_vectorizer):
    v = sp_vectorizer
    extra = ["  A  man\tsits\n on the   beach!  ", "THE DOG IS WALKING (AT 5 O'CLOCK).", ""]
    for text in CORPUS + extra:
        ids = v.encode(text)
        assert UNK_ID not in ids and all(0 <= i < v.vocabulary_size() for i in ids)
        assert v.decode(ids) == " ".join(text.split())
        assert v.decode(ids + [EOS_ID] + ids) == " ".join(text.split())
    batch = v.encode_batch(CORPUS[:5], add_eos=True)
    assert v.inverse_transform(batch.ids) == CORPUS[:5]
    assert v.encode_many(CORPUS[:20]) == [v.encode(t) for t in CORPUS[:20]]
    assert v.decode(v.encode("A man ~ sits")) == "A man <unk> sits"  # '~' never seen


@pytest.mark.parametrize("model_type", ["bpe", "unigram"])
def test_sentencepiece_deterministic_and_standardized(model_type):
    kw = dict(split="sentencepiece", standardize="lower", max_tokens=120, sentencepiece_model_type=model_type)
    a = TextVectorizer(**kw).adapt(CORPUS[:200])
    b = TextVectorizer(**kw).adapt(t for t in CORPUS[:200])
    assert a.get_vocabulary() == b.get_vocabulary()
    assert a.encode_many(CORPUS[:50]) == b.encode_many(CORPUS[:50])
    assert a.decode(a.encode("A MAN  Sits.")) == "a man sits."


def test_sentencepiece_tf_idf_equals_sklearn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = CORPUS[:150]
    v = TextVectorizer(split="sentencepiece", standardize=None, max_tokens=150, output_mode="tf_idf",
                       sentencepiece_model_type="bpe").adapt(texts)
    tv = TfidfVectorizer(analyzer=v.tokenize, lowercase=False, vocabulary=_sk_vocab(v))
    expected = tv.fit_transform(texts).toarray()
    np.testing.assert_allclose(v.idf_[4:], tv.idf_, rtol=1e-12)
    np.testing.assert_allclose(v.transform(texts).toarray()[:, 4:], expected, rtol=1e-12, atol=1e-15)


def test_sentencepiece_errors():
    with pytest.raises(VectorseqError, match="needs max_tokens"):
        TextVectorizer(split="sentencepiece")
    with pytest.raises(VectorseqError, match=r"too small.*max_tokens >= 16"):
        TextVectorizer(split="sentencepiece", max_tokens=10, standardize=None).adapt(["hello world this is text"])
    with pytest.raises(VectorseqError, match="empty corpus"):
        TextVectorizer(split="sentencepiece", max_tokens=100).adapt(iter([]))
    with pytest.raises(VectorseqError, match="all are empty"):
        TextVectorizer(split="sentencepiece", max_tokens=100).adapt(["", " ... "])
    with pytest.raises(VectorseqError, match="vocabulary= cannot be used"):
        TextVectorizer(split="sentencepiece", max_tokens=100, vocabulary=["a"])
    with pytest.raises(VectorseqError, match="ngrams"):
        TextVectorizer(split="sentencepiece", max_tokens=100, output_mode="count", ngrams=2)


def _multi30k_dir() -> Path:
    return Path(os.environ.get("VECTORSEQ_MULTI30K", Path(__file__).resolve().parents[2] / "shared/data/multi30k"))


@pytest.mark.multi30k
@pytest.mark.parametrize("model_type", ["bpe", "unigram"])
def test_sentencepiece_multi30k(model_type):
    root = _multi30k_dir()
    if not (root / "train.en.gz").is_file() or not (root / "val.en.gz").is_file():
        pytest.skip(f"Multi30k not found at {root} (set VECTORSEQ_MULTI30K)")
    with gzip.open(root / "train.en.gz", "rt", encoding="utf-8") as f:
        train = (line.rstrip("\n") for line in itertools.islice(f, 3000))
        v = TextVectorizer(split="sentencepiece", standardize="nfkc", max_tokens=1000,
                           sentencepiece_model_type=model_type).adapt(train)
    with gzip.open(root / "val.en.gz", "rt", encoding="utf-8") as f:
        val = [line.rstrip("\n") for line in itertools.islice(f, 300)]
    known = set("".join(p for p in v.get_vocabulary()[4:]).replace("▁", " "))
    checked = 0
    for text in val:
        s = standardize(text, "nfkc")
        if set(s) - {" "} <= known:
            assert v.decode(v.encode(s)) == " ".join(s.split())
            checked += 1
    assert checked > 250


_SP_ALPHABET = sorted(set("".join(CORPUS)) | {" ", "\t", "\n"})


@_settings
@given(x=st.text(alphabet=_SP_ALPHABET, max_size=60))
def test_property_sentencepiece_round_trip(x, sp_vectorizer_bpe):
    v = sp_vectorizer_bpe
    ids = v.encode(x)
    assert UNK_ID not in ids and all(4 <= i < v.vocabulary_size() for i in ids)
    assert v.decode(ids) == " ".join(x.split())


@pytest.fixture(scope="module")
def sp_vectorizer_bpe():
    return TextVectorizer(split="sentencepiece", standardize=None, max_tokens=200,
                          sentencepiece_model_type="bpe").adapt(CORPUS)
