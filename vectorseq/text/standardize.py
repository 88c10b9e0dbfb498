"""Text standardization, splitting and re-joining: the string-level half of the vectorizer.

:class:`vectorseq.vectorizer.TextVectorizer` turns text into ids in three steps: **standardize** (one string
in, one string out), **split** (one string in, a list of tokens out) and **look up** (tokens to ids). This
module holds the first two steps and their inverse, :func:`join_tokens`, which glues decoded tokens back
into a string. Everything here is plain Python on ``str``; nothing depends on a vocabulary.

Standardize options (``standardize=`` in the vectorizer, the names Keras ``TextVectorization`` uses where
Keras has them):

=============================== ============================================================================
``None`` / ``"none"``           the text unchanged
``"lower"``                     ``str.lower()`` (full Unicode lower-casing)
``"strip_punctuation"``         removes every Unicode punctuation character (category ``P*``: ``. , ! ? ¿
                                « » “ ” 、 。`` ...) and, like Keras, the ASCII symbols ``$ + < = > ^ ` | ~``
                                (Keras' ASCII strip set is a subset of what is removed here)
``"lower_and_strip_punctuation"`` lower, then strip punctuation (the Keras default)
``"nfkc"``                      Unicode NFKC normalization (``ﬁ`` -> ``fi``, full-width -> ASCII, ``①`` -> ``1``)
``"nfkc_lower"``                NFKC, then lower
a callable ``str -> str``       your own function (such a vectorizer cannot be saved; use a named option)
=============================== ============================================================================

Split options (``split=``):

================ =============================================================================================
``"whitespace"`` ``str.split()``: runs of Unicode whitespace separate tokens (the Keras default)
``"word"``       the regular expression :data:`WORD_PATTERN`: a word is a run of letters, digits, ``_`` and
                 combining marks (so ``"हिन्दी"`` and a decomposed ``"é"`` stay whole), optionally joined by
                 apostrophes (``don't``, ``l’homme`` are one token); every other non-space character is a
                 token of its own (``"Hi, you!"`` -> ``Hi`` ``,`` ``you`` ``!``). ``split_pattern=`` replaces
                 the expression (its matches are the tokens, like scikit-learn's ``token_pattern``)
``"character"``  every Unicode code point is a token, spaces included (the Keras ``"character"`` split)
``"sentencepiece"`` handled by the vectorizer (a trained SentencePiece model), not here
a callable       ``str -> list[str]`` (cannot be saved)
================ =============================================================================================
"""
from __future__ import annotations

import difflib
import functools
import re
import sys
import unicodedata
from typing import Callable, Iterable, Sequence

from .errors import VectorseqError

STANDARDIZE_OPTIONS = (
    "none",
    "lower",
    "strip_punctuation",
    "lower_and_strip_punctuation",
    "nfkc",
    "nfkc_lower",
)
SPLIT_OPTIONS = ("whitespace", "word", "character", "sentencepiece")

#: ASCII symbols (Unicode category S*) that Keras' ``strip_punctuation`` removes as well.
KERAS_EXTRA_STRIP = "$+<=>^`|~"


def choose_option(what: str, value: str, options: Sequence[str]) -> str:
    """Return ``value`` (case-insensitive) if it is one of ``options``; else raise a helpful error.

    The message lists the valid names and, when one is close (:mod:`difflib`), suggests it.
    """
    if isinstance(value, str) and value.lower() in options:
        return value.lower()
    msg = f"unknown {what} {value!r}; valid options: {', '.join(repr(o) for o in options)}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value.lower(), options, n=1, cutoff=0.6)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
    raise VectorseqError(msg)


# --------------------------------------------------------------------------------------------------
# Unicode character classes. Python's ``re`` has no \p{P}; we build the classes once, on first use,
# from ``unicodedata`` (one pass over the code space, ~0.2 s) and cache them.


def _ranges_to_class(codepoints: Iterable[int]) -> str:
    """Turn sorted code points into the inside of a regex character class: ``\\U...-\\U...``."""
    parts = []
    start = prev = None
    for c in codepoints:
        if start is None:
            start = prev = c
        elif c == prev + 1:
            prev = c
        else:
            parts.append((start, prev))
            start = prev = c
    if start is not None:
        parts.append((start, prev))
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in parts)


@functools.lru_cache(maxsize=None)
def _unicode_classes() -> tuple[str, str, str, tuple[int, ...]]:
    """Regex class bodies for (punctuation to strip, combining marks in the BMP, all combining marks) and
    the code points to strip."""
    category = unicodedata.category
    punct, marks = [], []
    extra = {ord(c) for c in KERAS_EXTRA_STRIP}
    for c in range(sys.maxunicode + 1):
        cat = category(chr(c))
        if cat[0] == "P" or c in extra:
            punct.append(c)
        elif cat[0] == "M":
            marks.append(c)
    bmp_marks = [c for c in marks if c <= 0xFFFF]
    return _ranges_to_class(punct), _ranges_to_class(bmp_marks), _ranges_to_class(marks), tuple(punct)


@functools.lru_cache(maxsize=None)
def punctuation_regex() -> re.Pattern:
    """The compiled regex matching runs of what ``strip_punctuation`` removes (P* and Keras' symbols)."""
    return re.compile(f"[{_unicode_classes()[0]}]+")


@functools.lru_cache(maxsize=None)
def _punctuation_table() -> dict[int, None]:
    """``str.translate`` table deleting every character of :func:`punctuation_regex` (5x faster than it)."""
    return {c: None for c in _unicode_classes()[3]}


# In ASCII, the strip set is exactly the 32 punctuation/symbol characters (``string.punctuation``).
_ASCII_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]+")


def _word_pattern(marks: str) -> str:
    word = f"[\\w{marks}]+"
    return f"{word}(?:['’]{word})*|[^\\w\\s]"


@functools.lru_cache(maxsize=None)
def word_regex() -> re.Pattern:
    """The compiled :data:`WORD_PATTERN` with combining marks (category M*) counted as word characters."""
    return re.compile(_word_pattern(_unicode_classes()[2]))


@functools.lru_cache(maxsize=None)
def _word_splitter() -> Callable[[str], list[str]]:
    """``word_regex().findall``, made fast: ``re`` compiles a class of BMP ranges to a lookup table but scans
    ranges beyond U+FFFF one by one, so text without such characters (nearly all) uses a BMP-only pattern
    that gives the same tokens."""
    full = word_regex().findall
    bmp = re.compile(_word_pattern(_unicode_classes()[1])).findall

    def split_word(text: str) -> list[str]:
        if text.isascii() or max(text) <= "\uffff":
            return bmp(text)
        return full(text)

    return split_word


#: The ``split="word"`` pattern, written with ``\\p{M}`` for readability (``re`` gets an explicit class).
WORD_PATTERN = r"[\w\p{M}]+(?:['’][\w\p{M}]+)*|[^\w\s]"


# --------------------------------------------------------------------------------------------------
# Standardize


def _identity(text: str) -> str:
    return text


def _lower(text: str) -> str:
    return text.lower()


def _strip_punctuation(text: str) -> str:
    if text.isascii():
        return _ASCII_PUNCTUATION.sub("", text)
    return text.translate(_punctuation_table())


def _lower_and_strip_punctuation(text: str) -> str:
    return _strip_punctuation(text.lower())


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _nfkc_lower(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


_STANDARDIZERS: dict[str, Callable[[str], str]] = {
    "none": _identity,
    "lower": _lower,
    "strip_punctuation": _strip_punctuation,
    "lower_and_strip_punctuation": _lower_and_strip_punctuation,
    "nfkc": _nfkc,
    "nfkc_lower": _nfkc_lower,
}


def get_standardizer(option: str | Callable[[str], str] | None) -> tuple[str, Callable[[str], str]]:
    """Return ``(name, function)`` for a standardize option; a callable gives ``("callable", checked_fn)``."""
    if option is None:
        option = "none"
    if callable(option):
        fn = option

        def checked(text: str) -> str:
            out = fn(text)
            if not isinstance(out, str):
                raise VectorseqError(
                    f"the standardize callable {getattr(fn, '__name__', fn)!r} returned "
                    f"{type(out).__name__}, expected str"
                )
            return out

        return "callable", checked
    name = choose_option("standardize option", option, STANDARDIZE_OPTIONS)
    if name in ("strip_punctuation", "lower_and_strip_punctuation"):
        _punctuation_table()  # build the table now, not inside the first encode
    return name, _STANDARDIZERS[name]


def standardize(text: str, option: str | Callable[[str], str] | None = "lower_and_strip_punctuation") -> str:
    """Standardize one string with a named option (or callable); see the module docstring."""
    return get_standardizer(option)[1](text)


# --------------------------------------------------------------------------------------------------
# Split


def _split_whitespace(text: str) -> list[str]:
    return text.split()


def _split_character(text: str) -> list[str]:
    return list(text)


def get_splitter(
    option: str | Callable[[str], list[str]], split_pattern: str | None = None
) -> tuple[str, Callable[[str], list[str]]]:
    """Return ``(name, function)`` for a split option other than ``"sentencepiece"``.

    ``split_pattern`` (only with ``"word"``) replaces :data:`WORD_PATTERN`; its matches are the tokens
    (``match.group(0)``; empty matches are dropped).
    """
    if callable(option):
        fn = option

        def checked(text: str) -> list[str]:
            out = fn(text)
            if isinstance(out, str) or not isinstance(out, (list, tuple)):
                raise VectorseqError(
                    f"the split callable {getattr(fn, '__name__', fn)!r} returned "
                    f"{type(out).__name__}, expected a list of str"
                )
            return list(out)

        if split_pattern is not None:
            raise VectorseqError("split_pattern= only applies to split='word'; got a callable split")
        return "callable", checked
    name = choose_option("split option", option, SPLIT_OPTIONS)
    if split_pattern is not None and name != "word":
        raise VectorseqError(
            f"split_pattern= only applies to split='word' (it replaces the word regex); got split={name!r}"
        )
    if name == "whitespace":
        return name, _split_whitespace
    if name == "character":
        return name, _split_character
    if name == "sentencepiece":  # the vectorizer encodes with its SentencePiece model
        return name, _split_whitespace
    if split_pattern is None:
        return name, _word_splitter()
    try:
        pattern = re.compile(split_pattern)
    except (re.error, TypeError) as exc:
        raise VectorseqError(f"split_pattern {split_pattern!r} is not a valid regular expression: {exc}") from None
    if pattern.groups == 0:
        findall = pattern.findall

        def split_custom(text: str) -> list[str]:
            return [t for t in findall(text) if t]

    else:
        finditer = pattern.finditer

        def split_custom(text: str) -> list[str]:
            return [m.group(0) for m in finditer(text) if m.group(0)]

    return name, split_custom


# --------------------------------------------------------------------------------------------------
# Join (detokenize)

#: No space is put before these tokens when word tokens are joined back (closing punctuation).
NO_SPACE_BEFORE = frozenset(". , ! ? ; : ) ] } % … » ” ’ 。 ， 、 ！ ？ ； ： ） 」 』 】 ›".split())
#: No space is put after these tokens (opening punctuation).
NO_SPACE_AFTER = frozenset("( [ { ¿ ¡ « “ ‘ （ 「 『 【 ‹".split())
#: No space on either side (``well-known``, ``and/or``).
NO_SPACE_AROUND = frozenset("- /".split())


def join_word_tokens(tokens: Sequence[str]) -> str:
    """Join ``split="word"`` tokens into readable text.

    Tokens are separated by one space, except: none before closing punctuation (:data:`NO_SPACE_BEFORE`,
    ``. , ! ? ; : ) ]`` ...), none after opening punctuation (:data:`NO_SPACE_AFTER`, ``( [ ¿ «`` ...) and
    none around ``-`` and ``/``. ASCII quotes ``'`` and ``"`` keep spaces on both sides (they are ambiguous
    between opening and closing). Because every token with special spacing is a single punctuation
    character, splitting the result again with the default word pattern gives back the same tokens.
    """
    if not tokens:
        return ""
    out = [tokens[0]]
    prev = tokens[0]
    for tok in tokens[1:]:
        if not (
            tok in NO_SPACE_BEFORE
            or prev in NO_SPACE_AFTER
            or tok in NO_SPACE_AROUND
            or prev in NO_SPACE_AROUND
        ):
            out.append(" ")
        out.append(tok)
        prev = tok
    return "".join(out)


def join_tokens(tokens: Sequence[str], split: str) -> str:
    """Join tokens the way ``split`` separated them: ``"word"`` -> :func:`join_word_tokens`,
    ``"character"`` -> ``""``, anything else (whitespace, callable) -> one space."""
    if split == "word":
        return join_word_tokens(tokens)
    if split == "character":
        return "".join(tokens)
    return " ".join(tokens)
