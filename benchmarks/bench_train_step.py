"""Training-step speed of the Multi30k Transformer-tiny, and the same against another checkout (A/B).

    python benchmarks/bench_train_step.py [--threads 1] [--steps 12]
    python benchmarks/bench_train_step.py --ab OLD_TREE --repeats 3      # alternate OLD and this tree
    python benchmarks/bench_train_step.py --compile                      # torch.compile (inductor) the model

One measurement: the first 5,000 Multi30k training pairs, the config's SentencePiece vocabulary and
4,096-token batches; ``--steps`` updates (forward, backward, clipping, AdamW) after two warm-up updates; this
machine's fp32 matrix-multiply peak measured in the same process (2048x2048, same thread count).

FLOPs counted are the work a step must do, the same number for every code version: 6 per weight per token
for the encoder and decoder matrices over the padded batch shapes, the attention products, and the output
layer over the **real** target tokens only (projecting padding is waste, not work; until issue 16 the
benchmark counted it, which flattered a code that computed it).

``--ab TREE`` runs the measurement in child processes, alternating TREE (e.g. a ``git worktree`` of the
previous commit) and this checkout, ``--repeats`` times each, and prints the medians and ratio. Both load the
same data; each child imports ``vectorseq`` from its own tree.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _ab import alternate  # noqa: E402


def useful_flops(model, batch, d: int, layers_enc: int, layers_dec: int, n_real_tgt: int) -> float:
    B, S = batch.src.shape
    T = batch.tgt_in.size(1)
    V = model.output.tied.weight.size(0) if model.output.tied is not None else model.output.proj.weight.size(0)
    enc_w = sum(p.numel() for n, p in model.named_parameters() if n.startswith("encoder") and p.dim() == 2)
    dec_w = sum(p.numel() for n, p in model.named_parameters() if n.startswith("decoder") and p.dim() == 2)
    dense = 6 * (enc_w * B * S + dec_w * B * T + V * d * n_real_tgt)
    attn = 6 * 2 * d * B * (layers_enc * S * S + layers_dec * (T * T + T * S))
    return float(dense + attn)


def shape_ceiling(rows: int, real_rows: int, d: int = 128, ff: int = 256, vocab: int = 8000, reps: int = 5) -> float:
    """GFLOP/s of this model's own matrix products alone (forward and both backward products of every weight
    shape, each as many times as one step runs it): the most a step could reach if nothing but its matmuls
    took time. Shapes: q/k/v, attention output, cross-attention q and k/v, the two feed-forward layers, and the
    output layer over the real target rows (rows: the padded source positions of the measured batches)."""
    import torch

    shapes = [(rows, d, 3 * d, 8), (rows, d, d, 16), (rows, d, 2 * d, 4), (rows, d, ff, 8), (rows, ff, d, 8),
              (real_rows, d, vocab, 1)]  # (rows, in, out, times per step), encoder + decoder layers
    flops = secs = 0.0
    for n, k, m, times in shapes:
        x, w, g = torch.randn(n, k), torch.randn(k, m), torch.randn(n, m)
        for _ in range(2):
            x @ w, g @ w.t(), x.t() @ g
        t0 = time.perf_counter()
        for _ in range(reps):
            x @ w, g @ w.t(), x.t() @ g  # forward, input gradient, weight gradient
        secs += (time.perf_counter() - t0) / reps * times
        flops += 6.0 * n * k * m * times
    return flops / secs


def measure(threads: int, steps: int, data_dir: str | None, compile_model: bool = False) -> dict:
    import numpy as np
    import torch

    from profile_step import matmul_peak
    from vectorseq.config import load_config
    from vectorseq.data.batching import collate, make_batches
    from vectorseq.data.multi30k import load_multi30k, multi30k_default_dir
    from vectorseq.models import build_model
    from vectorseq.training import batch_loss, encode_corpus, make_vectorizer
    from vectorseq.vectorizer import PAD_ID

    torch.set_num_threads(threads)
    try:  # as training on the CPU does (training/run.py); an older tree trains without it, and is timed so
        from vectorseq.training.malloc import keep_freed_memory
        keep_freed_memory()
    except ImportError:
        pass
    cfg = load_config(str(HERE.parent / "configs" / "multi30k_transformer_tiny.yaml"))
    train = load_multi30k("train", data_dir=data_dir or multi30k_default_dir()).subset(5000, mode="first")
    vec = make_vectorizer(cfg.vectorizer.src, 0).adapt(list(train.src) + list(train.tgt))
    src, tgt = encode_corpus(vec, train.src), encode_corpus(vec, train.tgt)
    lens_s, lens_t = np.array([len(s) + 1 for s in src]), np.array([len(t) + 1 for t in tgt])
    batches = make_batches(lens_s, lens_t, cfg.training.batch_tokens, seed=0)
    torch.manual_seed(0)
    model = build_model(cfg, vec, vec).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    run = torch.compile(model) if compile_model else model  # default mode; shapes vary, so it recompiles once
    t_start = time.perf_counter()
    m = cfg.model
    flops = tokens = 0.0
    losses = []
    for i in range(steps + 2):
        if i == 2:
            t0 = time.perf_counter()
        b = collate(src, tgt, batches[i])
        loss, _ = batch_loss(run, b, 0.1, need_nll=False)
        (loss / b.n_tgt_tokens).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(round(loss.item() / b.n_tgt_tokens, 4))
        if i >= 2:
            n_real = int((b.tgt_out != PAD_ID).sum())
            flops += useful_flops(model, b, m.d_model, m.encoder_layers, m.decoder_layers, n_real)
            tokens += b.n_src_tokens + b.n_tgt_tokens
    dt = time.perf_counter() - t0
    peak = matmul_peak(threads)
    rows = int(np.mean([int(np.prod(collate(src, tgt, batches[i]).src.shape)) for i in range(2, steps + 2)]))
    real = int(np.mean([int((collate(src, tgt, batches[i]).tgt_out != PAD_ID).sum()) for i in range(2, steps + 2)]))
    ceiling = shape_ceiling(rows, real)
    return {"threads": threads, "steps": steps, "compile": compile_model,
            "warmup_s_2_steps": round(t0 - t_start, 1), "s_per_step": round(dt / steps, 4),
            "tokens_per_s": round(tokens / dt, 1), "gflops_per_s": round(flops / dt / 1e9, 2),
            "matmul_peak_gflops": round(peak / 1e9, 2), "fraction_of_peak": round(flops / dt / peak, 3),
            "model_shapes_matmul_gflops": round(ceiling / 1e9, 2),
            "model_shapes_fraction_of_peak": round(ceiling / peak, 3),
            "first_losses": losses[:3]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--data-dir")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (its compile time is the warm-up)")
    ap.add_argument("--ab", help="another checkout to alternate with this one")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    if not a.ab:
        print(json.dumps(measure(a.threads, a.steps, a.data_dir, a.compile)))
        return
    trees = {"old": Path(a.ab).resolve(), "new": HERE.parent}
    runs, load = alternate(trees, Path(__file__).resolve(), ["--threads", str(a.threads), "--steps", str(a.steps)] + (["--data-dir", a.data_dir] if a.data_dir else []), a.threads, a.repeats)
    med = {k: {f: statistics.median(r[f] for r in v) for f in ("s_per_step", "tokens_per_s", "fraction_of_peak",
                                                                   "gflops_per_s", "matmul_peak_gflops")}
           for k, v in runs.items()}
    print(json.dumps({"benchmark": "bench_train_step --ab", "threads": a.threads, "steps": a.steps,
                      "repeats": a.repeats, "old_tree": str(trees["old"]), "loadavg_before_each": load,
                      "median": med, "speedup": round(med["old"]["s_per_step"] / med["new"]["s_per_step"], 3),
                      "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
