"""Tests for vectorseq.vectorizer (TextVectorizer) and vectorseq.standardize."""
from __future__ import annotations

import gzip
import itertools
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vectorseq import vectorizer as vmod
from vectorseq.errors import VectorseqError
from vectorseq.text.standardize import standardize
from vectorseq.text.split import join_word_tokens, word_regex
from vectorseq.vectorizer import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SPECIAL_TOKENS,
    UNK_ID,
    EncodedBatch,
    TextVectorizer,
)

STANDARDIZE = ["none", "lower", "strip_punctuation", "lower_and_strip_punctuation", "nfkc", "nfkc_lower"]
WORD_SPLITS = ["whitespace", "word", "character"]

MULTILINGUAL = [
    "Hello, World! (Testing) [brackets] and {braces}.",
    "Don't stop; it's 5% off? Yes: well-known and/or “quoted” text…",
    "L’homme qu'on voit — «ici» ¿Qué tal? ¡Hola!",
    "Straße ﬁne ① Ｆｕｌｌｗｉｄｔｈ  tabs\tand\nnewlines",
    "日本語の文。中文，标点！",
    "हिन्दी भाषा और e\u0301te\u0301 composed été",
    "Ωμέγα ΣΊΣΥΦΟΣ İstanbul",
    "emoji 🙂 and symbols $ + < = > ^ ` | ~ _under_score_",
]


def make_corpus(n: int = 400, seed: int = 0) -> list[str]:
    """A few hundred varied English sentences (deterministic)."""
    rng = random.Random(seed)
    subjects = ["A man", "The woman", "Two children", "A small dog", "Several people", "An old lady",
                "The young boy", "A group of friends", "My neighbour", "Three musicians"]
    verbs = ["is walking", "are playing", "sits", "was running", "jumps", "will cook", "reads",
             "is painting", "watched", "quickly climbs"]
    objects = ["a red ball", "the big fence", "in the park", "near a river", "with a blue umbrella",
               "on the beach", "a delicious meal", "the newspaper", "under the bridge", "an orange kite"]
    tails = [".", "!", "?", ", while it rains.", " (at 5 o'clock).", "; nobody noticed.", " today.",
             ", don't they?", " - again.", ": \"wow\"."]
    out = []
    for _ in range(n):
        s = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}{rng.choice(tails)}"
        if rng.random() < 0.15:
            s = s.upper()
        if rng.random() < 0.2:
            s += f" It costs {rng.randint(1, 999)} dollars."
        out.append(s)
    return out


CORPUS = make_corpus()


# ---------------------------------------------------------------------------------------------------
# standardize / split


def test_standardize_options_exact():
    s = "Héllo, WORLD! ﬁ ¿Qué? «x» ①$_"
    assert standardize(s, None) == s
    assert standardize(s, "none") == s
    assert standardize(s, "lower") == "héllo, world! ﬁ ¿qué? «x» ①$_"
    assert standardize(s, "strip_punctuation") == "Héllo WORLD ﬁ Qué x ①"
    assert standardize(s, "lower_and_strip_punctuation") == "héllo world ﬁ qué x ①"
    assert standardize(s, "nfkc") == "Héllo, WORLD! fi ¿Qué? «x» 1$_"
    assert standardize(s, "nfkc_lower") == "héllo, world! fi ¿qué? «x» 1$_"
    assert standardize("ABC", str.swapcase) == "abc"
    # ASCII fast path and the Unicode path agree: every ASCII punctuation/symbol goes, like Keras.
    import string

    assert standardize(string.punctuation + "ok", "strip_punctuation") == "ok"
    assert standardize(string.punctuation + "ok é", "strip_punctuation") == "ok é"
    assert standardize("a—b…c、d「e」", "strip_punctuation") == "abcde"


def test_split_options_exact():
    def tok(split, text, **kw):
        return TextVectorizer(standardize=None, split=split, **kw).tokenize(text)

    assert tok("whitespace", " a  b\tc\n") == ["a", "b", "c"]
    assert tok("word", "Don't stop, l’homme! (x) e\u0301te\u0301 हिन्दी 5%") == [
        "Don't", "stop", ",", "l’homme", "!", "(", "x", ")", "e\u0301te\u0301", "हिन्दी", "5", "%"]
    assert tok("word", "𑀓𑀸 x𑀸y, ok") == ["𑀓𑀸", "x𑀸y", ",", "ok"]  # marks beyond U+FFFF (Brahmi)
    assert tok("character", "ab c") == ["a", "b", " ", "c"]
    assert tok("word", "abc123 def", split_pattern=r"[a-z]+|\d+") == ["abc", "123", "def"]
    assert tok("word", "ab-cd", split_pattern=r"(a)b|cd") == ["ab", "cd"]
    assert tok(lambda s: s.split("|"), "a|b") == ["a", "b"]
    # standardize runs before split
    assert TextVectorizer(split="word", standardize="lower").tokenize("Hi, YOU") == ["hi", ",", "you"]


def test_join_word_tokens():
    toks = ["hello", ",", "world", "!", "(", "yes", ")", "and", "[", "no", "]", "well", "-", "known",
            "¿", "qué", "?", "a", "'", "b", "c", "’", "d"]
    assert join_word_tokens(toks) == "hello, world! (yes) and [no] well-known ¿qué? a ' b c’ d"
    assert join_word_tokens([]) == ""


# ---------------------------------------------------------------------------------------------------
# special tokens, vocabulary order


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


# ---------------------------------------------------------------------------------------------------
# round trips for every standardize and split option


@pytest.mark.parametrize("std", STANDARDIZE)
@pytest.mark.parametrize("split", WORD_SPLITS)
def test_round_trip_every_option(std, split):
    v = TextVectorizer(standardize=std, split=split).adapt(MULTILINGUAL)
    for text in MULTILINGUAL:
        s = standardize(text, std)
        ids = v.encode(text)
        assert UNK_ID not in ids
        out = v.decode(ids + [EOS_ID, 7, 8])  # everything after EOS is ignored
        if split == "character":
            assert out == s
        elif split == "whitespace":
            assert out == " ".join(s.split())
        else:
            assert "".join(out.split()) == "".join(s.split())
            assert v.tokenize(out) == v.tokenize(text)
        assert v.decode_tokens(v.tokenize(text)) == out
        assert v.decode([BOS_ID] + ids + [PAD_ID]) == out


def test_word_decode_is_readable():
    v = TextVectorizer(split="word", standardize="lower").adapt(["Hello, world! (Yes) it's [fine]; ok? A well-known fact."])
    text = "Hello, world! (Yes) it's [fine]; ok? A well-known fact."
    assert v.decode(v.encode(text)) == text.lower()
    assert v.decode(v.encode("hello unknown-word")) == "hello <unk>-<unk>"


def test_callable_standardize_and_split():
    v = TextVectorizer(standardize=str.upper, split=lambda s: s.split("|")).adapt(["a|b", "b|c"])
    assert v.get_vocabulary()[4:] == ["B", "A", "C"]
    assert v.decode(v.encode("c|a")) == "C A"
    assert callable(v.get_config()["standardize"])
    with pytest.raises(VectorseqError, match="returned int"):
        TextVectorizer(standardize=lambda s: 1).adapt(["x"])


# ---------------------------------------------------------------------------------------------------
# encode_batch, transform int / one_hot, padding and truncation


def test_encode_batch():
    import torch

    v = TextVectorizer(standardize=None).adapt(["a b c d", "a b"])
    batch = v.encode_batch(["a b c", "d", ""], add_bos=True, add_eos=True)
    assert isinstance(batch, EncodedBatch) and len(batch) == 3
    assert batch.ids.dtype == torch.int64 and batch.lengths.dtype == torch.int64 and batch.mask.dtype == torch.bool
    assert batch.ids.tolist() == [[2, 4, 5, 6, 3], [2, 7, 3, 0, 0], [2, 3, 0, 0, 0]]
    assert batch.lengths.tolist() == [5, 3, 2]
    assert torch.equal(batch.mask, batch.ids != PAD_ID)
    assert v.inverse_transform(batch.ids) == ["a b c", "d", ""]
    assert batch.to("cpu").ids.shape == (3, 5)
    # padding to a fixed length, truncation keeps the final EOS
    padded = v.encode_batch(["a"], add_eos=True, output_sequence_length=4)
    assert padded.ids.tolist() == [[4, 3, 0, 0]] and padded.mask.tolist() == [[True, True, False, False]]
    cut = v.encode_batch(["a b c d"], add_bos=True, add_eos=True, output_sequence_length=4)
    assert cut.ids.tolist() == [[2, 4, 5, 3]] and cut.lengths.tolist() == [4]
    assert v.encode_batch(["a b c d"], output_sequence_length=2).ids.tolist() == [[4, 5]]
    # the constructor's output_sequence_length applies too
    v3 = TextVectorizer(standardize=None, output_sequence_length=3, vocabulary=["a", "b", "c", "d"])
    assert v3.encode_batch(["a"]).ids.shape == (1, 3)
    out = v3.transform(["a b c d", "b"])
    assert out.dtype == np.int64 and out.tolist() == [[4, 5, 6], [5, 0, 0]]
    # encode_many == encode
    texts = ["a b", "c x d", ""]
    assert v.encode_many(texts, add_eos=True) == [v.encode(t, add_eos=True) for t in texts]


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


# ---------------------------------------------------------------------------------------------------
# multi_hot / count / tf_idf against scikit-learn

BAG_TEXTS = [
    "the cat sat on the mat",
    "the dog sat",
    "a cat and a dog and a cat",
    "mat mat mat",
    "The Cat, the DOG!",
]


def _sk_vocab(v):
    return {t: i for i, t in enumerate(v.get_vocabulary()[4:])}


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


# ---------------------------------------------------------------------------------------------------
# SentencePiece


@pytest.fixture(scope="module", params=["bpe", "unigram"])
def sp_vectorizer(request):
    return TextVectorizer(split="sentencepiece", standardize=None, max_tokens=250,
                          sentencepiece_model_type=request.param).adapt(iter(CORPUS))


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


# ---------------------------------------------------------------------------------------------------
# save / load


def test_save_load_word(tmp_path):
    v = TextVectorizer(split="word", standardize="nfkc_lower", output_mode="tf_idf", ngrams=2,
                       min_freq=1, max_tokens=40, sublinear_tf=True).adapt(BAG_TEXTS + MULTILINGUAL)
    v.save(tmp_path / "vec")
    assert sorted(p.name for p in (tmp_path / "vec").iterdir()) == ["vectorizer.json"]
    json.loads((tmp_path / "vec" / "vectorizer.json").read_text(encoding="utf-8"))
    w = TextVectorizer.load(tmp_path / "vec")
    assert w.get_vocabulary() == v.get_vocabulary()
    assert w.get_config() == v.get_config()
    assert json.dumps(w.get_config())  # JSON-able
    np.testing.assert_array_equal(w.idf_, v.idf_)
    texts = BAG_TEXTS + ["unknown words here"]
    assert w.encode_many(texts) == v.encode_many(texts)
    np.testing.assert_array_equal(w.transform(texts).toarray(), v.transform(texts).toarray())
    # given idf weights keep their (unnormalized) semantics
    g = TextVectorizer(output_mode="tf_idf", vocabulary=["a", "b"], idf_weights=[2.0, 3.0])
    g.save(tmp_path / "g")
    np.testing.assert_array_equal(TextVectorizer.load(tmp_path / "g").transform(["a b"]).toarray(),
                                  g.transform(["a b"]).toarray())


def test_save_load_sentencepiece(tmp_path, sp_vectorizer):
    v = sp_vectorizer
    v.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sentencepiece.model", "vectorizer.json"]
    w = TextVectorizer.load(tmp_path)
    assert w.get_vocabulary() == v.get_vocabulary() and w.get_config() == v.get_config()
    assert w.encode_many(CORPUS[:30]) == v.encode_many(CORPUS[:30])
    assert [w.decode(ids) for ids in w.encode_many(CORPUS[:30])] == CORPUS[:30]


def test_save_load_errors(tmp_path):
    with pytest.raises(VectorseqError, match="named option"):
        TextVectorizer(standardize=str.lower).adapt(["a"]).save(tmp_path / "x")
    with pytest.raises(VectorseqError, match="named option"):
        TextVectorizer(split=str.split).adapt(["a"]).save(tmp_path / "x")
    with pytest.raises(VectorseqError, match="no saved vectorizer"):
        TextVectorizer.load(tmp_path / "missing")
    with pytest.raises(VectorseqError, match="adapt"):
        TextVectorizer().save(tmp_path / "y")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "vectorizer.json").write_text("{not json")
    with pytest.raises(VectorseqError, match="not valid JSON"):
        TextVectorizer.load(tmp_path / "bad")


# ---------------------------------------------------------------------------------------------------
# errors


def test_errors_before_adapt():
    v = TextVectorizer()
    for call in (lambda: v.encode("a"), lambda: v.transform(["a"]), lambda: v.decode([4]),
                 lambda: v.get_vocabulary(), lambda: v.vocabulary_size(), lambda: v.encode_batch(["a"])):
        with pytest.raises(VectorseqError, match=r"needs a vocabulary: call adapt\(texts\)"):
            call()


@pytest.mark.parametrize(
    "kw,suggestion",
    [
        ({"standardize": "lowr"}, "lower"),
        ({"split": "wrod"}, "word"),
        ({"output_mode": "multihot"}, "multi_hot"),
        ({"split": "sentencepeice", "max_tokens": 10}, "sentencepiece"),
        ({"sentencepiece_model_type": "bep"}, "bpe"),
    ],
)
def test_unknown_option_did_you_mean(kw, suggestion):
    with pytest.raises(VectorseqError, match=rf"valid options: .*did you mean '{suggestion}'\?"):
        TextVectorizer(**kw)


def test_input_errors():
    with pytest.raises(VectorseqError, match="empty corpus"):
        TextVectorizer().adapt([])
    with pytest.raises(VectorseqError, match="empty corpus"):
        TextVectorizer().adapt(iter(()))
    with pytest.raises(VectorseqError, match="no tokens"):
        TextVectorizer().adapt(["", "  ", "!!"])
    with pytest.raises(VectorseqError, match="min_freq=5"):
        TextVectorizer(min_freq=5).adapt(["a b"])
    with pytest.raises(VectorseqError, match=r"wrap it in a list"):
        TextVectorizer().adapt("just one string")
    with pytest.raises(VectorseqError, match="#1 is int"):
        TextVectorizer().adapt(["a", 3])
    v = TextVectorizer().adapt(["a"])
    with pytest.raises(VectorseqError, match="out of range"):
        v.decode([4, 99])
    with pytest.raises(VectorseqError, match="expects a str"):
        v.encode(None)
    with pytest.raises(VectorseqError, match="ngrams"):
        TextVectorizer(ngrams=2)
    with pytest.raises(VectorseqError, match="needs vocabulary"):
        TextVectorizer(output_mode="tf_idf", idf_weights=[1.0])
    with pytest.raises(VectorseqError, match="needs idf_weights"):
        TextVectorizer(output_mode="tf_idf", vocabulary=["a"])
    with pytest.raises(VectorseqError, match="max_tokens must be an int >= 5"):
        TextVectorizer(max_tokens=3)
    with pytest.raises(VectorseqError, match="split_pattern"):
        TextVectorizer(split="whitespace", split_pattern=r"\w+")
    with pytest.raises(VectorseqError, match="not a valid regular expression"):
        TextVectorizer(split="word", split_pattern="(")
    with pytest.raises(VectorseqError, match="token_idf"):
        v.token_idf(4)
    with pytest.raises(VectorseqError, match="did you mean 'max_tokens'"):
        TextVectorizer.from_config({"max_token": 5})


# ---------------------------------------------------------------------------------------------------
# property-based tests

_texts = st.text(max_size=40)
_std = st.sampled_from(STANDARDIZE)
# More examples for a deeper search: VECTORSEQ_HYPOTHESIS_EXAMPLES=5000 python3 -m pytest tests/test_vectorizer.py
_EXAMPLES = int(os.environ.get("VECTORSEQ_HYPOTHESIS_EXAMPLES", "60"))
_settings = settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(x=_texts, std=_std)
def test_property_whitespace_round_trip(x, std):
    v = TextVectorizer(standardize=std, split="whitespace").adapt([x, "filler"])
    assume(not set(v.tokenize(x)) & set(SPECIAL_TOKENS))
    assert v.decode(v.encode(x)) == " ".join(standardize(x, std).split())


@_settings
@given(x=_texts, std=_std)
def test_property_character_round_trip(x, std):
    v = TextVectorizer(standardize=std, split="character").adapt([x, "filler"])
    assert v.decode(v.encode(x)) == standardize(x, std)


# dense in the characters the word split and the join rules treat specially
_tricky = st.text(alphabet="ab1_ '’\"-/.,!?()[]¿¡«»“”‘%…\u0301\u093e\t", max_size=30)


@_settings
@given(x=st.one_of(_texts, _tricky), std=_std)
def test_property_word_round_trip(x, std):
    v = TextVectorizer(standardize=std, split="word").adapt([x, "filler"])
    out = v.decode(v.encode(x))
    assert "".join(out.split()) == "".join(standardize(x, std).split())
    raw = TextVectorizer(standardize=None, split="word").adapt([x, "filler"])
    # re-splitting the decoded text gives back the same tokens
    assert raw.tokenize(raw.decode(raw.encode(x))) == raw.tokenize(x)
    assert raw.tokenize(x) == word_regex().findall(x)  # the fast BMP path splits like the full pattern


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
