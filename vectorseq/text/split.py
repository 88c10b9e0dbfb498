"""Split: one string in, a list of tokens out (the second step of the vectorizer), and its inverse, join.

Split options (``split=`` in :class:`vectorseq.vectorizer.TextVectorizer`):

================ =============================================================================================
``"whitespace"`` ``str.split()``: runs of Unicode whitespace separate tokens (the Keras default)
``"word"``       the regular expression :data:`WORD_PATTERN`: a word is a run of letters, digits, ``_`` and
                 combining marks (so ``"हिन्दी"`` and a decomposed ``"é"`` stay whole), optionally joined by
                 apostrophes (``don't``, ``l’homme`` are one token); every other non-space character is a
                 token of its own (``"Hi, you!"`` -> ``Hi`` ``,`` ``you`` ``!``). ``split_pattern=`` replaces
                 the expression (its matches are the tokens, like scikit-learn's ``token_pattern``)
``"character"``  every Unicode code point is a token, spaces included (the Keras ``"character"`` split)
``"byte"``       every UTF-8 byte is a token, with a fixed vocabulary (:mod:`vectorseq.text.byte_level`)
``"sentencepiece"`` handled by :mod:`vectorseq.text.sentencepiece_backend` (a trained model), not here
a callable       ``str -> list[str]`` (cannot be saved)
================ =============================================================================================

:func:`make_ngrams` turns tokens into the terms the bag output modes count, :func:`join_tokens` glues decoded
tokens back into a string.
"""
from __future__ import annotations

import functools
import re
import re._parser as _re_parser  # the stdlib's own parse tree of a pattern (backtracking check)
from typing import Callable, Sequence

from ..errors import VectorseqError
from .byte_level import join_byte_tokens, split_bytes
from .options import SPLIT_OPTIONS, choose_option
from .unicode_classes import mark_class

#: The ``split="word"`` pattern, written with ``\\p{M}`` for readability (``re`` gets an explicit class).
WORD_PATTERN = r"[\w\p{M}]+(?:['’][\w\p{M}]+)*|[^\w\s]"


def _word_pattern(marks: str) -> str:
    word = f"[\\w{marks}]+"
    return f"{word}(?:['’]{word})*|[^\\w\\s]"


@functools.lru_cache(maxsize=None)
def word_regex() -> re.Pattern:
    """The compiled :data:`WORD_PATTERN` with combining marks (category M*) counted as word characters."""
    return re.compile(_word_pattern(mark_class()))


@functools.lru_cache(maxsize=None)
def _word_splitter() -> Callable[[str], list[str]]:
    """``word_regex().findall``, made fast: ``re`` compiles a class of BMP ranges to a lookup table but scans
    ranges beyond U+FFFF one by one, so text without such characters (nearly all) uses a BMP-only pattern
    that gives the same tokens."""
    full = word_regex().findall
    bmp = re.compile(_word_pattern(mark_class(bmp_only=True))).findall

    def split_word(text: str) -> list[str]:
        if text.isascii() or max(text) <= "\uffff":
            return bmp(text)
        return full(text)

    return split_word


def _split_whitespace(text: str) -> list[str]:
    return text.split()


def _split_character(text: str) -> list[str]:
    return list(text)


def _checked_callable(fn: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    """``fn``, with a clear error when it returns something other than a list of str."""

    def checked(text: str) -> list[str]:
        out = fn(text)
        if isinstance(out, str) or not isinstance(out, (list, tuple)):
            raise VectorseqError(
                f"the split callable {getattr(fn, '__name__', fn)!r} returned "
                f"{type(out).__name__}, expected a list of str"
            )
        return list(out)

    return checked


_REPEATS = (_re_parser.MAX_REPEAT, _re_parser.MIN_REPEAT, _re_parser.POSSESSIVE_REPEAT)


def _backtracking_risk(items: "_re_parser.SubPattern | list", inside_repeat: bool) -> str | None:
    """What in a parsed pattern can backtrack exponentially: a quantifier or an alternation inside a
    quantifier that repeats more than once (``(a+)+``, ``(a|a)*``), or None.

    Python's ``re`` has no timeout, and a split_pattern may come from a ``vectorizer.json`` someone else
    wrote, so such patterns are refused outright (a character class says the same without the risk)."""
    for op, arg in items:
        if op in _REPEATS:
            low, high, body = arg
            if inside_repeat and high > 1:
                return "a quantifier inside a repeated group"
            found = _backtracking_risk(body, inside_repeat or high > 1)
        elif op is _re_parser.BRANCH:
            if inside_repeat:
                return "an alternation inside a repeated group"
            found = next((r for b in arg[1] if (r := _backtracking_risk(b, inside_repeat))), None)
        elif op is _re_parser.SUBPATTERN:
            found = _backtracking_risk(arg[-1], inside_repeat)
        elif op in (_re_parser.ASSERT, _re_parser.ASSERT_NOT, _re_parser.ATOMIC_GROUP):
            found = _backtracking_risk(arg[-1], inside_repeat)
        else:
            found = None
        if found:
            return found
    return None


def compile_split_pattern(split_pattern: str) -> re.Pattern:
    """``split_pattern`` compiled, or a one-line VectorseqError when it is invalid or can backtrack
    exponentially (checked on the parse tree, so a hostile ``vectorizer.json`` cannot hang ``translate``)."""
    try:
        pattern = re.compile(split_pattern)
        risk = _backtracking_risk(_re_parser.parse(split_pattern), False)
    except (re.error, TypeError, RecursionError) as exc:
        raise VectorseqError(f"split_pattern {split_pattern!r} is not a valid regular expression: {exc}") from None
    if risk:
        raise VectorseqError(f"split_pattern {split_pattern!r} has {risk}, which can take exponential time on some "
                             "text; write it without nesting (e.g. [ab]+ instead of (a|b)+ or (a+)+)")
    return pattern


def _pattern_splitter(split_pattern: str) -> Callable[[str], list[str]]:
    """A splitter whose tokens are the matches of ``split_pattern`` (``match.group(0)``, empty ones dropped)."""
    pattern = compile_split_pattern(split_pattern)
    if pattern.groups == 0:
        findall = pattern.findall

        def split_custom(text: str) -> list[str]:
            return [t for t in findall(text) if t]

    else:  # findall would return the groups, not the whole match
        finditer = pattern.finditer

        def split_custom(text: str) -> list[str]:
            return [m.group(0) for m in finditer(text) if m.group(0)]

    return split_custom


def get_splitter(
    option: str | Callable[[str], list[str]], split_pattern: str | None = None
) -> tuple[str, Callable[[str], list[str]]]:
    """Return ``(name, function)`` for a split option.

    ``split_pattern`` (only with ``"word"``) replaces :data:`WORD_PATTERN`. For ``"sentencepiece"`` the
    function is the whitespace split: the vectorizer encodes with its SentencePiece model instead.
    """
    if callable(option):
        if split_pattern is not None:
            raise VectorseqError("split_pattern= only applies to split='word'; got a callable split")
        return "callable", _checked_callable(option)
    name = choose_option("split option", option, SPLIT_OPTIONS)
    if split_pattern is not None and name != "word":
        raise VectorseqError(
            f"split_pattern= only applies to split='word' (it replaces the word regex); got split={name!r}"
        )
    if name in ("whitespace", "sentencepiece"):
        return name, _split_whitespace
    if name == "character":
        return name, _split_character
    if name == "byte":
        return name, split_bytes
    if split_pattern is None:
        return name, _word_splitter()
    return name, _pattern_splitter(split_pattern)


def make_ngrams(tokens: list[str], orders: tuple[int, ...]) -> list[str]:
    """Keras n-grams: for each order n in ``orders``, every run of n tokens joined by one space."""
    out: list[str] = []
    for n in orders:
        if n == 1:
            out.extend(tokens)
        else:
            out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


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
    ``"character"`` -> ``""``, ``"byte"`` -> the UTF-8 decoding of the bytes (invalid bytes -> U+FFFD),
    anything else (whitespace, callable) -> one space."""
    if split == "word":
        return join_word_tokens(tokens)
    if split == "byte":
        return join_byte_tokens(tokens)
    if split == "character":
        return "".join(tokens)
    return " ".join(tokens)
