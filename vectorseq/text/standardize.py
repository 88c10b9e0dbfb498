"""Standardize: one string in, one string out; the first step of the vectorizer.

:class:`vectorseq.vectorizer.TextVectorizer` turns text into ids in three steps: **standardize** (this
module), **split** (:mod:`vectorseq.text.split`) and **look up** (:mod:`vectorseq.text.vocabulary`).
Everything here is plain Python on ``str``; nothing depends on a vocabulary.

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
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import Callable

from ..errors import VectorseqError
from .options import DEFAULTS, STANDARDIZE_OPTIONS, choose_option
from .unicode_classes import punctuation_codepoints


@functools.lru_cache(maxsize=None)
def _punctuation_table() -> dict[int, None]:
    """``str.translate`` table deleting every character ``strip_punctuation`` removes (5x faster than a regex)."""
    return {c: None for c in punctuation_codepoints()}


# In ASCII, the strip set is exactly the 32 punctuation/symbol characters (``string.punctuation``).
_ASCII_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]+")


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


def _checked_callable(fn: Callable[[str], str]) -> Callable[[str], str]:
    """``fn``, with a clear error when it returns something other than a str."""

    def checked(text: str) -> str:
        out = fn(text)
        if not isinstance(out, str):
            raise VectorseqError(
                f"the standardize callable {getattr(fn, '__name__', fn)!r} returned {type(out).__name__}, expected str"
            )
        return out

    return checked


def get_standardizer(option: str | Callable[[str], str] | None) -> tuple[str, Callable[[str], str]]:
    """Return ``(name, function)`` for a standardize option; a callable gives ``("callable", checked_fn)``."""
    if option is None:
        option = "none"
    if callable(option):
        return "callable", _checked_callable(option)
    name = choose_option("standardize option", option, STANDARDIZE_OPTIONS)
    if name in ("strip_punctuation", "lower_and_strip_punctuation"):
        _punctuation_table()  # build the table now, not inside the first encode
    return name, _STANDARDIZERS[name]


def standardize(text: str, option: str | Callable[[str], str] | None = DEFAULTS["standardize"]) -> str:
    """Standardize one string with a named option (or callable); see the module docstring."""
    return get_standardizer(option)[1](text)
