"""fastText's character n-grams of a word and their hash buckets (the subword model of Bojanowski et al. 2017).

A word ``w`` is wrapped in the boundary marks ``<w>``; its n-grams are the substrings of ``n = min_n..max_n``
*characters* (UTF-8 continuation bytes never start or end an n-gram), and an n-gram's row is
``fnv1a_32(utf8 bytes) % buckets``. Both follow fastText's ``Dictionary::computeSubwords`` and
``Dictionary::hash`` exactly, including that fastText hashes each byte as a *signed* char (bytes >= 0x80 are
sign-extended before the xor), so the bucket of an n-gram here is the row of that n-gram in a fastText
``.bin`` model (gensim's ``ft_ngram_hashes`` computes the same; ``tests/test_embeddings_char_ngrams.py``
compares them).

:func:`bucket_lists` packs the buckets of many words as one flat index plus offsets (CSR), the form
``torch.nn.functional.embedding_bag`` reads.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
BOW, EOW = "<", ">"  # fastText's word boundary marks


def fasttext_hash(data: bytes) -> int:
    """FNV-1a 32-bit over ``data`` as fastText computes it (each byte taken as a signed char)."""
    h = FNV_OFFSET
    for b in data:
        # fastText does h ^= uint32_t(int8_t(c)): a byte >= 0x80 becomes 0xFFFFFF00 | b
        h ^= b if b < 0x80 else (b | 0xFFFFFF00)
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


def char_ngrams(word: str, min_n: int, max_n: int) -> Iterator[bytes]:
    """The UTF-8 n-grams of ``<word>`` with ``min_n <= n <= max_n`` characters, in fastText's order."""
    data = (BOW + word + EOW).encode("utf-8")
    size = len(data)
    for i in range(size):
        if data[i] & 0xC0 == 0x80:  # a continuation byte never starts a character
            continue
        j, n = i, 1
        while j < size and n <= max_n:
            j += 1
            while j < size and data[j] & 0xC0 == 0x80:  # take the whole character
                j += 1
            # fastText drops the lone boundary marks '<' and '>' as 1-grams
            if n >= min_n and not (n == 1 and (i == 0 or j == size)):
                yield data[i:j]
            n += 1


def word_buckets(word: str, min_n: int, max_n: int, buckets: int) -> list[int]:
    """The hash buckets of ``word``'s n-grams (repeats kept, as fastText sums them)."""
    return [fasttext_hash(g) % buckets for g in char_ngrams(word, min_n, max_n)]


def bucket_lists(words: Iterable[str | None], min_n: int, max_n: int, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """(flat int64 buckets, offsets int64 [len(words) + 1]) of many words; ``None`` (a special token) has none."""
    flat: list[int] = []
    offsets = [0]
    for w in words:
        if w is not None:
            flat.extend(word_buckets(w, min_n, max_n, buckets))
        offsets.append(len(flat))
    return np.asarray(flat, dtype=np.int64), np.asarray(offsets, dtype=np.int64)
