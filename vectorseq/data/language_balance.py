"""The text a multilingual vectorizer adapts on: every language equally represented.

A vocabulary adapted on the plain concatenation of a multilingual corpus follows its biggest language: a
SentencePiece model (or a capped word vocabulary) then spends its pieces there and a small language is
starved, segmented into many short pieces (Conneau et al. 2020 sample languages for the vocabulary for this
reason). :func:`balanced_text` gives every language as many sentences as the largest one: each language's
distinct sentences, repeated and topped up with a seeded sample. Repeating a sentence weights its counts; it
adds no new text, so it only evens the vote between languages.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Iterator

__all__ = ["AdaptText", "balanced_text"]


@dataclass
class AdaptText:
    """What the vectorizers adapt on: ``by_language`` (balanced), the source-side and target-side languages, and
    ``distinct``: each language's distinct sentences, not repeated (what a vectorizer of one language adapts on:
    there is no other language to balance against, and repeats would lift rare words over ``min_freq``)."""

    by_language: dict[str, list[str]]
    src_langs: list[str] = field(default_factory=list)
    tgt_langs: list[str] = field(default_factory=list)
    distinct: dict[str, list[str]] = field(default_factory=dict)

    def texts(self, langs: list[str] | None = None) -> Iterator[str]:
        """The sentences of ``langs`` (all languages when None), language by language."""
        for lang in sorted(self.by_language) if langs is None else langs:
            yield from self.by_language[lang]

    @property
    def src(self) -> Iterator[str]:
        return self.texts(self.src_langs)

    @property
    def tgt(self) -> Iterator[str]:
        return self.texts(self.tgt_langs)


def balanced_text(corpora: dict[Any, Any], seed: int = 0) -> AdaptText:
    """A language-balanced :class:`AdaptText` of the training corpora ``{direction: ParallelCorpus}``."""
    pools: dict[str, dict[str, None]] = {}  # language -> its distinct sentences, in first-seen order
    src_langs: dict[str, None] = {}
    tgt_langs: dict[str, None] = {}
    for direction, corpus in corpora.items():
        src_langs[direction.src] = tgt_langs[direction.tgt] = None
        pools.setdefault(direction.src, {}).update(dict.fromkeys(corpus.src))
        pools.setdefault(direction.tgt, {}).update(dict.fromkeys(corpus.tgt))
    size = max(len(p) for p in pools.values())
    out = {lang: _upsample(list(pool), size, random.Random(f"{seed}-{lang}")) for lang, pool in sorted(pools.items())}
    return AdaptText(out, sorted(src_langs), sorted(tgt_langs), {lang: list(pool) for lang, pool in sorted(pools.items())})


def _upsample(texts: list[str], size: int, rng: random.Random) -> list[str]:
    """``texts`` repeated whole as often as it fits into ``size``, then a seeded sample of the rest."""
    whole, rest = divmod(size, len(texts))
    return texts * whole + rng.sample(texts, rest)
