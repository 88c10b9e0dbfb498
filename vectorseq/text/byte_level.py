"""The byte level (``split="byte"``): UTF-8 bytes as tokens, a fixed vocabulary of 4 specials + 256 bytes.

Byte ``b`` has id ``b + 4`` (:data:`BYTE_OFFSET`), after ``<pad>`` ``<unk>`` ``<s>`` ``</s>``, in every
byte vectorizer, so there is nothing to learn from a corpus (``adapt`` only checks its input) and no text,
in any script, ever maps to ``<unk>``. The vocabulary's token strings are readable for printable ASCII
(``"a"``, ``"!"``) and ``"<0xNN>"`` for every other byte (space is ``"<0x20>"``, so no token is
whitespace); they matter only for display (``tokenize``, ``get_vocabulary``, the segmentation table).

Decoding is lossless for any encoded text and never fails on model output: bytes that are not valid UTF-8
(a lone continuation byte, a truncated multi-byte sequence) and ``<unk>`` ids become U+FFFD.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from .vocabulary import NUM_SPECIAL_TOKENS, SPECIAL_TOKENS, UNK_ID, UNK_TOKEN, Vocabulary

#: Id of byte 0; byte ``b`` is id ``b + BYTE_OFFSET``.
BYTE_OFFSET = NUM_SPECIAL_TOKENS
#: The size of every byte vocabulary: the four specials and the 256 byte values.
BYTE_VOCAB_SIZE = NUM_SPECIAL_TOKENS + 256
#: U+FFFD in UTF-8: what an ``<unk>`` id decodes to (a complete sequence, so it never merges with neighbours).
_REPLACEMENT = "\ufffd".encode("utf-8")


def byte_token(b: int) -> str:
    """The display token of byte ``b``: the character for printable ASCII other than space, else ``<0xNN>``."""
    return chr(b) if 0x21 <= b <= 0x7E else f"<0x{b:02X}>"


#: The 256 byte tokens, index = byte value.
BYTE_TOKENS: tuple[str, ...] = tuple(byte_token(b) for b in range(256))
_TOKEN_TO_BYTE = {tok: b for b, tok in enumerate(BYTE_TOKENS)}


def byte_vocabulary() -> Vocabulary:
    """The fixed vocabulary of every byte vectorizer (a fresh object: callers may not share state)."""
    return Vocabulary(list(SPECIAL_TOKENS) + list(BYTE_TOKENS))


def is_byte_vocabulary(tokens: Sequence[str]) -> bool:
    """Whether ``tokens`` is exactly the byte vocabulary (used to check a loaded ``vectorizer.json``)."""
    return tuple(tokens) == tuple(SPECIAL_TOKENS) + BYTE_TOKENS


def encode_bytes(text: str) -> list[int]:
    """The ids of ``text``'s UTF-8 bytes (``surrogatepass``: a lone surrogate in a Python str still encodes)."""
    return [b + BYTE_OFFSET for b in text.encode("utf-8", "surrogatepass")]


def split_bytes(text: str) -> list[str]:
    """The split function of ``split="byte"``: one display token per UTF-8 byte."""
    return [BYTE_TOKENS[b] for b in text.encode("utf-8", "surrogatepass")]


def _bytes_to_text(chunks: Iterable[int | None]) -> str:
    """Byte values (``None`` = an unknown id) -> text, invalid UTF-8 replaced by U+FFFD."""
    out = bytearray()
    for b in chunks:
        if b is None:
            out += _REPLACEMENT
        else:
            out.append(b)
    return out.decode("utf-8", errors="replace")


def decode_byte_ids(ids: Iterable[int]) -> str:
    """Content ids (specials other than ``<unk>`` already removed) -> text; never raises on bad UTF-8."""
    return _bytes_to_text(None if i == UNK_ID else i - BYTE_OFFSET for i in ids)


def join_byte_tokens(tokens: Sequence[str]) -> str:
    """Display tokens -> text (unknown strings, ``<unk>`` included, become U+FFFD)."""
    return _bytes_to_text(_TOKEN_TO_BYTE.get(tok) if tok != UNK_TOKEN else None for tok in tokens)
