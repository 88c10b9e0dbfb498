"""Profile one training step and one beam-search decoding batch of the Multi30k Transformer-tiny config.

Prints one JSON line with the top operators by self CPU time for each, plus the achieved training FLOP/s
(counted analytically: 6 x parameters x tokens for the dense layers plus attention) next to this
machine's fp32 matrix-multiply peak measured in the same run.

    python benchmarks/profile_step.py [--threads 2] [--steps 5] [--data-dir ../shared/data/multi30k]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from vectorseq.config import load_config
from vectorseq.data.batching import collate, make_batches
from vectorseq.data.multi30k import load_multi30k, multi30k_default_dir
from vectorseq.decoding import beam_search
from vectorseq.models import build_model
from vectorseq.training import batch_loss, encode_corpus, make_vectorizer


def matmul_peak(threads: int, n: int = 2048, reps: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    return 2 * n ** 3 * reps / (time.perf_counter() - t0)


def train_flops(model, batch, d: int, layers_enc: int, layers_dec: int) -> float:
    """Forward+backward FLOPs of one batch: 6 per weight per token for matmuls, plus attention scores."""
    B, S = batch.src.shape
    T = batch.tgt_in.size(1)
    V = model.output.tied.weight.size(0) if model.output.tied is not None else model.output.proj.weight.size(0)
    enc_w = sum(p.numel() for n, p in model.named_parameters() if n.startswith("encoder") and p.dim() == 2)
    dec_w = sum(p.numel() for n, p in model.named_parameters() if n.startswith("decoder") and p.dim() == 2)
    dense = 6 * (enc_w * B * S + dec_w * B * T + V * d * B * T)
    attn = 6 * 2 * d * B * (layers_enc * S * S + layers_dec * (T * T + T * S))
    return float(dense + attn)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/multi30k_transformer_tiny.yaml")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--top", type=int, default=8, help="how many operators of the training step to list")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    data_dir = args.data_dir or multi30k_default_dir()
    train = load_multi30k("train", data_dir=data_dir).subset(5000, mode="first")
    vec = make_vectorizer(cfg.vectorizer.src, 0).adapt(list(train.src) + list(train.tgt))
    src, tgt = encode_corpus(vec, train.src), encode_corpus(vec, train.tgt)
    lens_s, lens_t = np.array([len(s) + 1 for s in src]), np.array([len(t) + 1 for t in tgt])
    batches = make_batches(lens_s, lens_t, cfg.training.batch_tokens, seed=0)
    torch.manual_seed(0)
    model = build_model(cfg, vec, vec)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()

    def step(i: int) -> float:
        b = collate(src, tgt, batches[i])
        loss, _ = batch_loss(model, b, 0.1)
        (loss / b.n_tgt_tokens).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return train_flops(model, b, cfg.model.d_model, cfg.model.encoder_layers, cfg.model.decoder_layers)

    step(0)
    t0 = time.perf_counter()
    flops = sum(step(i + 1) for i in range(args.steps))
    dt = time.perf_counter() - t0
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step(args.steps + 1)
    train_top = [(e.key, round(e.self_cpu_time_total / 1e3, 1)) for e in
                 sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:args.top]]

    model.eval()
    dec_idx = np.argsort(lens_s[:512])[::16][:32]
    b = collate(src, tgt, dec_idx)
    beam_search(model, b.src, b.src_mask, beam_size=5)
    t1 = time.perf_counter()
    beam_search(model, b.src, b.src_mask, beam_size=5)
    dec_dt = time.perf_counter() - t1
    with profile(activities=[ProfilerActivity.CPU]) as prof2:
        beam_search(model, b.src, b.src_mask, beam_size=5)
    dec_top = [(e.key, round(e.self_cpu_time_total / 1e3, 1)) for e in
               sorted(prof2.key_averages(), key=lambda e: -e.self_cpu_time_total)[:8]]
    peak = matmul_peak(args.threads)
    print(json.dumps({
        "threads": args.threads, "train_s_per_step": round(dt / args.steps, 3),
        "train_gflops": round(flops / dt / 1e9, 1), "matmul_peak_gflops": round(peak / 1e9, 1),
        "fraction_of_peak": round(flops / dt / peak, 3), "train_top_ms": train_top,
        "beam5_batch32_sentences_per_s": round(32 / dec_dt, 1), "decode_top_ms": dec_top,
    }))


if __name__ == "__main__":
    main()
