"""Subword regularization that is reproducible: unigram sampling (Kudo 2018) and BPE-dropout (Provilkov et
al. 2020) on a SentencePiece model, drawn with *our* random numbers, seeded per sentence.

Why not SentencePiece's own sampler (``encode(..., enable_sampling=True)``): its generator is a
thread-local object seeded once per thread from a global seed (``set_random_generator_seed``), and in the
0.2 releases it is an ``absl::BitGen``, which salts its seed per process. Measured here: the same seed gives
the same samples within one process but different samples in the next one, so neither a resumed run nor a
second DDP rank could reproduce an epoch. The maintainer's own advice (sentencepiece#521) is to draw from
the deterministic n-best list instead; that is what the unigram sampler does.

- **unigram**, ``nbest=-1`` (the whole lattice): forward-filtering backward-sampling, as Kudo (2018) and
  SentencePiece do, with every piece's log-probability scaled by ``alpha``, so a segmentation ``x`` is
  drawn with probability proportional to ``P(x)^alpha``. A unigram piece never crosses a space, so the
  sentence lattice is the product of its words' lattices: each word type's lattice and forward sums are
  computed once and cached, and a draw only walks back from the word's end (a few steps per word).
  Characters that no piece covers become ``<unk>`` with SentencePiece's penalty (lowest score - 10).
- **unigram**, ``nbest=k``: SentencePiece's ``k`` best segmentations (C++), each scored by its
  log-likelihood; one is drawn with probability proportional to ``P(x)^alpha``. Slower (the n-best search
  costs about 0.1 ms per sentence at k=16).
- **bpe**: BPE-dropout: the word's characters are merged as BPE does (the highest-scored adjacent pair whose
  concatenation is a piece first), but at every step each candidate merge is dropped with probability
  ``alpha``; merging stops when no candidate is left. The draws come from a generator seeded by
  ``(seed, epoch, key)``. With ``alpha`` 0 it gives SentencePiece's deterministic BPE segmentation.

``key`` is the sentence's index in the training set (in memory) or its line number (streaming), so any
process can compute any sentence's sample of any epoch without seeing the others.
"""
from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import VectorseqError

#: Word types whose unigram lattice is cached (the cache is emptied when full: memory stays bounded).
LATTICE_CACHE = 200_000
#: SentencePiece's largest n-best list.
MAX_NBEST = 512
#: SentencePiece's score penalty for an unknown character (unigram_model.cc's kUnkPenalty).
UNK_PENALTY = 10.0
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
        if self.nbest > MAX_NBEST:
            raise VectorseqError(f"{where}_nbest must be <= {MAX_NBEST} (SentencePiece's n-best limit), got {self.nbest}")
        if model_type == "bpe" and self.nbest != -1:
            # BPE-dropout has no n-best list: a value here would be silently meaningless
            raise VectorseqError(f"{where}_nbest applies to unigram models only; leave it at -1 for BPE-dropout")
        return self


def sentence_seeds(seed: int, epoch: int, keys: np.ndarray) -> np.ndarray:
    """One 64-bit number per key, a pure function of ``(seed, epoch, key)`` (splitmix64, vectorized)."""
    with np.errstate(over="ignore"):  # the hash relies on wrap-around arithmetic
        x = np.asarray(keys, dtype=np.uint64) + np.uint64((seed * 1_000_003 + epoch) & (2**64 - 1))
        x = x * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def sentence_uniforms(seed: int, epoch: int, keys: np.ndarray) -> np.ndarray:
    """One uniform number in [0, 1) per key, a pure function of ``(seed, epoch, key)``."""
    return (sentence_seeds(seed, epoch, keys) >> np.uint64(11)).astype(np.float64) / float(2**53)


@dataclass
class _Lattice:
    """One word's unigram lattice, ready for backward sampling: for every end position, the pieces ending
    there (start, id) and the cumulative probabilities of choosing each given the end was reached."""

    edges: list[list[tuple[int, int]]]
    cdfs: list[list[float]]


class SubwordSampler:
    """Samples segmentations of lines with one SentencePiece processor (see the module docstring)."""

    def __init__(self, processor: object, pieces: Sequence[str], model_type: str) -> None:
        self._sp = processor
        self.model_type = model_type
        self._scores = np.array([processor.get_score(i) for i in range(len(pieces))], dtype=np.float64)
        # text never produces a control piece (<s>, </s>, ...): only normal pieces may match
        self._piece_id = {p: i for i, p in enumerate(pieces) if processor.is_unknown(i) is False
                          and not processor.is_control(i)}
        self._score_of = {i: float(self._scores[i]) for i in self._piece_id.values()}
        self._max_len = max((len(p) for p in self._piece_id), default=1)
        self._unk_id = processor.unk_id()
        self._unk_score = min(self._score_of.values(), default=0.0) - UNK_PENALTY
        self._lattices: dict[tuple[str, float], _Lattice] = {}
        self._bpe_plans: dict[str, tuple[list[int], list[int]]] = {}

    def sample(self, lines: list[str], keys: np.ndarray, spec: SamplingSpec, seed: int, epoch: int) -> list[list[int]]:
        """The sampled ids of each line; line ``i``'s sample depends only on ``(seed, epoch, keys[i])``."""
        if self.model_type == "unigram" and spec.nbest != -1:
            return self._unigram_nbest(lines, keys, spec, seed, epoch)
        draw = self._unigram_word if self.model_type == "unigram" else self._bpe_word
        out = []
        for line, s in zip(lines, sentence_seeds(seed, epoch, keys).tolist()):
            rng = random.Random(s)  # Python's generator: cheap to seed, cheap per draw
            ids: list[int] = []
            for word in line.split(" "):
                if word:
                    ids.extend(draw(_WORD_BOUNDARY + word, spec.alpha, rng))
            out.append(ids)
        return out

    # ------------------------------------------------------------------------------------ unigram
    def _unigram_word(self, word: str, alpha: float, rng: random.Random) -> list[int]:
        """Backward sampling through the word's cached lattice: a segmentation drawn with P(x)^alpha."""
        lattice = self._lattices.get((word, alpha))
        if lattice is None:
            if len(self._lattices) >= LATTICE_CACHE:
                self._lattices.clear()
            lattice = self._lattices[(word, alpha)] = self._lattice(word, alpha)
        ids: list[int] = []
        end = len(word)
        while end > 0:
            cdf = lattice.cdfs[end]
            start, pid = lattice.edges[end][min(bisect.bisect_right(cdf, rng.random() * cdf[-1]), len(cdf) - 1)]
            ids.append(pid)
            end = start
        ids.reverse()
        return ids

    def _lattice(self, word: str, alpha: float) -> _Lattice:
        """Forward filtering: log-sums of all paths reaching each position, with scores scaled by alpha."""
        n, piece_id, score_of = len(word), self._piece_id, self._score_of
        forward = [0.0] + [-math.inf] * n
        edges: list[list[tuple[int, int]]] = [[] for _ in range(n + 1)]
        cdfs: list[list[float]] = [[] for _ in range(n + 1)]
        for end in range(1, n + 1):
            cands = []
            for start in range(max(0, end - self._max_len), end):
                pid = piece_id.get(word[start:end])
                if pid is not None and forward[start] > -math.inf:
                    cands.append((start, pid, forward[start] + alpha * score_of[pid]))
            if not any(c[0] == end - 1 for c in cands):  # an uncovered character: <unk>, as SentencePiece does
                cands.append((end - 1, self._unk_id, forward[end - 1] + alpha * self._unk_score))
            top = max(c[2] for c in cands)
            weights = [math.exp(c[2] - top) for c in cands]
            forward[end] = top + math.log(sum(weights))
            edges[end] = [(c[0], c[1]) for c in cands]
            cdfs[end] = list(itertools.accumulate(weights))
        return _Lattice(edges, cdfs)

    def _unigram_nbest(self, lines: list[str], keys: np.ndarray, spec: SamplingSpec, seed: int,
                       epoch: int) -> list[list[int]]:
        candidates = self._sp.nbest_encode(lines, nbest_size=spec.nbest)  # deterministic, one C++ call
        out = []
        for cands, u in zip(candidates, sentence_uniforms(seed, epoch, keys)):
            if len(cands) <= 1:
                out.append(list(cands[0]) if cands else [])
                continue
            logp = np.array([self._scores[c].sum() for c in cands]) * spec.alpha  # log P(x)^alpha
            cdf = np.cumsum(np.exp(logp - logp.max()))
            out.append(list(cands[min(int(np.searchsorted(cdf, u * cdf[-1], side="right")), len(cands) - 1)]))
        return out

    # ------------------------------------------------------------------------------------ BPE-dropout
    def _bpe_word(self, word: str, alpha: float, rng: random.Random) -> list[int]:
        """BPE merges of one word with each candidate merge dropped with probability ``alpha``.

        While no drop has happened, the word follows its deterministic merges (cached per word type): each
        step only draws whether that step's best candidate is dropped. At the first drop the merging goes on
        from that state, drawing candidates best-first until one survives (the best kept candidate is the
        first kept one in best-first order).
        """
        plan = self._bpe_plans.get(word)
        if plan is None:
            if len(self._bpe_plans) >= LATTICE_CACHE:
                self._bpe_plans.clear()
            plan = self._bpe_plans[word] = self._bpe_plan(word)
        merges, ids = plan
        for step in range(len(merges)):
            if rng.random() < alpha:  # this step's best candidate is dropped: leave the deterministic path
                symbols, pair = self._replay(word, merges[:step])
                return self._bpe_merge(symbols, pair, alpha, rng, best_dropped=True)
        return list(ids)

    def _bpe_plan(self, word: str) -> tuple[list[int], list[int]]:
        """The deterministic merges of ``word`` (positions, in order) and its ids."""
        symbols, pair = self._replay(word, [])
        merges: list[int] = []
        while (chosen := self._best(pair, 0.0, None, False)) is not None:
            merges.append(chosen)
            self._merge_at(symbols, pair, chosen)
        return merges, [self._piece_id.get(s, self._unk_id) for s in symbols]

    def _replay(self, word: str, merges: list[int]) -> tuple[list[str], list[int | None]]:
        """The symbols of ``word`` and the piece of each adjacent pair after ``merges``."""
        symbols = list(word)
        pair = [self._piece_id.get(a + b) for a, b in zip(symbols, symbols[1:])]
        for chosen in merges:
            self._merge_at(symbols, pair, chosen)
        return symbols, pair

    def _merge_at(self, symbols: list[str], pair: list[int | None], chosen: int) -> None:
        symbols[chosen: chosen + 2] = [symbols[chosen] + symbols[chosen + 1]]
        del pair[chosen]  # only the pairs around the merge change
        if chosen > 0:
            pair[chosen - 1] = self._piece_id.get(symbols[chosen - 1] + symbols[chosen])
        if chosen < len(symbols) - 1:
            pair[chosen] = self._piece_id.get(symbols[chosen] + symbols[chosen + 1])

    def _best(self, pair: list[int | None], alpha: float, rng: random.Random | None, best_dropped: bool) -> int | None:
        """The position of the best candidate that survives dropout (ties: the leftmost, as BPE), or None."""
        order = sorted((-self._score_of[pid], i) for i, pid in enumerate(pair) if pid is not None)
        if best_dropped:
            order = order[1:]
        if rng is None:
            return order[0][1] if order else None
        return next((i for _, i in order if rng.random() >= alpha), None)

    def _bpe_merge(self, symbols: list[str], pair: list[int | None], alpha: float, rng: random.Random,
                   best_dropped: bool) -> list[int]:
        """Merge with dropout from the given state until a step keeps no candidate."""
        while (chosen := self._best(pair, alpha, rng, best_dropped)) is not None:
            self._merge_at(symbols, pair, chosen)
            best_dropped = False
        return [self._piece_id.get(s, self._unk_id) for s in symbols]
