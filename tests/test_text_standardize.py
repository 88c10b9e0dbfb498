"""Tests for vectorseq.text.standardize: every standardize option, exactly."""
from __future__ import annotations

from vectorseq.text.standardize import standardize


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
