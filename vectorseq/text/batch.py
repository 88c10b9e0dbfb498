"""Padding id sequences into a batch: numpy ``[B, T]`` for ``transform``, torch tensors for a model."""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from .vocabulary import EOS_ID


@dataclasses.dataclass
class EncodedBatch:
    """A padded batch of id sequences, ready for a model.

    Attributes:
        ids: ``torch.LongTensor [B, T]``, padded with ``PAD_ID`` (0).
        lengths: ``torch.LongTensor [B]``, the number of real ids in each row (BOS/EOS included).
        mask: ``torch.BoolTensor [B, T]``, ``True`` at real tokens, ``False`` at padding.
    """

    ids: torch.Tensor
    lengths: torch.Tensor
    mask: torch.Tensor

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def to(self, device: Any) -> "EncodedBatch":
        """The same batch on another device."""
        return EncodedBatch(self.ids.to(device), self.lengths.to(device), self.mask.to(device))

    @classmethod
    def from_padded(cls, ids: np.ndarray, lengths: np.ndarray) -> "EncodedBatch":
        """Wrap :func:`pad`'s arrays as tensors and derive the mask."""
        ids_t = torch.from_numpy(ids)
        lengths_t = torch.from_numpy(lengths)
        mask = torch.arange(ids_t.shape[1]).unsqueeze(0) < lengths_t.unsqueeze(1)
        return cls(ids=ids_t, lengths=lengths_t, mask=mask)


def pad(seqs: list[list[int]], length: int | None, keep_eos: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pad / truncate to ``[B, T]`` (numpy int64) and return ``(ids, lengths)``; ``T`` is ``length`` or the
    longest sequence.

    Truncation cuts from the end; when ``keep_eos`` the last kept position is ``EOS_ID``, so a truncated
    target still ends like a sentence.
    """
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    T = int(length) if length is not None else (int(lengths.max()) if len(seqs) else 0)
    ids = np.zeros((len(seqs), T), dtype=np.int64)
    for b, seq in enumerate(seqs):
        n = len(seq)
        if n > T:
            seq = seq[: T - 1] + [EOS_ID] if (keep_eos and T > 0) else seq[:T]
            n = T
            lengths[b] = T
        if n:
            ids[b, :n] = seq
    return ids, lengths
