"""Token-budget batches bucketed by length.

Sentences of similar length go together so a batch holds little padding: the training set is shuffled with
a seed that depends on (seed, epoch), cut into pools of ``pool_batches`` batches' worth of sentences, each
pool sorted by length and cut into batches whose padded size (sentences x longest side) stays within
``batch_tokens``; finally the batch order is shuffled. The result is deterministic for a given (seed, epoch)
and is the same list on every process, so distributed ranks take disjoint slices of it.
The training loop does not call these directly: it reads ready batches from a
:mod:`~vectorseq.data.batch_source`, which uses them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..text.language_tags import Tagging
from ..vectorizer import BOS_ID, EOS_ID, PAD_ID


@dataclass
class Batch:
    src: torch.Tensor  # [B, S] source ids + EOS, padded with PAD
    src_mask: torch.Tensor  # [B, S] True = real token
    tgt_in: torch.Tensor  # [B, T] BOS + target ids
    tgt_out: torch.Tensor  # [B, T] target ids + EOS (PAD where tgt_in is padding)
    n_src_tokens: int  # real tokens, EOS included
    n_tgt_tokens: int

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "Batch":
        if str(device) == "cpu":
            return self
        return Batch(*(t.to(device, non_blocking=non_blocking) for t in (self.src, self.src_mask, self.tgt_in,
                                                                          self.tgt_out)),
                     self.n_src_tokens, self.n_tgt_tokens)

    def pin_memory(self) -> "Batch":
        return Batch(self.src.pin_memory(), self.src_mask.pin_memory(), self.tgt_in.pin_memory(),
                     self.tgt_out.pin_memory(), self.n_src_tokens, self.n_tgt_tokens)


def make_batches(src_lens: np.ndarray, tgt_lens: np.ndarray, batch_tokens: int, *, seed: int = 0, epoch: int = 0,
                 shuffle: bool = True, pool_batches: int = 100) -> list[np.ndarray]:
    """Index arrays of each batch. Lengths count the EOS/BOS token each side gets."""
    n = len(src_lens)
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n) if shuffle else np.arange(n)
    longest = np.maximum(src_lens, tgt_lens)
    mean_len = max(1.0, float(longest.mean())) if n else 1.0
    pool = max(1, int(pool_batches * batch_tokens / mean_len))
    batches: list[np.ndarray] = []
    for start in range(0, n, pool):
        chunk = order[start: start + pool]
        chunk = chunk[np.lexsort((tgt_lens[chunk], src_lens[chunk]))]
        cur: list[int] = []
        cur_max = 0
        for i in chunk.tolist():
            m = max(cur_max, int(longest[i]))
            if cur and m * (len(cur) + 1) > batch_tokens:
                batches.append(np.asarray(cur))
                cur, m = [], int(longest[i])
            cur.append(i)
            cur_max = m
        if cur:
            batches.append(np.asarray(cur))
    if shuffle:
        perm = rng.permutation(len(batches))
        batches = [batches[i] for i in perm]
    return batches


def source_with_eos(ids: np.ndarray | list[int]) -> list[int]:
    """Stored source ids as the model reads them: followed by EOS (the rule :func:`collate` applies to batches,
    and :meth:`TextVectorizer.encode_sources` to raw text)."""
    return [*map(int, ids), EOS_ID]


def collate(src_ids: list[np.ndarray], tgt_ids: list[np.ndarray], index: np.ndarray,
            tagging: Tagging | None = None) -> Batch:
    """Pad one batch. ``src_ids``/``tgt_ids`` hold the token ids of every sentence without specials;
    ``tagging`` (a multilingual direction) puts the target-language tag before the source or in place of BOS."""
    pre = 0 if tagging is None or tagging.src_prefix is None else 1  # the tag before the source
    start = BOS_ID if tagging is None else tagging.tgt_start
    B = len(index)
    S = max(len(src_ids[i]) for i in index) + 1 + pre
    T = max(len(tgt_ids[i]) for i in index) + 1
    src = np.full((B, S), PAD_ID, dtype=np.int64)
    tgt_in = np.full((B, T), PAD_ID, dtype=np.int64)
    tgt_out = np.full((B, T), PAD_ID, dtype=np.int64)
    ns = nt = 0
    for r, i in enumerate(index):
        s, t = src_ids[i], tgt_ids[i]
        if pre:
            src[r, 0] = tagging.src_prefix
        src[r, pre: pre + len(s)] = s
        src[r, pre + len(s)] = EOS_ID
        tgt_in[r, 0] = start
        tgt_in[r, 1: len(t) + 1] = t
        tgt_out[r, : len(t)] = t
        tgt_out[r, len(t)] = EOS_ID
        ns += len(s) + 1 + pre
        nt += len(t) + 1
    src_t = torch.from_numpy(src)
    return Batch(src_t, src_t != PAD_ID, torch.from_numpy(tgt_in), torch.from_numpy(tgt_out), ns, nt)
