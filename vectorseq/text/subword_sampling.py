"""Subword regularization that is reproducible: unigram sampling (Kudo 2018) and BPE-dropout (Provilkov et
al. 2020) on a SentencePiece model, drawn with *our* random numbers, seeded per sentence.

Why not SentencePiece's own sampler (``encode(..., enable_sampling=True)``): its generator is a
thread-local object seeded once per thread from a global seed (``set_random_generator_seed``), and in the
0.2 releases it is an ``absl::BitGen``, which salts its seed per process. Measured here: the same seed gives
the same samples within one process but different samples in the next one, so neither a resumed run nor a
second DDP rank could reproduce an epoch. The maintainer's own advice (sentencepiece#521) is to draw from
the deterministic n-best list instead; that is what the unigram sampler does.

- **unigram**: the ``nbest`` best segmentations (SentencePiece's n-best, in C++; ``nbest=-1`` takes
  :data:`LATTICE_NBEST` of them, a stand-in for the whole lattice), each scored by its log-likelihood (the sum
  of its pieces' log-probabilities); one is drawn with probability proportional to ``P(x)^alpha`` (Kudo's
  smoothing) from a uniform number that depends only on ``(seed, epoch, key)``.
- **bpe**: BPE-dropout: the word's characters are merged as BPE does (the highest-scored adjacent pair whose
  concatenation is a piece first), but at every step each candidate merge is dropped with probability
  ``alpha``; merging stops when no candidate is left. The draws come from a generator seeded by
  ``(seed, epoch, key)``. With ``alpha`` 0 it gives SentencePiece's deterministic BPE segmentation.

``key`` is the sentence's index in the training set (in memory) or its line number (streaming), so any
process can compute any sentence's sample of any epoch without seeing the others.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import VectorseqError

#: How many segmentations stand in for "the whole lattice" (``nbest=-1``) of a unigram model.
LATTICE_NBEST = 64
#: Added to the training seed for target-side draws, so that a shared vectorizer does not draw the same
#: numbers for a sentence and its translation (in memory and streaming alike).
TARGET_SEED_OFFSET = 7919
_WORD_BOUNDARY = "\u2581"  # SentencePiece's "▁", which starts every word


@dataclass(frozen=True)
class SamplingSpec:
    """How training sentences are segmented at random: ``alpha`` and ``nbest`` (unigram only)."""

    alpha: float
    nbest: int = -1

    def check(self, model_type: str, where: str = "sampling") -> "SamplingSpec":
        """Refuse values outside the valid range of ``model_type`` (one-line errors naming ``where``)."""
        a = self.alpha
        if isinstance(a, bool) or not isinstance(a, (int, float)):
            raise VectorseqError(f"{where}_alpha must be a number, got {a!r}")
        if model_type == "bpe" and not 0.0 < a < 1.0:
            raise VectorseqError(f"{where}_alpha is BPE-dropout's drop probability and must be in (0, 1), got {a}")
        if model_type == "unigram" and not a > 0.0:
            raise VectorseqError(f"{where}_alpha is the unigram smoothing exponent and must be > 0, got {a}")
        if isinstance(self.nbest, bool) or not isinstance(self.nbest, int) or self.nbest == 0 or self.nbest < -1:
            raise VectorseqError(f"{where}_nbest must be -1 (the whole lattice) or an int >= 1, got {self.nbest!r}")
        if model_type == "bpe" and self.nbest != -1:
            # BPE-dropout has no n-best list: a value here would be silently meaningless
            raise VectorseqError(f"{where}_nbest applies to unigram models only; leave it at -1 for BPE-dropout")
        return self


def sentence_uniforms(seed: int, epoch: int, keys: np.ndarray) -> np.ndarray:
    """One uniform number in [0, 1) per key, a pure function of ``(seed, epoch, key)`` (splitmix64)."""
    with np.errstate(over="ignore"):  # the hash relies on wrap-around arithmetic
        x = np.asarray(keys, dtype=np.uint64) + np.uint64((seed * 1_000_003 + epoch) & (2**64 - 1))
        x = x * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


class SubwordSampler:
    """Samples segmentations of lines with one SentencePiece processor (see the module docstring)."""

    def __init__(self, processor: object, pieces: Sequence[str], model_type: str) -> None:
        self._sp = processor
        self.model_type = model_type
        self._scores = np.array([processor.get_score(i) for i in range(len(pieces))], dtype=np.float64)
        self._piece_id = {p: i for i, p in enumerate(pieces)}
        self._unk_id = processor.unk_id()

    def sample(self, lines: list[str], keys: np.ndarray, spec: SamplingSpec, seed: int, epoch: int) -> list[list[int]]:
        """The sampled ids of each line; line ``i``'s sample depends only on ``(seed, epoch, keys[i])``."""
        if self.model_type == "unigram":
            return self._unigram(lines, keys, spec, seed, epoch)
        return [self._bpe_dropout(line, spec.alpha, np.random.default_rng([seed, epoch, int(k)]))
                for line, k in zip(lines, keys)]

    def _unigram(self, lines: list[str], keys: np.ndarray, spec: SamplingSpec, seed: int, epoch: int) -> list[list[int]]:
        nbest = LATTICE_NBEST if spec.nbest == -1 else spec.nbest
        candidates = self._sp.nbest_encode(lines, nbest_size=nbest)  # deterministic, one C++ call
        uniforms = sentence_uniforms(seed, epoch, keys)
        out = []
        for cands, u in zip(candidates, uniforms):
            if len(cands) <= 1:
                out.append(list(cands[0]) if cands else [])
                continue
            logp = np.array([self._scores[c].sum() for c in cands]) * spec.alpha  # log P(x)^alpha
            p = np.exp(logp - logp.max())
            cdf = np.cumsum(p / p.sum())
            out.append(list(cands[min(int(np.searchsorted(cdf, u, side="right")), len(cands) - 1)]))
        return out

    def _bpe_dropout(self, line: str, alpha: float, rng: np.random.Generator) -> list[int]:
        ids: list[int] = []
        for word in line.split(" "):
            if word:
                ids.extend(self._merge_word(_WORD_BOUNDARY + word, alpha, rng))
        return ids

    def _merge_word(self, word: str, alpha: float, rng: np.random.Generator) -> list[int]:
        """BPE merges of one word with each candidate merge dropped with probability ``alpha``."""
        symbols, piece_id, scores = list(word), self._piece_id, self._scores
        while len(symbols) > 1:
            best, best_score = -1, -np.inf
            keep = rng.random(len(symbols) - 1) >= alpha  # one draw per adjacent pair, every step
            for i in range(len(symbols) - 1):
                pid = piece_id.get(symbols[i] + symbols[i + 1])
                if pid is not None and keep[i] and scores[pid] > best_score:
                    best, best_score = i, scores[pid]
            if best < 0:
                break
            symbols[best: best + 2] = [symbols[best] + symbols[best + 1]]
        return [piece_id.get(s, self._unk_id) for s in symbols]
