"""RNN encoder-decoder with attention (LSTM or GRU; Bahdanau or Luong), readable top to bottom.

Encoder: the source input layer, then a (bi)directional multi-layer RNN over packed sequences; its outputs
are projected to d_model and form the memory. The decoder's initial state is a tanh bridge from the
encoder's final states.

Decoder, one step (both attentions share this loop):
- Bahdanau (additive): attend with the previous top hidden state, feed [embedding; context] to the RNN,
  predict from tanh(W [h_t; context]).
- Luong (general, with input feeding): feed [embedding; previous attentional vector] to the RNN, attend
  with h_t, attentional vector = tanh(W [h_t; context]), predict from it.
Training runs the same step function over the target prefix, so training and decoding cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .base import EncoderOutput, OutputLayer, Seq2Seq
from .dropout import Dropout


def _attend(scores: Tensor, memory: Tensor, weights: list[Tensor] | None) -> Tensor:
    """The context vector ``[B, D]`` for masked scores ``[B, S]``; the probabilities are appended to
    ``weights`` when a list is given (for :meth:`RNNSeq2Seq.cross_attention`)."""
    probs = torch.softmax(scores, -1)
    if weights is not None:
        weights.append(probs)
    return torch.bmm(probs[:, None, :], memory).squeeze(1)


class BahdanauAttention(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.key = nn.Linear(d, d, bias=False)
        self.query = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, 1, bias=False)

    def precompute(self, memory: Tensor) -> Tensor:
        return self.key(memory)

    def forward(self, query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor,
                weights: list[Tensor] | None = None) -> Tensor:
        scores = self.v(torch.tanh(keys + self.query(query)[:, None, :])).squeeze(-1)  # [B, S]
        return _attend(scores.masked_fill(~mask, float("-inf")), memory, weights)


class LuongAttention(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.w = nn.Linear(d, d, bias=False)

    def precompute(self, memory: Tensor) -> Tensor:
        return self.w(memory)  # score(h, m) = h . (W m)

    def forward(self, query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor,
                weights: list[Tensor] | None = None) -> Tensor:
        scores = torch.bmm(keys, query[:, :, None]).squeeze(-1).masked_fill(~mask, float("-inf"))
        return _attend(scores, memory, weights)


@dataclass
class RNNState:
    hidden: Tensor | tuple[Tensor, Tensor]  # [L, B, D] (LSTM: (h, c))
    feed: Tensor  # Bahdanau: unused zeros; Luong: previous attentional vector [B, D]
    memory: Tensor
    keys: Tensor
    memory_mask: Tensor


class RNNSeq2Seq(Seq2Seq):
    def __init__(self, src_input: nn.Module, tgt_input: nn.Module, vocab_size: int, d_model: int = 256,
                 encoder_layers: int = 1, decoder_layers: int = 1, dropout: float = 0.1, cell: str = "lstm",
                 bidirectional: bool = True, attention: str = "bahdanau", tie_embeddings: bool = True):
        super().__init__()
        self.src_input, self.tgt_input = src_input, tgt_input
        self.cell, self.attention_type = cell, attention
        self.d_model, self.dec_layers = d_model, decoder_layers
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        e_src = src_input.output_dim
        e_tgt = tgt_input.output_dim
        dirs = 2 if bidirectional else 1
        self.encoder = rnn(e_src, d_model, encoder_layers, batch_first=True, bidirectional=bidirectional,
                           dropout=dropout if encoder_layers > 1 else 0.0)
        self.enc_proj = nn.Linear(dirs * d_model, d_model)
        self.bridge = nn.Linear(dirs * d_model, d_model)
        self.decoder = rnn(e_tgt + d_model, d_model, decoder_layers, batch_first=True,
                           dropout=dropout if decoder_layers > 1 else 0.0)
        self.attn = BahdanauAttention(d_model) if attention == "bahdanau" else LuongAttention(d_model)
        self.combine = nn.Linear(2 * d_model, d_model)
        self.drop = Dropout(dropout)
        self.output = OutputLayer(d_model, vocab_size, tgt_input.output_table if tie_embeddings else None)

    # ------------------------------------------------------------------ encoder
    def encode(self, src: Tensor, src_mask: Tensor) -> EncoderOutput:
        x, mask = self.src_input(src, src_mask)
        x = self.drop(x)
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, final = self.encoder(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
        h = final[0] if self.cell == "lstm" else final  # [layers * dirs, B, D]
        dirs = 2 if self.encoder.bidirectional else 1
        last = h.view(self.encoder.num_layers, dirs, h.size(1), -1)[-1]  # top layer, [dirs, B, D]
        last = last.transpose(0, 1).reshape(h.size(1), -1)
        return EncoderOutput(memory=self.enc_proj(out), memory_mask=mask, final=torch.tanh(self.bridge(last)))

    # ------------------------------------------------------------------ decoder
    def init_decoder_state(self, enc: EncoderOutput) -> RNNState:
        h0 = enc.final[None].expand(self.dec_layers, -1, -1).contiguous()
        hidden = (h0, torch.zeros_like(h0)) if self.cell == "lstm" else h0
        B = enc.memory.size(0)
        return RNNState(hidden=hidden, feed=enc.memory.new_zeros(B, self.d_model), memory=enc.memory,
                        keys=self.attn.precompute(enc.memory), memory_mask=enc.memory_mask)

    def _step(self, emb: Tensor, state: RNNState, weights: list[Tensor] | None = None) -> tuple[Tensor, RNNState]:
        """One decoder step from an embedded token [B, E] to the pre-output vector [B, D] (``weights``: a list
        that receives this step's attention probabilities [B, S])."""
        top = lambda hid: (hid[0] if self.cell == "lstm" else hid)[-1]  # noqa: E731
        if self.attention_type == "bahdanau":
            ctx = self.attn(top(state.hidden), state.keys, state.memory, state.memory_mask, weights)
            out, hidden = self.decoder(torch.cat([emb, ctx], -1)[:, None], state.hidden)
            vec = torch.tanh(self.combine(torch.cat([out[:, 0], ctx], -1)))
        else:
            out, hidden = self.decoder(torch.cat([emb, state.feed], -1)[:, None], state.hidden)
            ctx = self.attn(out[:, 0], state.keys, state.memory, state.memory_mask, weights)
            vec = torch.tanh(self.combine(torch.cat([out[:, 0], ctx], -1)))
        state.hidden, state.feed = hidden, vec
        return self.drop(vec), state

    def forward(self, src: Tensor, src_mask: Tensor, tgt_in: Tensor, keep: Tensor | None = None) -> Tensor:
        state = self.init_decoder_state(self.encode(src, src_mask))
        emb, _ = self.tgt_input(tgt_in, None)
        emb = self.drop(emb)
        outs = []
        for t in range(tgt_in.size(1)):
            vec, state = self._step(emb[:, t], state)
            outs.append(vec)
        out = torch.stack(outs, 1)
        return self.output(out if keep is None else out[keep])

    def cross_attention(self, src: Tensor, src_mask: Tensor, tgt_in: Tensor) -> Tensor:
        """Attention probabilities of a teacher-forced pass: ``[1, B, T, S]`` (one attention; the leading
        axis matches the Transformer's one-row-per-layer shape)."""
        state = self.init_decoder_state(self.encode(src, src_mask))
        emb, _ = self.tgt_input(tgt_in, None)
        weights: list[Tensor] = []
        for t in range(tgt_in.size(1)):
            _, state = self._step(emb[:, t], state, weights)
        return torch.stack(weights, 1)[None]

    def decode_step(self, prev_tokens: Tensor, state: RNNState) -> tuple[Tensor, RNNState]:
        emb, _ = self.tgt_input(prev_tokens[:, None], None)
        vec, state = self._step(self.drop(emb[:, 0]), state)
        return self.output(vec), state

    def reorder_state(self, state: RNNState, index: Tensor, memory: bool = True) -> RNNState:
        if self.cell == "lstm":
            state.hidden = (state.hidden[0].index_select(1, index), state.hidden[1].index_select(1, index))
        else:
            state.hidden = state.hidden.index_select(1, index)
        state.feed = state.feed.index_select(0, index)
        if memory:
            state.memory = state.memory.index_select(0, index)
            state.keys = state.keys.index_select(0, index)
            state.memory_mask = state.memory_mask.index_select(0, index)
        return state
