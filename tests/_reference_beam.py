"""The beam search as it was before issue 16: every step's bookkeeping as tensor ops over ``[n, 2K]``.

tests/test_decoding_speed_paths.py checks that :func:`vectorseq.decoding.beam_search` (the same search with the
bookkeeping in Python lists, and the Transformer's lean ``step`` path) returns exactly what this returned.
"""
from __future__ import annotations

import torch
from torch import Tensor

from vectorseq.decoding import Hypothesis, _length_norm, _max_lengths
from vectorseq.vectorizer import BOS_ID, EOS_ID, PAD_ID


@torch.inference_mode()
def reference_beam_search(model, src: Tensor, src_mask: Tensor, beam_size: int = 5, length_penalty: float = 1.0,
                max_length_ratio: float = 1.5, max_length_extra: int = 10, n_best: int = 1,
                start: Tensor | None = None) -> list[list[Hypothesis]]:
    """Batched beam search. Returns, per sentence, the ``n_best`` hypotheses, best first (``start``: as in
    :func:`greedy_search`)."""
    B, K, dev = src.size(0), beam_size, src.device
    max_len = _max_lengths(src_mask, max_length_ratio, max_length_extra)
    enc = model.encode(src, src_mask)
    state = model.init_decoder_state(enc)
    state = model.reorder_state(state, torch.arange(B, device=dev).repeat_interleave(K))
    alive = torch.arange(B, device=dev)  # original sentence id of each live sentence
    scores = torch.full((B, K), float("-inf"), device=dev)
    scores[:, 0] = 0.0  # only the first beam is live at the start
    history = torch.full((B * K, 0), PAD_ID, dtype=torch.long, device=dev)
    prev = torch.full((B * K,), BOS_ID, dtype=torch.long, device=dev) if start is None else start.repeat_interleave(K)
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    t = 0
    while alive.numel():
        n = alive.numel()
        logits, state = model.decode_step(prev, state)
        logp = torch.log_softmax(logits.float(), -1)  # [n*K, V]
        V = logp.size(1)
        force = ((t + 1) >= max_len[alive]).repeat_interleave(K)
        if force.any():
            eos_only = torch.full((V,), float("-inf"), device=dev)
            eos_only[EOS_ID] = 0.0
            logp[force] = eos_only
        cand = (scores.view(n, K, 1) + logp.view(n, K, V)).view(n, K * V)
        top_scores, top_idx = cand.topk(2 * K, dim=1)  # [n, 2K]
        origin = torch.div(top_idx, V, rounding_mode="floor")
        token = top_idx % V
        is_eos = (token == EOS_ID) & torch.isfinite(top_scores)

        # hypotheses that end here (only when ranked within the top K, as in fairseq)
        eos_top = is_eos[:, :K]
        if eos_top.any():
            for i, j in eos_top.nonzero().tolist():
                sid = int(alive[i])
                if len(finished[sid]) >= K:
                    continue
                row = i * K + int(origin[i, j])
                toks = history[row].tolist() + [EOS_ID]
                s = float(top_scores[i, j])
                finished[sid].append(Hypothesis(toks, s, s / _length_norm(len(toks), length_penalty)))

        # the best K continuations that are not EOS
        rank = torch.arange(2 * K, device=dev).expand(n, -1) + is_eos.long() * (2 * K)
        pick = rank.argsort(dim=1)[:, :K]
        new_scores = top_scores.gather(1, pick)
        new_origin = origin.gather(1, pick)
        new_token = token.gather(1, pick)
        new_scores = new_scores.masked_fill(is_eos.gather(1, pick), float("-inf"))

        n_done = torch.tensor([len(finished[int(s)]) for s in alive.tolist()], device=dev)
        # done: K finished hypotheses, or the length limit was reached (EOS was forced this step)
        done = (n_done >= K) | force.view(n, K)[:, 0] | ~torch.isfinite(new_scores).any(1)
        keep = (~done).nonzero().squeeze(1)
        rows = (keep[:, None] * K + new_origin[keep]).reshape(-1)  # rows of the old state to continue
        history = torch.cat([history.index_select(0, rows), new_token[keep].reshape(-1, 1)], dim=1)
        scores = new_scores[keep]
        prev = new_token[keep].reshape(-1)
        alive = alive[keep]
        if alive.numel():
            state = model.reorder_state(state, rows, memory=bool(done.any()))
        t += 1
    results = []
    for hyps in finished:
        hyps.sort(key=lambda h: h.normalized, reverse=True)
        results.append(hyps[:n_best])
    return results


class LayerPathDecoder:
    """A Transformer whose incremental decoding runs through its layers' ``forward`` with a cache, the path
    before the layers had ``step`` methods: the reference for the lean path's outputs."""

    def __init__(self, model):
        self.m = model

    def encode(self, src: Tensor, src_mask: Tensor):
        return self.m.encode(src, src_mask)

    def init_decoder_state(self, enc) -> dict:
        return {"caches": [{} for _ in self.m.decoder], "step": 0, "mask": enc.memory_mask,
                "kv": [layer.cross_attn.memory_kv(enc.memory) for layer in self.m.decoder]}

    def decode_step(self, prev: Tensor, st: dict):
        x = self.m._embed_target(prev[:, None], st["step"])
        for layer, cache, kv in zip(self.m.decoder, st["caches"], st["kv"]):
            x = layer(x, kv, st["mask"], cache=cache)
        st["step"] += 1
        return self.m.output(self.m.dec_norm(x))[:, 0], st

    def reorder_state(self, st: dict, index: Tensor, memory: bool = True) -> dict:
        st["caches"] = [{k: v.index_select(0, index) for k, v in c.items()} for c in st["caches"]]
        if memory:
            st["kv"] = [(k.index_select(0, index), v.index_select(0, index)) for k, v in st["kv"]]
            st["mask"] = st["mask"].index_select(0, index)
        return st
