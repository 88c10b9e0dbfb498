"""Tests for vectorseq.vectorizer, the public face: round trips for every option, callables, errors, properties."""
from __future__ import annotations

import pytest
from hypothesis import assume, given

from vectorseq.errors import VectorseqError
from vectorseq.text.standardize import standardize
from vectorseq.vectorizer import BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID, TextVectorizer

from _text_data import MULTILINGUAL, STANDARDIZE, WORD_SPLITS, _settings, _std, _texts


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


def test_callable_standardize_and_split():
    v = TextVectorizer(standardize=str.upper, split=lambda s: s.split("|")).adapt(["a|b", "b|c"])
    assert v.get_vocabulary()[4:] == ["B", "A", "C"]
    assert v.decode(v.encode("c|a")) == "C A"
    assert callable(v.get_config()["standardize"])
    with pytest.raises(VectorseqError, match="returned int"):
        TextVectorizer(standardize=lambda s: 1).adapt(["x"])


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
    # an order too high to mean anything is refused at once, not built (211,974,745 orders ran out of memory)
    for too_high in (33, 211_974_745, (1, 10**9)):
        with pytest.raises(VectorseqError, match="ngrams must be .*between 1 and 32"):
            TextVectorizer(output_mode="count", ngrams=too_high)
    assert TextVectorizer(output_mode="count", ngrams=32).options.ngrams == tuple(range(1, 33))
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
