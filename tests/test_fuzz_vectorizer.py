"""Fuzz tests of the vectorizer (hypothesis): adapt / encode / decode / transform on hostile text in every split
mode, arbitrary ids to decode, random split patterns and random saved settings. Allowed outcomes: success or a
one-line VectorseqError (tests/_fuzz.py); where the docs promise more, that is checked too (ids in range, text
never producing the ids of <pad>, <s>, </s>, the byte split's exact round trip)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _fuzz import EXAMPLES, FAST, outcome
from vectorseq.text.options import OUTPUT_MODES, SPLIT_OPTIONS, STANDARDIZE_OPTIONS, DEFAULTS
from vectorseq.text.standardize import standardize
from vectorseq.vectorizer import BOS_ID, EOS_ID, PAD_ID, TextVectorizer

#: any code point but surrogates (they are not text: str.encode("utf-8") refuses them)
_chars = st.characters(blacklist_categories=("Cs",))
#: what breaks tokenizers: controls, NUL, line and paragraph separators, zero-width and combining marks, the BOM,
#: the SentencePiece space mark and the special tokens' own characters
_nasty = st.sampled_from(list("\x00\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x7f\x85\xa0\u2028\u2029\u200b\u200d\ufeff\u0301"
                              "\u2581<>/s ") + ["<pad>", "</s>", "<unk>", "<s>", "\U0001f600", "\U000e0001"])
_short = st.lists(st.one_of(_chars, _nasty), max_size=30).map("".join)
#: one huge token (no spaces) or a huge line of many tokens
_huge = st.builds(lambda c, n, sep: (c + sep) * n, st.one_of(_chars, _nasty), st.integers(500, 20_000),
                  st.sampled_from(["", " "]))
_texts = st.one_of(_short, _short, _short, _huge)
_corpus = st.lists(_texts, max_size=6)


def _checked_ids(v: TextVectorizer, ids: list[int]) -> None:
    size = v.vocabulary_size()
    assert all(isinstance(i, int) and 0 <= i < size for i in ids), ids[:20]
    assert not {PAD_ID, BOS_ID, EOS_ID} & set(ids), "text produced a control id"


def _use(v: TextVectorizer, texts: list[str]) -> None:
    """Everything a user does with an adapted vectorizer, on the same hostile texts."""
    for t in texts:
        ids = v.encode(t)
        _checked_ids(v, ids)
        assert isinstance(v.decode(ids), str)
        assert isinstance(v.decode_tokens(v.tokenize(t)), str)
        if v.split_name == "byte":  # documented: exact for any text
            assert v.decode(ids) == standardize(t, v.standardize_name)
    batch = v.encode_batch(texts or [""], add_bos=True, add_eos=True)
    assert batch.ids.shape[0] == max(len(texts), 1)
    if v.output_mode != "one_hot":  # one_hot of a 20k-token line is gigabytes: refused by its own check
        v.transform(texts)


@FAST
@given(texts=_corpus, split=st.sampled_from([s for s in SPLIT_OPTIONS if s != "sentencepiece"]),
       std=st.sampled_from(STANDARDIZE_OPTIONS), mode=st.sampled_from(OUTPUT_MODES),
       max_tokens=st.one_of(st.none(), st.integers(-1, 40)), min_freq=st.integers(0, 3),
       ngrams=st.one_of(st.none(), st.integers(0, 3)))
def test_counted_splits_on_hostile_text(texts, split, std, mode, max_tokens, min_freq, ngrams):
    made = outcome(lambda: TextVectorizer(split=split, standardize=std, output_mode=mode, max_tokens=max_tokens,
                                          min_freq=min_freq, ngrams=ngrams))
    if made[0] == "error":
        return
    v = made[1]
    if outcome(lambda: v.adapt(texts))[0] == "ok":
        outcome(lambda: _use(v, texts))


@settings(FAST, max_examples=max(1, EXAMPLES // 4))  # each example trains a SentencePiece model
@given(texts=st.lists(_texts, min_size=1, max_size=8), size=st.integers(5, 80),
       model_type=st.sampled_from(["bpe", "unigram"]), std=st.sampled_from(STANDARDIZE_OPTIONS))
def test_sentencepiece_on_hostile_text(texts, size, model_type, std):
    v = TextVectorizer(split="sentencepiece", max_tokens=size, sentencepiece_model_type=model_type, standardize=std)
    if outcome(lambda: v.adapt(texts), seconds=60)[0] == "ok":
        outcome(lambda: _use(v, texts))


@FAST
@given(ids=st.one_of(
    st.lists(st.one_of(st.integers(-3, 40), st.integers(), st.floats(), st.booleans(), st.text(max_size=2),
                       st.none()), max_size=12),
    st.builds(np.array, st.lists(st.floats(-5, 50), max_size=6)),
    st.builds(lambda n: np.arange(n).reshape(-1, 1), st.integers(0, 4)),
    st.text(max_size=5)))
@pytest.mark.parametrize("split", ["word", "byte", "character"])
def test_decode_any_ids(split, ids):
    v = TextVectorizer(split=split).adapt(["hello world, again"])
    result = outcome(lambda: v.decode(ids))
    if result[0] == "ok":
        assert isinstance(result[1], str)


@FAST
@given(pattern=st.text(st.sampled_from(list("ab()|*+?{}[]^$.\\,0123-:wsdS")), max_size=14),
       text=st.text(st.sampled_from(list("ab ,1")), max_size=40))
def test_random_split_patterns_never_hang(pattern, text):
    """A split_pattern comes from vectorizer.json as well as from users: never a re.error, never a hang."""
    made = outcome(lambda: TextVectorizer(split="word", split_pattern=pattern, standardize="none"), seconds=5)
    if made[0] == "ok":
        v = made[1]
        if outcome(lambda: v.adapt([text, text + "b"]), seconds=5)[0] == "ok":
            outcome(lambda: _use(v, [text]), seconds=5)


_values = st.one_of(st.none(), st.booleans(), st.integers(-2, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(SPLIT_OPTIONS + STANDARDIZE_OPTIONS + OUTPUT_MODES),
                    st.lists(st.integers(-1, 5), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                             max_size=2))


@FAST
@given(config=st.dictionaries(st.sampled_from(sorted(DEFAULTS) + ["bogus"]), _values, max_size=6))
def test_random_saved_settings(config):
    """``from_config`` reads the settings of every vectorizer.json: any value is a result or a clean error."""
    made = outcome(lambda: TextVectorizer.from_config(config))
    if made[0] == "ok" and made[1].split_name != "sentencepiece" and made[1].output_mode != "tf_idf":
        v = made[1]
        if v.is_adapted or outcome(lambda: v.adapt(["a b", "b c d"]))[0] == "ok":
            outcome(lambda: _use(v, ["a b", "\x00 z"]))


def test_an_infinite_id_is_a_clean_error():
    """Found by test_decode_any_ids: int(float('inf')) raised OverflowError, a traceback."""
    v = TextVectorizer(split="word").adapt(["hello world"])
    kind, err = outcome(lambda: v.decode([4, float("inf")]))
    assert kind == "error" and "expected a 1-D sequence of integer ids" in str(err)


def test_saved_settings_with_a_vocabulary_that_is_not_a_list_are_a_clean_error():
    """Found by test_random_saved_settings: ``vocabulary: false`` in the settings (a planted vectorizer.json)
    raised TypeError."""
    kind, err = outcome(lambda: TextVectorizer.from_config({"vocabulary": False}))
    assert kind == "error" and "vocabulary must be a list of tokens, got bool" in str(err)
