"""What every encoder-decoder offers to training and decoding (see docs/architecture.md)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn


@dataclass
class EncoderOutput:
    memory: Tensor  # [B, S, D]
    memory_mask: Tensor  # [B, S], True = real position
    final: Any = None  # RNN: the encoder's final state, for the decoder's initial state


class OutputLayer(nn.Module):
    """Decoder states -> vocabulary logits, optionally tied to the target embedding table.

    When the tied table is narrower or wider than the model (pretrained vectors of another width), a linear
    map to the table's width comes first so tying still works.
    """

    def __init__(self, d_model: int, vocab_size: int, tied: nn.Embedding | None = None):
        super().__init__()
        self.tied = tied
        if tied is None:
            self.proj = nn.Linear(d_model, vocab_size, bias=False)
            nn.init.normal_(self.proj.weight, std=d_model ** -0.5)
        else:
            e = tied.embedding_dim
            self.pre = nn.Identity() if e == d_model else nn.Linear(d_model, e, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.tied is None:
            return self.proj(x)
        return torch.nn.functional.linear(self.pre(x), self.tied.weight)


class Seq2Seq(nn.Module):
    """Base class; see TransformerSeq2Seq and RNNSeq2Seq for the two implementations."""

    def forward(self, src: Tensor, src_mask: Tensor, tgt_in: Tensor,
                keep: Tensor | None = None) -> Tensor:  # pragma: no cover
        """Teacher-forced logits ``[B, T, V]``; with a boolean ``keep [B, T]``, only those positions'
        ``[N, V]`` (training passes the real target positions: the output layer and the loss then skip
        padding, which was a quarter of a Transformer-tiny step)."""
        raise NotImplementedError

    def encode(self, src: Tensor, src_mask: Tensor) -> EncoderOutput:  # pragma: no cover
        raise NotImplementedError

    def init_decoder_state(self, enc: EncoderOutput) -> Any:  # pragma: no cover
        raise NotImplementedError

    def decode_step(self, prev_tokens: Tensor, state: Any) -> tuple[Tensor, Any]:  # pragma: no cover
        raise NotImplementedError

    def reorder_state(self, state: Any, index: Tensor, memory: bool = True) -> Any:  # pragma: no cover
        raise NotImplementedError

    def cross_attention(self, src: Tensor, src_mask: Tensor, tgt_in: Tensor) -> Tensor:  # pragma: no cover
        """Decoder-to-encoder attention of a teacher-forced pass, ``[L, B, T, S]`` (L attention layers, heads
        averaged). Only for showing it (:mod:`vectorseq.explain`): decoding never calls it."""
        raise NotImplementedError

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
