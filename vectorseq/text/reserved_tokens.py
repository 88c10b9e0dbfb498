"""Reserved tokens: control tokens with ids of their own that text never produces (e.g. language tags).

A multilingual model signals the target language with a tag such as ``<2de>`` (Johnson et al. 2017). The tag
must be exactly one id whatever the vectorizer does to text: a standardizer would lower-case or strip it, a
character or byte split would cut it into pieces, SentencePiece would segment it. So tags never pass through
text at all: they are *reserved tokens* of the vocabulary, and whoever builds a model input adds their id
(:meth:`vectorseq.vectorizer.TextVectorizer.reserved_id`). Like ``</s>``, a literal ``"<2de>"`` in user text
is ordinary text (an unknown word, or characters), so text cannot inject a tag.

Where they sit, by split:

=============================== =====================================================================
word, whitespace, character     appended after the counted tokens (within ``max_tokens``), hidden from
                                the text lookup
byte                            appended after the 260 fixed ids (byte ``b`` keeps id ``b + 4``)
sentencepiece                   SentencePiece ``control_symbols``: ids 4, 5, ... right after the specials;
                                the encoder never emits them and decoding drops them, in sampling too
=============================== =====================================================================

(``user_defined_symbols`` would also keep a tag whole, but SentencePiece then matches the literal string in
text, which is exactly what control symbols avoid.)
"""
from __future__ import annotations

from typing import Any, Sequence

from ..errors import VectorseqError
from .vocabulary import SPECIAL_TOKENS, Vocabulary


def check_reserved(tokens: Any) -> tuple[str, ...]:
    """``tokens`` as a tuple of distinct, non-empty strings without whitespace that are not specials."""
    if tokens is None:
        return ()
    if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)):
        raise VectorseqError(f"reserved_tokens must be a list of strings, got {tokens!r}")
    out = tuple(tokens)
    for tok in out:
        if not isinstance(tok, str) or not tok or tok.split() != [tok]:
            raise VectorseqError(f"reserved token {tok!r} must be a non-empty string without whitespace")
        if tok in SPECIAL_TOKENS:
            raise VectorseqError(f"reserved token {tok!r} is one of the special tokens {', '.join(SPECIAL_TOKENS)}")
    if len(set(out)) != len(out):
        raise VectorseqError(f"reserved_tokens lists a token twice: {list(out)}")
    return out


def with_reserved(vocab: Vocabulary, reserved: Sequence[str]) -> Vocabulary:
    """``vocab`` with the reserved tokens at its end (kept when they are already there, as in a saved
    vocabulary), hidden from the text lookup so text never maps to them."""
    k = len(reserved)
    tokens = list(vocab.tokens)
    if tuple(tokens[len(tokens) - k:]) != tuple(reserved):
        clash = [t for t in reserved if t in tokens]
        if clash:  # a counted vocabulary never holds them (adapt drops them); a given one might
            raise VectorseqError(f"reserved token(s) {clash} are also ordinary vocabulary entries; remove them")
        tokens += list(reserved)
    return Vocabulary(tokens, vocab.idf, vocab.idf_given, n_reserved=k)


def reserved_ids(tokens: Sequence[str], reserved: Sequence[str]) -> dict[str, int]:
    """The id of every reserved token in the vocabulary ``tokens``."""
    position = {tok: i for i, tok in enumerate(tokens)}
    missing = [t for t in reserved if t not in position]
    if missing:
        raise VectorseqError(f"the vocabulary lacks the reserved token(s) {missing}; the vectorizer was damaged")
    return {t: position[t] for t in reserved}
