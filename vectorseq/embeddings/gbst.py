"""Learned segmentation: gradient-based subword tokenization (GBST, Charformer, Tay et al. 2021).

``embeddings.src.input: gbst`` over a byte (or character) source vectorizer. The layer learns, with the
translation loss, how to group bytes into subword-like blocks:

1. each byte gets a learned vector (unit scale), padding set to zero, then a depthwise 1-D convolution of
   width ``max_block`` mixes in its neighbours (as Charformer does before scoring: a block's score should
   see the bytes around it, e.g. whether a space follows);
2. for every block size ``b = 1..max_block`` the sequence is cut into blocks of ``b`` (stride ``b``), each
   block is the mean of its *real* bytes, and the block vector is repeated back to every position it
   covers, so every position has one candidate per block size;
3. one linear scorer gives each candidate a score; a softmax over the block sizes at each position gives
   the block-size weights (with ``calibrate``, the paper's position-wise score calibration
   ``softmax(P Pᵀ) P`` over the real positions lets each position's weights consult the others'), and the
   position's vector is the weighted sum of its candidates;
4. mean pooling with stride ``downsample`` (over real positions only) shortens the sequence to
   ``ceil(T / downsample)``; a pooled position is real if any of its inputs is.

Padding never leaks: positions under the mask are zeroed before the convolution and every mean divides a
masked sum by a count of real positions, so the ids under padding (and how much padding there is) do not
change any real output position. The encoder sees the shorter sequence (``uses_positions`` is True: the
Transformer adds its sinusoids to the *downsampled* positions, one per output slot, while local order inside
a block is what the convolution provides; adding positions before pooling would only blur them).

The byte table is the source's own: ``output_table`` is None (the decoder's output projection never ties to
it, and ``model.share_embeddings`` refuses gbst), but it gets the table's optimizer group (no weight decay,
``lr_multiplier``).
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import InputLayer


def masked_block_mean(x: Tensor, mask: Tensor, size: int) -> tuple[Tensor, Tensor]:
    """Mean of each block of ``size`` consecutive positions over its real positions.

    ``x`` [B, T, d], ``mask`` [B, T] bool. Returns (means [B, ceil(T/size), d], any-real [B, ceil(T/size)]);
    a block without real positions is zero.
    """
    B, T, d = x.shape
    n = math.ceil(T / size)
    pad = n * size - T
    w = mask.to(x.dtype)
    xs = F.pad(x * w[..., None], (0, 0, 0, pad)).view(B, n, size, d).sum(2)
    counts = F.pad(w, (0, pad)).view(B, n, size).sum(2)
    return xs / counts.clamp(min=1.0)[..., None], counts > 0


def calibrated(weights: Tensor, mask: Tensor) -> Tensor:
    """Charformer's position-wise score calibration ``softmax(P Pᵀ) P``, attending to real positions only.

    ``weights`` P [B, T, M] (rows sum to 1), ``mask`` [B, T]; the result's rows still sum to 1.
    """
    affinity = torch.bmm(weights, weights.transpose(1, 2)).masked_fill(~mask[:, None, :], float("-inf"))
    return torch.bmm(torch.softmax(affinity, dim=-1), weights)


class GBSTInput(InputLayer):
    """Byte/character embeddings, soft block selection over block sizes 1..max_block, then downsampling."""

    uses_positions = True

    def __init__(self, vocab_size: int, d_model: int, max_block: int = 4, downsample: int = 2,
                 lr_multiplier: float = 1.0, policy: str = "learned", calibrate: bool = False):
        super().__init__(d_model, policy, lr_multiplier)
        self.max_block, self.downsample, self.calibrate = max_block, downsample, calibrate
        self.byte_embedding = nn.Embedding(vocab_size, d_model, padding_idx=0)
        nn.init.normal_(self.byte_embedding.weight, std=d_model ** -0.5)
        self.register_buffer("scale", torch.tensor(math.sqrt(d_model)))  # unit-size inputs, as EmbeddingInput
        # depthwise: one filter per channel keeps the conv cheap (bytes sequences are long)
        self.conv = nn.Conv1d(d_model, d_model, kernel_size=max_block, groups=d_model, bias=True)
        self.scorer = nn.Linear(d_model, 1)

    @property
    def output_table(self) -> nn.Embedding | None:
        """None: a byte table is never the target vocabulary's output projection."""
        return None

    def parameter_groups(self) -> list[dict[str, Any]]:
        """The byte table as an embedding table: no weight decay, its own learning rate multiplier."""
        return [{"params": [self.byte_embedding.weight], "weight_decay": 0.0, "lr_mult": self.lr_multiplier}]

    def _contextual(self, ids: Tensor, mask: Tensor) -> Tensor:
        """Embedded bytes [B, T, d] with padding zeroed, through the width-``max_block`` convolution."""
        x = self.byte_embedding(ids) * self.scale * mask[..., None].to(self.scale.dtype)
        k = self.max_block
        # 'same' length for any kernel width: (k-1)//2 zeros on the left, the rest on the right
        h = F.pad(x.transpose(1, 2), ((k - 1) // 2, k - 1 - (k - 1) // 2))
        return x + self.conv(h).transpose(1, 2) * mask[..., None].to(x.dtype)

    def candidates(self, ids: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Every position's candidate block vectors [B, T, M, d] and their block-size weights [B, T, M]."""
        x = self._contextual(ids, mask)
        T = x.size(1)
        blocks = []
        for b in range(1, self.max_block + 1):
            means, _ = masked_block_mean(x, mask, b)
            blocks.append(means.repeat_interleave(b, dim=1)[:, :T])  # back to one candidate per position
        cand = torch.stack(blocks, dim=2)
        weights = torch.softmax(self.scorer(cand).squeeze(-1), dim=-1)
        if self.calibrate:
            weights = calibrated(weights, mask)
        return cand, weights

    def block_weights(self, ids: Tensor, mask: Tensor | None = None) -> Tensor:
        """The block-size weights [B, T, max_block] (what the layer learned; for inspection)."""
        return self.candidates(ids, ids != 0 if mask is None else mask)[1]

    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        mask = ids != 0 if mask is None else mask
        cand, weights = self.candidates(ids, mask)
        mixed = (cand * weights[..., None]).sum(2)
        return masked_block_mean(mixed, mask, self.downsample)
