"""Tests for vectorseq.text.vocabulary: the fixed special ids, the vocabulary order, given vocabularies, the idf."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfTransformer

from vectorseq.embeddings.countbased import compute_idf
from vectorseq.errors import VectorseqError
from vectorseq.text.vocabulary import TermCounts, content_ids, idf_from_df, vocabulary_from_counts
from vectorseq.vectorizer import BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID, TextVectorizer

from _text_data import WORD_SPLITS, _settings, _std, _texts


@pytest.mark.parametrize("split", WORD_SPLITS)
def test_special_ids_fixed(split):
    v = TextVectorizer(split=split).adapt(["b a", "a"])
    vocab = v.get_vocabulary()
    assert tuple(vocab[:4]) == SPECIAL_TOKENS == ("<pad>", "<unk>", "<s>", "</s>")
    assert (PAD_ID, UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2, 3)
    ids = v.encode("a", add_bos=True, add_eos=True)
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID and all(i >= 4 for i in ids[1:-1])
    assert v.encode("z") == [UNK_ID]
    # literal special strings in the text are ordinary unknown tokens, never control ids
    assert TextVectorizer(standardize=None).adapt(["<s> x </s> <pad>"]).encode("<s> x </s> <pad>") == [1, 4, 1, 1]


def test_vocabulary_order_min_freq_max_tokens():
    texts = ["b a c", "a b", "a", "d", "Z", "e e"]
    v = TextVectorizer(standardize=None).adapt(texts)
    # frequency descending, ties by token string (code point order: "Z" < "a" ...)
    assert v.get_vocabulary() == list(SPECIAL_TOKENS) + ["a", "b", "e", "Z", "c", "d"]
    assert TextVectorizer(standardize=None, min_freq=2).adapt(texts).get_vocabulary()[4:] == ["a", "b", "e"]
    v6 = TextVectorizer(standardize=None, max_tokens=6).adapt(texts)
    assert v6.get_vocabulary()[4:] == ["a", "b"] and v6.vocabulary_size() == 6
    assert v6.encode("a b e c") == [4, 5, 1, 1]
    # a generator is read once and gives the same vocabulary as a list
    assert TextVectorizer(standardize=None).adapt(t for t in texts).get_vocabulary() == v.get_vocabulary()
    assert TextVectorizer(standardize=None).fit(texts).get_vocabulary() == v.get_vocabulary()
    assert v.vocabulary_["a"] == 4 and list(v.get_feature_names_out()) == v.get_vocabulary()


def test_given_vocabulary():
    v = TextVectorizer(split="word", standardize="lower", vocabulary=["hello", "world", ","])
    assert v.get_vocabulary() == list(SPECIAL_TOKENS) + ["hello", "world", ","]
    assert v.encode("Hello, World! x") == [4, 6, 5, 1, 1]
    v2 = TextVectorizer(vocabulary=list(SPECIAL_TOKENS) + ["a"])
    assert v2.get_vocabulary() == list(SPECIAL_TOKENS) + ["a"]
    with pytest.raises(VectorseqError, match="only be the first four"):
        TextVectorizer(vocabulary=["a", "<s>"])
    with pytest.raises(VectorseqError, match="twice"):
        TextVectorizer(vocabulary=["a", "b", "a"])
    with pytest.raises(VectorseqError, match="max_tokens=5"):
        TextVectorizer(vocabulary=["a", "b"], max_tokens=5)


@_settings
@given(
    train=st.lists(_texts, min_size=1, max_size=5),
    probe=_texts,
    std=_std,
    split=st.sampled_from(WORD_SPLITS),
    max_tokens=st.one_of(st.none(), st.integers(5, 12)),
)
def test_property_ids_in_range(train, probe, std, split, max_tokens):
    v = TextVectorizer(standardize=std, split=split, max_tokens=max_tokens).adapt(train + ["x"])
    V = v.vocabulary_size()
    vocab = v.get_vocabulary()
    assert max_tokens is None or V <= max_tokens
    ids = v.encode(probe, add_bos=True, add_eos=True)
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID
    body = ids[1:-1]
    assert all(0 <= i < V for i in ids) and not {PAD_ID, BOS_ID, EOS_ID} & set(body)
    tokens = v.tokenize(probe)
    assert body == [vocab.index(t) if t in vocab[4:] else UNK_ID for t in tokens]
    batch = v.encode_batch([probe, "x"])
    assert batch.ids.shape[1] == max(len(tokens), 1) and int(batch.ids.max()) < V
    assert isinstance(v.decode(ids), str)


def test_idf_from_df_is_sklearn_and_shared_with_countbased():
    counts = np.array([[1, 0, 2], [0, 0, 1], [3, 1, 0]])
    df = (counts > 0).sum(0).astype(np.float64)
    for smooth in (True, False):
        sk = TfidfTransformer(smooth_idf=smooth).fit(counts)
        np.testing.assert_allclose(idf_from_df(df, 3, smooth), sk.idf_, rtol=1e-15)
    ids = [[4, 6, 6], [6], [4, 4, 5]]  # the same corpus as ids 4, 5, 6
    idf = compute_idf(ids, 7, eos_everywhere=False)
    np.testing.assert_array_equal(idf[4:], idf_from_df(df, 3))
    assert idf[PAD_ID] == 0.0


def test_vocabulary_from_counts_directly():
    counted = TermCounts(with_df=False)
    for terms in (["b", "a"], ["a", "</s>"], ["c"]):
        counted.add(terms)
    vocab = vocabulary_from_counts(counted, min_freq=1, max_tokens=6, smooth_idf=True, settings="")
    assert vocab.tokens == list(SPECIAL_TOKENS) + ["a", "b"] and vocab.idf is None
    assert vocab.lookup(["b", "</s>", "zz"]) == [5, UNK_ID, UNK_ID]
    assert content_ids([BOS_ID, 4, PAD_ID, 5, EOS_ID, 6]) == [4, 5]
