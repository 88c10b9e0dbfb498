"""Unicode character classes that Python's ``re`` lacks (no ``\\p{P}``), built once from :mod:`unicodedata`.

Standardize uses the punctuation code points (``strip_punctuation``), split uses the combining-mark class (the
``word`` pattern keeps ``"हिन्दी"`` and a decomposed ``"é"`` whole). Both come from one pass over the code
space (~0.2 s), on first use, cached.
"""
from __future__ import annotations

import functools
import sys
import unicodedata
from typing import Iterable

#: ASCII symbols (Unicode category S*) that Keras' ``strip_punctuation`` removes as well.
KERAS_EXTRA_STRIP = "$+<=>^`|~"


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
def _classes() -> tuple[str, str, tuple[int, ...]]:
    """Regex class bodies for (combining marks in the BMP, all combining marks) and the code points to strip."""
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
    return _ranges_to_class(bmp_marks), _ranges_to_class(marks), tuple(punct)


def punctuation_codepoints() -> tuple[int, ...]:
    """The code points ``strip_punctuation`` removes, sorted."""
    return _classes()[2]


def mark_class(bmp_only: bool = False) -> str:
    """The inside of a character class matching combining marks (category M*), optionally only up to U+FFFF."""
    return _classes()[0] if bmp_only else _classes()[1]
