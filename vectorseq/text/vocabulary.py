"""Vocabulary: tokens <-> ids, the four fixed special ids, counting for ``adapt``, and the one IDF formula.

Every vocabulary, in every split mode, starts with the same four entries, so code elsewhere can use the
constants below without asking a vectorizer:

====== ========== ==========================================================
id     token      meaning
====== ========== ==========================================================
0      ``<pad>``  padding (:data:`PAD_ID`); never produced from text
1      ``<unk>``  unknown token (:data:`UNK_ID`)
2      ``<s>``    beginning of sequence (:data:`BOS_ID`); only via ``add_bos``
3      ``</s>``   end of sequence (:data:`EOS_ID`); only via ``add_eos``
====== ========== ==========================================================

A counted vocabulary (:func:`vocabulary_from_counts`) is the four specials, then the tokens by frequency
(descending), ties broken by the token string (code point order); tokens seen fewer than ``min_freq`` times
are dropped and ``max_tokens`` caps the total size *including* the four specials. Like Keras'
``StringLookup``, the lookup maps a token outside the vocabulary to :data:`UNK_ID`, and a literal special
string in text (``"</s>"``) is such an unknown token: user text cannot inject control ids.

:func:`idf_from_df` is scikit-learn's idf; the vectorizer's ``tf_idf`` mode and the count-based input layers
(:mod:`vectorseq.embeddings.countbased`) both use it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..errors import VectorseqError

PAD_ID = 0
UNK_ID = 1
BOS_ID = 2
EOS_ID = 3
PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
BOS_TOKEN = "<s>"
EOS_TOKEN = "</s>"
#: The first four vocabulary entries, in id order, in every split mode.
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, BOS_TOKEN, EOS_TOKEN)
NUM_SPECIAL_TOKENS = 4


def idf_from_df(doc_freq: np.ndarray, n_docs: int, smooth: bool = True) -> np.ndarray:
    """scikit-learn's idf from document frequencies: ``ln((1 + n) / (1 + df)) + 1`` (smooth, the default)
    or ``ln(n / df) + 1``; float64, one value per entry of ``doc_freq``."""
    if smooth:
        return np.log((1.0 + n_docs) / (1.0 + doc_freq)) + 1.0
    # a piece never seen (SentencePiece only) gets the idf of a token seen once
    return np.log(n_docs / np.maximum(doc_freq, 1.0)) + 1.0


def with_special_idf(regular: np.ndarray) -> np.ndarray:
    """The idf of the regular tokens with Keras' values for the specials prepended: 0 for ``<pad>``, ``<s>``,
    ``</s>`` and the mean idf for ``<unk>``."""
    unk = float(regular.mean()) if regular.size else 0.0
    return np.concatenate([[0.0, unk, 0.0, 0.0], regular])


def content_ids(ids: Iterable[int]) -> list[int]:
    """The ids up to the first :data:`EOS_ID`, without :data:`PAD_ID` and :data:`BOS_ID` (what decoding shows)."""
    out = []
    for i in ids:
        if i == EOS_ID:
            break
        if i != PAD_ID and i != BOS_ID:
            out.append(i)
    return out


def content_tokens(tokens: Iterable[str]) -> list[str]:
    """:func:`content_ids` for tokens."""
    out = []
    for tok in tokens:
        if tok == EOS_TOKEN:
            break
        if tok != PAD_TOKEN and tok != BOS_TOKEN:
            out.append(tok)
    return out


class Vocabulary:
    """An id per token (the specials first) and, for ``tf_idf``, an idf per id.

    Attributes:
        tokens: the list of tokens, index = id.
        idf: numpy float64 ``[V]`` or None (0 for ``<pad>``, ``<s>``, ``</s>``).
        idf_given: whether the idf was given by the user (Keras ``idf_weights``) rather than learned.
    """

    def __init__(self, tokens: list[str], idf: np.ndarray | None = None, idf_given: bool = False,
                 n_reserved: int = 0) -> None:
        self.tokens = tokens
        # Text lookups only: the specials other than <unk> are absent, so a literal "</s>" maps to UNK_ID; so
        # are the last ``n_reserved`` entries (reserved tokens such as language tags, see reserved_tokens.py).
        end = len(tokens) - n_reserved
        self._index = {tok: i for i, tok in enumerate(tokens) if NUM_SPECIAL_TOKENS <= i < end}
        self.idf = idf
        self.idf_given = idf_given

    def __len__(self) -> int:
        return len(self.tokens)

    def lookup(self, tokens: Iterable[str]) -> list[int]:
        """The id of each token (:data:`UNK_ID` when it is not in the vocabulary)."""
        get = self._index.get
        return [get(tok, UNK_ID) for tok in tokens]

    def check_ids(self, ids: Iterable[int]) -> None:
        """Refuse an id outside ``[0, V)``."""
        V = len(self.tokens)
        for i in ids:
            if not 0 <= i < V:
                raise VectorseqError(f"id {i} is out of range for a vocabulary of {V} ids")


@dataclass
class TermCounts:
    """What ``adapt`` keeps of a corpus: term counts, document frequencies (for ``tf_idf``), the text count."""

    with_df: bool
    counts: Counter = field(default_factory=Counter)
    df: Counter = field(default_factory=Counter)
    n_docs: int = 0

    def add(self, terms: list[str]) -> None:
        """Count the terms of one text."""
        self.counts.update(terms)
        if self.with_df:
            self.df.update(set(terms))
        self.n_docs += 1


def vocabulary_from_counts(
    counted: TermCounts, *, min_freq: int, max_tokens: int | None, smooth_idf: bool, settings: str
) -> Vocabulary:
    """The vocabulary (and, when document frequencies were counted, the idf) of a counted corpus.

    ``settings`` describes standardize and split for the error about a corpus without tokens.
    """
    counts = counted.counts
    if counted.n_docs == 0:
        raise VectorseqError("adapt() got an empty corpus: no texts")
    for tok in SPECIAL_TOKENS:  # literal specials in text are ordinary unknowns, never vocabulary entries
        counts.pop(tok, None)
    if not counts:
        raise VectorseqError(f"adapt() got {counted.n_docs} text(s) but no tokens after {settings} (are all texts empty?)")
    items = [(tok, c) for tok, c in counts.items() if c >= min_freq]
    items.sort(key=lambda tc: (-tc[1], tc[0]))
    if max_tokens is not None:
        items = items[: max_tokens - NUM_SPECIAL_TOKENS]
    if not items:
        raise VectorseqError(f"adapt(): no token occurs at least min_freq={min_freq} times ({len(counts)} distinct tokens)")
    idf = None
    if counted.with_df:
        doc_freq = np.array([counted.df[tok] for tok, _ in items], dtype=np.float64)
        idf = with_special_idf(idf_from_df(doc_freq, counted.n_docs, smooth_idf))
    return Vocabulary(list(SPECIAL_TOKENS) + [tok for tok, _ in items], idf)


def _check_tokens(vocab: list[str]) -> tuple[list[str], bool]:
    """The regular tokens of a given vocabulary, and whether it started with the specials."""
    for i, tok in enumerate(vocab):
        if not isinstance(tok, str):
            raise VectorseqError(f"vocabulary entry #{i} is {type(tok).__name__}, expected str")
        if tok == "":
            raise VectorseqError(f"vocabulary entry #{i} is an empty string (the padding token is {PAD_TOKEN!r})")
    has_specials = tuple(vocab[:NUM_SPECIAL_TOKENS]) == SPECIAL_TOKENS
    regular = vocab[NUM_SPECIAL_TOKENS:] if has_specials else vocab
    for i, tok in enumerate(regular):
        if tok in SPECIAL_TOKENS:
            raise VectorseqError(
                f"special token {tok!r} is in the vocabulary at position "
                f"{i + (NUM_SPECIAL_TOKENS if has_specials else 0)}; the specials may only be the first four "
                f"entries, in the order {', '.join(SPECIAL_TOKENS)} (or leave them out: they are added)"
            )
    seen: set[str] = set()
    for tok in regular:
        if tok in seen:
            raise VectorseqError(f"vocabulary has the token {tok!r} twice")
        seen.add(tok)
    if not regular:
        raise VectorseqError("vocabulary has no tokens besides the special tokens")
    return regular, has_specials


def _given_idf(idf_weights: Sequence[float] | np.ndarray, n_given: int, has_specials: bool) -> np.ndarray:
    arr = np.asarray(idf_weights, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n_given:
        raise VectorseqError(
            f"idf_weights has shape {arr.shape} but the vocabulary has {n_given} entries; give one weight per entry"
        )
    if not np.all(np.isfinite(arr)):
        raise VectorseqError("idf_weights must be finite numbers")
    return arr.copy() if has_specials else with_special_idf(arr)


def vocabulary_from_list(
    vocabulary: Sequence[str], *, max_tokens: int | None, idf_weights: Sequence[float] | np.ndarray | None = None
) -> Vocabulary:
    """A given vocabulary (it may start with the four specials; otherwise they are prepended), checked.

    ``idf_weights`` has one weight per entry of ``vocabulary`` as given; when the specials were left out
    they get idf 0 (``<pad>``, ``<s>``, ``</s>``) and the mean weight (``<unk>``), as in Keras.
    """
    if isinstance(vocabulary, (str, bytes)):
        raise VectorseqError("vocabulary must be a list of tokens, got a single string")
    if not isinstance(vocabulary, Iterable):  # e.g. `vocabulary: false` in a planted vectorizer.json's config
        raise VectorseqError(f"vocabulary must be a list of tokens, got {type(vocabulary).__name__}")
    vocab = list(vocabulary)
    regular, has_specials = _check_tokens(vocab)
    full = list(SPECIAL_TOKENS) + regular
    if max_tokens is not None and len(full) > max_tokens:
        raise VectorseqError(f"vocabulary has {len(full)} entries (specials included) but max_tokens={max_tokens}")
    if idf_weights is None:
        return Vocabulary(full)
    return Vocabulary(full, _given_idf(idf_weights, len(vocab), has_specials), idf_given=True)
