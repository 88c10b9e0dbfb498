"""Greedy and batched beam search over any :class:`~vectorseq.models.base.Seq2Seq`.

Both searches decode a whole batch at once, one token per step, through the model's incremental
``decode_step`` (the Transformer keeps a key/value cache). Sentences that are finished are removed from the
batch so later steps only compute the live ones. Hypotheses end with EOS or are cut at
``max_length_ratio * source_length + max_length_extra`` tokens (EOS is then forced), the same rule in both
searches, which is why beam size 1 gives exactly the greedy output.

Beam search keeps ``beam_size`` live hypotheses per sentence: each step takes the best ``2 * beam_size``
continuations, moves those ending in EOS (if ranked within the top ``beam_size``) to the finished list with
a GNMT length-normalised score ``score / ((5 + length) / 6) ** length_penalty``, and keeps the best
``beam_size`` others. A sentence is done when it has ``beam_size`` finished hypotheses.

:func:`translate_ids` is the batch driver: it sorts sentences by length (little padding), decodes in
batches and returns the results in input order.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .vectorizer import BOS_ID, EOS_ID, PAD_ID


@dataclass
class Hypothesis:
    tokens: list[int]  # without BOS, ending with EOS
    score: float  # sum of log-probabilities
    normalized: float  # score used to rank (length penalty applied)


def _max_lengths(src_mask: Tensor, ratio: float, extra: int) -> Tensor:
    return (src_mask.sum(1).float() * ratio).long() + extra


def _length_norm(length: int, alpha: float) -> float:
    return ((5.0 + length) / 6.0) ** alpha if alpha else 1.0


@torch.inference_mode()
def greedy_search(model, src: Tensor, src_mask: Tensor, max_length_ratio: float = 1.5,
                  max_length_extra: int = 10, start: Tensor | None = None,
                  output_bias: Tensor | None = None) -> list[Hypothesis]:
    """Pick the most probable token at every step. Returns one hypothesis per sentence. ``start``: each
    sentence's first decoder input (default BOS; a language tag when the tag is the decoder's first token).
    ``output_bias``: ``[V]``, added to every step's logits (``-inf`` keeps a per-language model's output in its
    target language: :func:`vectorseq.language_vectorizer.output_bias`)."""
    B = src.size(0)
    max_len = _max_lengths(src_mask, max_length_ratio, max_length_extra)
    state = model.init_decoder_state(model.encode(src, src_mask))
    alive = torch.arange(B, device=src.device)  # original row of each live sentence
    prev = torch.full((B,), BOS_ID, dtype=torch.long, device=src.device) if start is None else start
    tokens: list[list[int]] = [[] for _ in range(B)]
    scores = torch.zeros(B, device=src.device)
    out: list[Hypothesis | None] = [None] * B
    t = 0
    while alive.numel():
        logits, state = model.decode_step(prev, state)
        if output_bias is not None:
            logits = logits + output_bias
        logp = torch.log_softmax(logits.float(), -1)
        force = (t + 1) >= max_len[alive]
        if force.any():
            logp[force] = torch.where(
                torch.arange(logp.size(1), device=logp.device) == EOS_ID, 0.0, float("-inf")
            ).expand_as(logp[force])
        best, tok = logp.max(-1)
        scores_alive = scores[alive] + best
        scores[alive] = scores_alive
        tok_list = tok.tolist()
        done = tok == EOS_ID
        for row, tk in zip(alive.tolist(), tok_list):
            tokens[row].append(tk)
        if done.any():
            for row in alive[done].tolist():
                s = float(scores[row])
                out[row] = Hypothesis(tokens[row], s, s)
            keep = (~done).nonzero().squeeze(1)
            alive, tok = alive[keep], tok[keep]
            if alive.numel():
                state = model.reorder_state(state, keep)
        prev = tok
        t += 1
    return out  # type: ignore[return-value]


@torch.inference_mode()
def beam_search(model, src: Tensor, src_mask: Tensor, beam_size: int = 5, length_penalty: float = 1.0,
                max_length_ratio: float = 1.5, max_length_extra: int = 10, n_best: int = 1,
                start: Tensor | None = None, output_bias: Tensor | None = None) -> list[list[Hypothesis]]:
    """Batched beam search. Returns, per sentence, the ``n_best`` hypotheses, best first (``start`` and
    ``output_bias``: as in :func:`greedy_search`).

    The model's step and ``topk`` over ``K * V`` continuations run as tensors; what follows works on the
    ``2K`` best per sentence, so it is done in Python lists (a few dozen numbers per sentence): as tensor
    ops it was ~50 tiny kernels per step, a fifth of a batch-1 step (benchmarks/RESULTS.md)."""
    B, K, dev = src.size(0), beam_size, src.device
    max_len = _max_lengths(src_mask, max_length_ratio, max_length_extra).tolist()
    state = model.init_decoder_state(model.encode(src, src_mask))
    state = model.reorder_state(state, torch.arange(B, device=dev).repeat_interleave(K))
    beam = _Beams(list(range(B)), [[] for _ in range(B * K)], K, length_penalty)
    scores = torch.full((B, K), float("-inf"), device=dev)
    scores[:, 0] = 0.0  # only the first beam is live at the start
    prev = torch.full((B * K,), BOS_ID, dtype=torch.long, device=dev) if start is None else start.repeat_interleave(K)
    t = 0
    while beam.alive:
        n = len(beam.alive)
        logits, state = model.decode_step(prev, state)
        if output_bias is not None:
            logits = logits + output_bias
        logp = torch.log_softmax(logits.float(), -1)  # [n*K, V]
        V = logp.size(1)
        forced = [t + 1 >= max_len[sid] for sid in beam.alive]
        if any(forced):  # the length limit: only EOS may follow
            at_limit = torch.tensor([i * K + k for i, f in enumerate(forced) if f for k in range(K)], device=dev)
            eos_only = torch.full((V,), float("-inf"), device=dev)
            eos_only[EOS_ID] = 0.0
            logp[at_limit] = eos_only
        cand = (scores.view(n, K, 1) + logp.view(n, K, V)).view(n, K * V)
        top_scores, top_idx = cand.topk(2 * K, dim=1)  # [n, 2K]
        rows, tokens, new_scores, any_done = beam.advance(top_scores.tolist(), top_idx.tolist(), V, forced)
        if not beam.alive:
            break
        rows_t = torch.tensor(rows, device=dev)
        scores = torch.tensor(new_scores, dtype=torch.float32, device=dev).view(-1, K)
        prev = torch.tensor(tokens, dtype=torch.long, device=dev)
        state = model.reorder_state(state, rows_t, memory=any_done)
        t += 1
    results = []
    for hyps in beam.finished:
        hyps.sort(key=lambda h: h.normalized, reverse=True)
        results.append(hyps[:n_best])
    return results


class _Beams:
    """The bookkeeping of :func:`beam_search`: live sentences, each live row's tokens, finished hypotheses."""

    def __init__(self, alive: list[int], history: list[list[int]], K: int, length_penalty: float):
        self.alive, self.history, self.K, self.alpha = alive, history, K, length_penalty
        self.finished: list[list[Hypothesis]] = [[] for _ in alive]

    def advance(self, top_scores: list[list[float]], top_idx: list[list[int]], V: int, forced: list[bool]):
        """Take one step's ``2K`` best continuations per live sentence (best first). A finite EOS ranked
        within the top ``K`` ends a hypothesis (as in fairseq); the first ``K`` others continue. A sentence is
        done with ``K`` finished hypotheses, at its length limit, or when no live continuation is left.
        Returns the state rows to continue from, their tokens and scores, and whether a sentence ended."""
        K, inf = self.K, float("-inf")
        rows, tokens, scores, alive, history, any_done = [], [], [], [], [], False
        for i, sid in enumerate(self.alive):
            fin, picked = self.finished[sid], []
            for j, (s, idx) in enumerate(zip(top_scores[i], top_idx[i])):
                origin, token = divmod(idx, V)
                if token == EOS_ID and s != inf:
                    if j < K and len(fin) < K:
                        toks = self.history[i * K + origin] + [EOS_ID]
                        fin.append(Hypothesis(toks, s, s / _length_norm(len(toks), self.alpha)))
                elif len(picked) < K:  # at most K of the 2K are EOS: K others always exist
                    picked.append((s, i * K + origin, token))
            if len(fin) >= K or forced[i] or all(s == inf for s, _, _ in picked):
                any_done = True
                continue
            alive.append(sid)
            for s, row, token in picked:
                rows.append(row)
                tokens.append(token)
                scores.append(s)
                history.append(self.history[row] + [token])
        self.alive, self.history = alive, history
        return rows, tokens, scores, any_done


def _batches_by_length(lengths: list[int], batch_size: int) -> list[list[int]]:
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i: i + batch_size] for i in range(0, len(order), batch_size)]


@torch.inference_mode()
def translate_ids(model, src_ids: list[list[int]], *, beam_size: int = 5, length_penalty: float = 1.0,
                  max_length_ratio: float = 1.5, max_length_extra: int = 10, n_best: int = 1,
                  batch_size: int = 64, device: str | torch.device = "cpu",
                  start_ids: list[int] | None = None, output_bias: Tensor | None = None) -> list[list[Hypothesis]]:
    """Decode many sentences (lists of source ids, EOS included) in length-sorted batches, in input order.
    ``start_ids``: each sentence's first decoder input (None: BOS for all); ``output_bias``: see
    :func:`greedy_search`."""
    model.eval()
    if output_bias is not None:
        output_bias = output_bias.to(device)
    results: list[list[Hypothesis]] = [[] for _ in src_ids]
    for idx in _batches_by_length([len(s) for s in src_ids], batch_size):
        T = max(len(src_ids[i]) for i in idx)
        src = torch.full((len(idx), T), PAD_ID, dtype=torch.long)
        for r, i in enumerate(idx):
            src[r, : len(src_ids[i])] = torch.tensor(src_ids[i], dtype=torch.long)
        src = src.to(device)
        mask = src != PAD_ID
        start = None if start_ids is None else torch.tensor([start_ids[i] for i in idx], device=device)
        if beam_size <= 1:
            hyps = [[h] for h in greedy_search(model, src, mask, max_length_ratio, max_length_extra, start,
                                               output_bias)]
        else:
            hyps = beam_search(model, src, mask, beam_size, length_penalty, max_length_ratio, max_length_extra, n_best,
                               start, output_bias)
        for r, i in enumerate(idx):
            results[i] = hyps[r]
    return results
