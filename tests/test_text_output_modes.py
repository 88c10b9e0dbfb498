"""Tests for vectorseq.text.output_modes: int / one_hot, and multi_hot / count / tf_idf against scikit-learn."""
from __future__ import annotations

import numpy as np
import pytest

from vectorseq import vectorizer as vmod
from vectorseq.errors import VectorseqError
from vectorseq.text.standardize import standardize
from vectorseq.vectorizer import PAD_ID, SPECIAL_TOKENS, UNK_ID, TextVectorizer

from _text_data import BAG_TEXTS, _sk_vocab


def test_transform_int_shape_is_longest():
    v = TextVectorizer(standardize=None).adapt(["a b c"])
    out = v.transform(["a", "a b c", "zz"])
    assert out.shape == (3, 3) and out.tolist() == [[4, 0, 0], [4, 5, 6], [1, 0, 0]]
    assert v(["a"]).tolist() == [[4]]


def test_one_hot(monkeypatch):
    v = TextVectorizer(standardize=None, split="character", output_mode="one_hot").adapt(["abc", "ab"])
    out = v.transform(["ab", "c", "zz"])
    assert out.shape == (3, 2, v.vocabulary_size()) and out.dtype == np.float32
    ids = TextVectorizer(standardize=None, split="character", vocabulary=v.get_vocabulary()).transform(["ab", "c", "zz"])
    mask = ids != 0
    assert np.array_equal(out.sum(-1), mask.astype(np.float32))  # padding rows are all zero
    assert np.array_equal(out.argmax(-1)[mask], ids[mask])
    assert out[2, :, UNK_ID].tolist() == [1.0, 1.0]
    wide = TextVectorizer(split="character", output_mode="one_hot", max_tokens=20, pad_to_max_tokens=True).adapt(["ab"])
    assert wide.transform(["a"]).shape == (1, 1, 20)
    monkeypatch.setattr(vmod, "ONE_HOT_MAX_BYTES", 100)
    with pytest.raises(VectorseqError, match=r"would take 168 bytes .*output_mode='int'"):
        v.transform(["abc", "ab"])  # 2 x 3 x 7 x 4 bytes


@pytest.mark.parametrize("mode", ["count", "multi_hot"])
@pytest.mark.parametrize("ngrams,ngram_range", [(None, (1, 1)), (2, (1, 2)), ((2, 3), (2, 3)), (3, (1, 3))])
def test_bag_modes_equal_sklearn(mode, ngrams, ngram_range):
    from sklearn.feature_extraction.text import CountVectorizer

    v = TextVectorizer(split="word", output_mode=mode, ngrams=ngrams).adapt(BAG_TEXTS)
    cv = CountVectorizer(tokenizer=v.tokenize, lowercase=False, token_pattern=None, ngram_range=ngram_range,
                         binary=(mode == "multi_hot"))
    cv.fit(BAG_TEXTS)
    assert set(v.get_vocabulary()[4:]) == set(cv.vocabulary_)  # same n-grams, joined by one space
    cv_fixed = CountVectorizer(tokenizer=v.tokenize, lowercase=False, token_pattern=None, ngram_range=ngram_range,
                               binary=(mode == "multi_hot"), vocabulary=_sk_vocab(v))
    ours = v.transform(BAG_TEXTS)
    assert ours.format == "csr" and ours.shape == (len(BAG_TEXTS), v.vocabulary_size()) and ours.dtype == np.float32
    dense = ours.toarray()
    assert not dense[:, :4].any()  # pad / unk / bos / eos columns are zero without unknown tokens
    np.testing.assert_array_equal(dense[:, 4:], cv_fixed.transform(BAG_TEXTS).toarray())


def test_bag_unknown_column_and_pad_to_max_tokens():
    v = TextVectorizer(output_mode="count").adapt(["a b", "b c"])
    row = v.transform(["a zebra zebra a q"]).toarray()[0]
    assert row[UNK_ID] == 3 and row[v.vocabulary_["a"]] == 2 and row[PAD_ID] == 0
    mh = TextVectorizer(output_mode="multi_hot", vocabulary=["a", "b", "c"])
    assert mh.transform(["a zebra zebra a"]).toarray()[0].tolist() == [0, 1, 0, 0, 1, 0, 0]
    wide = TextVectorizer(output_mode="multi_hot", max_tokens=50, pad_to_max_tokens=True).adapt(["a b"])
    assert wide.transform(["a", "b"]).shape == (2, 50)
    assert len(wide.get_feature_names_out()) == 50


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"smooth_idf": False},
        {"sublinear_tf": True},
        {"tfidf_norm": "l1"},
        {"tfidf_norm": None, "smooth_idf": False, "sublinear_tf": True},
        {"ngrams": 2},
    ],
)
def test_tf_idf_equals_sklearn(kw):
    from sklearn.feature_extraction.text import TfidfVectorizer

    v = TextVectorizer(split="word", output_mode="tf_idf", **kw).adapt(BAG_TEXTS)
    norm = kw.get("tfidf_norm", "l2")
    tv = TfidfVectorizer(tokenizer=v.tokenize, lowercase=False, token_pattern=None, vocabulary=_sk_vocab(v),
                         ngram_range=(1, kw.get("ngrams", 1)), norm=norm, smooth_idf=kw.get("smooth_idf", True),
                         sublinear_tf=kw.get("sublinear_tf", False))
    expected = tv.fit_transform(BAG_TEXTS).toarray()
    np.testing.assert_allclose(v.idf_[4:], tv.idf_, rtol=1e-12)
    ours = v.transform(BAG_TEXTS)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours.toarray()[:, 4:], expected, rtol=1e-12, atol=1e-15)
    assert not ours.toarray()[:, :4].any()
    new = ["the cat sat", "mat mat", "the dog"]  # no unknown tokens (unknowns count in <unk> and in the norm)
    np.testing.assert_allclose(v.transform(new).toarray()[:, 4:], tv.transform(new).toarray(), rtol=1e-12)
    # idf of the specials: 0 for pad / bos / eos, mean idf for unk (as Keras)
    assert v.idf_[[0, 2, 3]].tolist() == [0, 0, 0] and v.idf_[1] == pytest.approx(v.idf_[4:].mean())
    assert v.token_idf(4) == v.idf_[4] and v.token_idf([4, 5]).tolist() == v.idf_[4:6].tolist()


def test_tf_idf_with_unknown_tokens_unnormalized():
    from sklearn.feature_extraction.text import TfidfVectorizer

    v = TextVectorizer(output_mode="tf_idf", max_tokens=7, tfidf_norm=None).adapt(BAG_TEXTS)
    tv = TfidfVectorizer(lowercase=True, token_pattern=r"\S+", vocabulary=_sk_vocab(v), norm=None)
    expected = tv.fit_transform([standardize(t) for t in BAG_TEXTS]).toarray()
    ours = v.transform(BAG_TEXTS).toarray()
    np.testing.assert_allclose(ours[:, 4:], expected, rtol=1e-12)
    counts = TextVectorizer(output_mode="count", vocabulary=v.get_vocabulary()).transform(BAG_TEXTS).toarray()
    np.testing.assert_allclose(ours[:, UNK_ID], counts[:, UNK_ID] * v.idf_[UNK_ID])
    assert counts[:, UNK_ID].sum() > 0


def test_given_idf_weights_keras_semantics():
    v = TextVectorizer(output_mode="tf_idf", vocabulary=["cat", "dog", "mat"], idf_weights=[1.5, 2.0, 0.5])
    out = v.transform(["cat cat dog", "mat zebra", ""]).toarray()
    expected = np.zeros((3, 7))
    expected[0, 4], expected[0, 5] = 3.0, 2.0
    expected[1, 6], expected[1, UNK_ID] = 0.5, (1.5 + 2.0 + 0.5) / 3
    np.testing.assert_allclose(out, expected)
    assert v.token_idf(5) == 2.0
    # with the specials included the weights are taken as given; an explicit norm normalizes
    v2 = TextVectorizer(output_mode="tf_idf", vocabulary=list(SPECIAL_TOKENS) + ["cat", "dog"],
                        idf_weights=[0, 1, 0, 0, 3.0, 4.0], tfidf_norm="l2")
    np.testing.assert_allclose(v2.transform(["cat dog"]).toarray()[0], [0, 0, 0, 0, 0.6, 0.8])
    with pytest.raises(VectorseqError, match="one weight per entry"):
        TextVectorizer(output_mode="tf_idf", vocabulary=["a", "b"], idf_weights=[1.0])
