"""Tests for vectorseq.text.split: the split options, the word pattern and joining word tokens back."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectorseq.text.split import join_word_tokens, word_regex
from vectorseq.errors import VectorseqError
from vectorseq.text.standardize import standardize
from vectorseq.vectorizer import TextVectorizer

from _text_data import _settings, _std, _texts


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


def test_word_decode_is_readable():
    v = TextVectorizer(split="word", standardize="lower").adapt(["Hello, world! (Yes) it's [fine]; ok? A well-known fact."])
    text = "Hello, world! (Yes) it's [fine]; ok? A well-known fact."
    assert v.decode(v.encode(text)) == text.lower()
    assert v.decode(v.encode("hello unknown-word")) == "hello <unk>-<unk>"


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


@pytest.mark.parametrize("pattern", [r"(a+)+b", r"(a|a)*b", r"(\w*)*x", r"(?:a|ab)+"])
def test_patterns_that_can_backtrack_exponentially_are_refused(pattern):
    from vectorseq.text.split import compile_split_pattern
    with pytest.raises(VectorseqError, match="inside a repeated group"):
        compile_split_pattern(pattern)


@pytest.mark.parametrize("pattern", [r"\w+(?:'\w+)?", r"(?:\w|')+", r"\S+|\d", r"(?:ab)+", r"[^\s]+"])
def test_ordinary_patterns_still_compile(pattern):
    from vectorseq.text.split import compile_split_pattern
    assert compile_split_pattern(pattern).pattern == pattern
