"""Transformer encoder-decoder (pre-norm or post-norm, sinusoidal positions), readable top to bottom.

``norm="pre"`` (the default) puts a LayerNorm before each sub-layer, ``x + F(LN(x))``, and one after the
last encoder and decoder layer; ``norm="post"`` is the original layout of Vaswani et al. (2017),
``LN(x + F(x))``, with no final LayerNorm (``enc_norm``/``dec_norm`` are identities then, so the weights file
holds none). Post-norm is what MarianMT runs, which the Hugging Face export relies on.

Shapes: B batch, S source length, T target length, D d_model, H heads, V target vocabulary.
Masks are boolean with True = a real token. Attention runs through
``torch.nn.functional.scaled_dot_product_attention`` (fused kernels on CPU and GPU).

Incremental decoding keeps a key/value cache per decoder layer: each step feeds one token per sentence and
appends its keys and values, and the encoder memory's keys and values for cross-attention are projected once.
The layers' ``step`` methods do that arithmetic on ``[N, D]`` rows in fewer, larger ops (decoding one sentence
is bound by the number of ops, not by FLOPs). ``decode_step`` with the cache gives the same logits as re-running
the whole prefix (tested).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import EncoderOutput, OutputLayer, Seq2Seq
from .dropout import Dropout


def attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float, causal: bool) -> Tensor:
    """Scaled dot-product attention: ``q [B, H, T, dk]``, ``k``/``v [B, H, S, dk]``, ``mask`` boolean and
    broadcastable to ``[B, H, T, S]`` (True = attend). On a GPU PyTorch's fused kernel; on a CPU
    :func:`_plain_attention`."""
    if q.device.type == "cpu":
        return _plain_attention(q, k, v, mask, dropout_p, causal)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=causal)


def _plain_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float, causal: bool) -> Tensor:
    """matmul, softmax, matmul. At translation lengths (tens of tokens, 32-wide heads) PyTorch's fused CPU kernel
    costs 2-3x this, forward and backward (benchmarks/RESULTS.md, "attention on the CPU"), and for one-token
    queries (incremental decoding) its per-call overhead dominates."""
    # in place: the matmul's backward needs only q and k, not its output, so scaling and masking it in place is
    # safe for autograd and saves two [B, H, T, S] temporaries
    scores = torch.matmul(q, k.transpose(-1, -2)).mul_(q.size(-1) ** -0.5)
    if causal:  # position t sees keys 0..t, as SDPA's is_causal (aligned top-left)
        T, S = scores.shape[-2:]
        scores.masked_fill_(torch.ones(T, S, dtype=torch.bool, device=q.device).triu_(1), float("-inf"))
    if mask is not None:
        scores.masked_fill_(~mask, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    if dropout_p > 0.0:
        probs = F.dropout(probs, dropout_p)
    return torch.matmul(probs, v)


def sinusoidal_positions(length: int, dim: int) -> Tensor:
    """The fixed sin/cos position table of Vaswani et al. (2017), shape [length, dim]."""
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(pos * div)
    table[:, 1::2] = torch.cos(pos * div[: dim // 2])
    return table


class PositionalEncoding(nn.Module):
    def __init__(self, dim: int, max_len: int = 1024):
        super().__init__()
        self.dim = dim
        self.register_buffer("table", sinusoidal_positions(max_len, dim), persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        end = offset + x.size(1)
        if end > self.table.size(0):  # grow for unusually long inputs instead of failing
            with torch.inference_mode(False):  # a normal tensor even when grown while decoding
                self.table = sinusoidal_positions(2 * end, self.dim).to(self.table.device)
        return x + self.table[offset:end].to(x.dtype)


class SelfAttention(nn.Module):
    """Multi-head self-attention with one fused q/k/v projection and an optional key/value cache."""

    def __init__(self, d: int, heads: int, attn_dropout: float):
        super().__init__()
        self.h, self.dk, self.attn_dropout = heads, d // heads, attn_dropout
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x: Tensor, key_mask: Tensor | None = None, causal: bool = False,
                cache: dict | None = None) -> Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.h, self.dk).permute(2, 0, 3, 1, 4)  # each [B, H, T, dk]
        if cache is not None:  # incremental decoding: append this step's keys/values
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
            causal = False  # one new query attends to every cached position
        mask = None if key_mask is None else key_mask[:, None, None, :]
        y = attention(q, k, v, mask, self.attn_dropout if self.training else 0.0, causal)
        return self.out(y.transpose(1, 2).reshape(B, T, D))

    def step(self, x: Tensor, cache: dict) -> Tensor:
        """Incremental decoding, one new position per row: ``x [N, D] -> [N, D]``, appending to ``cache`` (the
        layout ``forward`` uses). The arithmetic of ``forward`` with a cache, without its reshapes."""
        N, D = x.shape
        q, k, v = F.linear(x, self.qkv.weight, self.qkv.bias).view(N, 3, self.h, 1, self.dk).unbind(1)
        if "k" in cache:
            k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
        cache["k"], cache["v"] = k, v
        probs = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (self.dk ** -0.5), dim=-1)
        return F.linear(torch.matmul(probs, v).view(N, D), self.out.weight, self.out.bias)


class CrossAttention(nn.Module):
    """Decoder-to-encoder attention; the memory's keys/values can be projected once and reused."""

    def __init__(self, d: int, heads: int, attn_dropout: float):
        super().__init__()
        self.h, self.dk, self.attn_dropout = heads, d // heads, attn_dropout
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, d)

    def memory_kv(self, memory: Tensor) -> tuple[Tensor, Tensor]:
        B, S, D = memory.shape
        k, v = self.kv(memory).view(B, S, 2, self.h, self.dk).permute(2, 0, 3, 1, 4)
        return k, v

    def forward(self, x: Tensor, kv: tuple[Tensor, Tensor], memory_mask: Tensor,
                weights: list[Tensor] | None = None) -> Tensor:
        """``weights``: when a list is given, the attention probabilities averaged over heads ``[B, T, S]``
        are appended to it (computed explicitly; without it the fused kernel runs as always)."""
        B, T, D = x.shape
        q = self.q(x).view(B, T, self.h, self.dk).transpose(1, 2)
        mask = memory_mask[:, None, None, :]
        if weights is None:
            y = attention(q, kv[0], kv[1], mask, self.attn_dropout if self.training else 0.0, False)
        else:  # the same softmax(q k^T / sqrt(dk)) the kernel computes, kept so it can be shown
            probs = torch.softmax((q @ kv[0].transpose(-1, -2) * self.dk ** -0.5).masked_fill(~mask, float("-inf")), -1)
            weights.append(probs.mean(1))
            y = probs @ kv[1]
        return self.out(y.transpose(1, 2).reshape(B, T, D))

    def step_memory(self, memory: Tensor, memory_mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The memory as :meth:`step` reads it: keys transposed ``[B, H, dk, S]``, values ``[B, H, S, dk]``,
        both contiguous, and the mask as an additive bias ``[B, H, 1, S]`` (0 or -inf)."""
        k, v = self.memory_kv(memory)
        bias = torch.zeros(k.size(0), self.h, 1, k.size(2), dtype=k.dtype, device=k.device)
        bias = bias.masked_fill(~memory_mask[:, None, None, :], float("-inf"))
        return k.transpose(-1, -2).contiguous(), v.contiguous(), bias

    def step(self, x: Tensor, kT: Tensor, v: Tensor, bias: Tensor) -> Tensor:
        """One query per row, ``x [N, D] -> [N, D]``: scale, mask and scores in one ``baddbmm``."""
        N, D = x.shape
        q = F.linear(x, self.q.weight, self.q.bias).view(N * self.h, 1, self.dk)
        scores = torch.baddbmm(bias.view(N * self.h, 1, -1), q, kT.view(N * self.h, self.dk, -1),
                               alpha=self.dk ** -0.5)
        y = torch.bmm(torch.softmax(scores, dim=-1), v.view(N * self.h, -1, self.dk))
        return F.linear(y.view(N, D), self.out.weight, self.out.bias)


class FeedForward(nn.Sequential):
    def __init__(self, d: int, ff: int, dropout: float):
        super().__init__(nn.Linear(d, ff), nn.ReLU(), Dropout(dropout), nn.Linear(ff, d))

    def step(self, x: Tensor) -> Tensor:
        """Inference: the same layers called directly (four module calls fewer per decoder layer and step)."""
        return F.linear(F.relu(F.linear(x, self[0].weight, self[0].bias)), self[3].weight, self[3].bias)


NORMS = ("pre", "post")


def residual(x: Tensor, norm: nn.LayerNorm, pre: bool, sublayer, drop: nn.Dropout) -> Tensor:
    """One residual sub-layer: pre-norm ``x + drop(F(LN(x)))`` or post-norm ``LN(x + drop(F(x)))``."""
    if pre:
        return x + drop(sublayer(norm(x)))
    return norm(x + drop(sublayer(x)))


class EncoderLayer(nn.Module):
    def __init__(self, d: int, heads: int, ff: int, dropout: float, attn_dropout: float, pre: bool = True):
        super().__init__()
        self.pre = pre
        self.norm1, self.attn = nn.LayerNorm(d), SelfAttention(d, heads, attn_dropout)
        self.norm2, self.ff = nn.LayerNorm(d), FeedForward(d, ff, dropout)
        self.drop = Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        x = residual(x, self.norm1, self.pre, lambda h: self.attn(h, key_mask=mask), self.drop)
        return residual(x, self.norm2, self.pre, self.ff, self.drop)


class DecoderLayer(nn.Module):
    def __init__(self, d: int, heads: int, ff: int, dropout: float, attn_dropout: float, pre: bool = True):
        super().__init__()
        self.pre = pre
        self.norm1, self.self_attn = nn.LayerNorm(d), SelfAttention(d, heads, attn_dropout)
        self.norm2, self.cross_attn = nn.LayerNorm(d), CrossAttention(d, heads, attn_dropout)
        self.norm3, self.ff = nn.LayerNorm(d), FeedForward(d, ff, dropout)
        self.drop = Dropout(dropout)

    def forward(self, x: Tensor, kv: tuple[Tensor, Tensor], memory_mask: Tensor,
                cache: dict | None = None, weights: list[Tensor] | None = None) -> Tensor:
        # the self-attention cache holds keys/values of this layer's input (pre-norm: LN(x), post-norm: x),
        # so incremental decoding is exact in both layouts
        x = residual(x, self.norm1, self.pre, lambda h: self.self_attn(h, causal=True, cache=cache), self.drop)
        x = residual(x, self.norm2, self.pre, lambda h: self.cross_attn(h, kv, memory_mask, weights), self.drop)
        return residual(x, self.norm3, self.pre, self.ff, self.drop)

    def step(self, x: Tensor, memory: tuple[Tensor, Tensor, Tensor], cache: dict) -> Tensor:
        """Incremental decoding, ``x [N, D] -> [N, D]``: :meth:`forward`'s arithmetic for one new position
        in inference (no dropout), in fewer and larger ops; decoding at batch 1 is bound by their count."""
        kT, v, bias = memory
        if self.pre:
            x = x + self.self_attn.step(self.norm1(x), cache)
            x = x + self.cross_attn.step(self.norm2(x), kT, v, bias)
            return x + self.ff.step(self.norm3(x))
        x = self.norm1(x + self.self_attn.step(x, cache))
        x = self.norm2(x + self.cross_attn.step(x, kT, v, bias))
        return self.norm3(x + self.ff.step(x))


@dataclass
class TransformerState:
    """Decoder state for incremental decoding: per-layer self-attention caches, per-layer encoder memory
    (:meth:`CrossAttention.step_memory`: keys transposed, values, mask bias) and the step counter."""

    caches: list[dict]
    memory: list[tuple[Tensor, Tensor, Tensor]]
    step: int = 0


class TransformerSeq2Seq(Seq2Seq):
    def __init__(self, src_input: nn.Module, tgt_input: nn.Module, vocab_size: int, d_model: int = 128,
                 ff_size: int = 256, heads: int = 4, encoder_layers: int = 4, decoder_layers: int = 4,
                 dropout: float = 0.1, attention_dropout: float = 0.0, tie_embeddings: bool = True,
                 norm: str = "pre"):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self.src_input, self.tgt_input = src_input, tgt_input
        self.d_model, self.norm = d_model, norm
        pre = norm == "pre"
        self.pos = PositionalEncoding(d_model)
        self.drop = Dropout(dropout)
        self.encoder = nn.ModuleList(
            EncoderLayer(d_model, heads, ff_size, dropout, attention_dropout, pre) for _ in range(encoder_layers))
        self.decoder = nn.ModuleList(
            DecoderLayer(d_model, heads, ff_size, dropout, attention_dropout, pre) for _ in range(decoder_layers))
        # post-norm layers end in a LayerNorm already: no final one (an Identity holds no weights)
        self.enc_norm = nn.LayerNorm(d_model) if pre else nn.Identity()
        self.dec_norm = nn.LayerNorm(d_model) if pre else nn.Identity()
        self.output = OutputLayer(d_model, vocab_size, tgt_input.output_table if tie_embeddings else None)

    # ------------------------------------------------------------------ encoder
    def encode(self, src: Tensor, src_mask: Tensor) -> EncoderOutput:
        x, mask = self.src_input(src, src_mask)
        if self.src_input.uses_positions:
            x = self.pos(x)
        x = self.drop(x)
        for layer in self.encoder:
            x = layer(x, mask)
        return EncoderOutput(memory=self.enc_norm(x), memory_mask=mask)

    # ------------------------------------------------------------------ decoder
    def _embed_target(self, tokens: Tensor, offset: int) -> Tensor:
        x, _ = self.tgt_input(tokens, None)
        return self.drop(self.pos(x, offset))

    def forward(self, src: Tensor, src_mask: Tensor, tgt_in: Tensor, keep: Tensor | None = None) -> Tensor:
        enc = self.encode(src, src_mask)
        x = self._embed_target(tgt_in, 0)
        for layer in self.decoder:
            x = layer(x, layer.cross_attn.memory_kv(enc.memory), enc.memory_mask)
        return self.output(self.dec_norm(x) if keep is None else self.dec_norm(x[keep]))

    def cross_attention(self, src: Tensor, src_mask: Tensor, tgt_in: Tensor) -> Tensor:
        """Cross-attention probabilities of a teacher-forced pass, averaged over heads: ``[L, B, T, S]``
        (one row per decoder layer; ``S`` is the encoder memory's length, which an input layer may change).
        Row ``t`` is what the decoder attended to while predicting the token after ``tgt_in[:, t]``."""
        enc = self.encode(src, src_mask)
        x, weights = self._embed_target(tgt_in, 0), []
        for layer in self.decoder:
            x = layer(x, layer.cross_attn.memory_kv(enc.memory), enc.memory_mask, weights=weights)
        return torch.stack(weights)

    def init_decoder_state(self, enc: EncoderOutput) -> TransformerState:
        return TransformerState(
            caches=[{} for _ in self.decoder],
            memory=[layer.cross_attn.step_memory(enc.memory, enc.memory_mask) for layer in self.decoder],
        )

    def decode_step(self, prev_tokens: Tensor, state: TransformerState) -> tuple[Tensor, TransformerState]:
        """Logits ``[N, V]`` of the next token after ``prev_tokens [N]``, in inference arithmetic (no dropout;
        equal to the full forward pass of the prefix, tests/test_models.py)."""
        x = self._embed_target(prev_tokens[:, None], state.step)[:, 0]
        for layer, cache, memory in zip(self.decoder, state.caches, state.memory):
            x = layer.step(x, memory, cache)
        state.step += 1
        return self.output(self.dec_norm(x)), state

    def decode_prefix(self, prefix: Tensor, enc: EncoderOutput) -> Tensor:
        """Logits of the last position after feeding a whole prefix without a cache (the slow reference)."""
        x = self._embed_target(prefix, 0)
        for layer in self.decoder:
            x = layer(x, layer.cross_attn.memory_kv(enc.memory), enc.memory_mask)
        return self.output(self.dec_norm(x))[:, -1]

    def reorder_state(self, state: TransformerState, index: Tensor, memory: bool = True) -> TransformerState:
        state.caches = [{k: v.index_select(0, index) for k, v in c.items()} for c in state.caches]
        if memory:  # beam search skips this when rows only move among the beams of one sentence
            state.memory = [tuple(t.index_select(0, index) for t in m) for m in state.memory]
        return state
