"""Training: from a config to a model folder.

:func:`train` does, in order:

1. read the splits (``vectorseq.data``), adapt the vectorizers on the training text and save them;
2. encode the training text once into id arrays, build the model through the embedding factory, fill
   pretrained tables and write their coverage report;
3. loop over token-budget batches bucketed by length: teacher forcing, label-smoothed cross-entropy
   (padding ignored), AdamW with warmup + inverse-sqrt (or plateau, or constant) learning rate, gradient
   clipping, dropout;
4. every ``valid_every`` updates: validation loss, perplexity and greedy BLEU/chrF, one JSON line in
   ``train_log.jsonl``, the best weights to ``model.safetensors``, everything resume needs to
   ``checkpoints/last`` (weights, optimizer, counters, RNG states); early stopping on the chosen metric;
5. stop by steps, epochs, minutes or patience, then draw ``training_curve.png``, score the test split with
   the configured search and write ``metrics.json``.

A run interrupted at any point resumes from ``checkpoints/last`` with the same batches, the same RNG
states and therefore the same losses as an uninterrupted run (tested).

Distributed training (torchrun/DDP) uses the same loop: every rank takes a disjoint slice of each epoch's
batches and DDP averages the gradients; only rank 0 validates and writes files.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .checkpoint import load_training_state, save_training_state
from .config import Config, load_config
from .data.batching import Batch, collate, make_batches
from .data.streaming import StreamingDataset, lockstep, sample_pairs
from .decoding import translate_ids
from .embeddings.factory import prepare_pretrained
from .errors import VectorseqError
from .evaluation import score
from .models import build_model
from .modelfolder import (CONFIG_FILE, COVERAGE_FILE, CURVE_FILE, LAST_CHECKPOINT, LOG_FILE, METRICS_FILE, WEIGHTS_FILE,
                          load_vectorizers, load_weights, save_vectorizers, save_weights)
from .translator import Translator, resolve_device
from .vectorizer import EOS_ID, PAD_ID, TextVectorizer



@dataclass
class TrainResult:
    model_dir: Path
    steps: int
    epochs: int
    elapsed_s: float
    best: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ helpers
@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def broadcast(self, obj: Any) -> Any:
        if self.world == 1:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def all_sum(self, values: list[float]) -> list[float]:
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64)
        torch.distributed.all_reduce(t)
        return t.tolist()


def setup_distributed(device: torch.device, timeout_s: float = 600.0) -> Dist:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        torch.distributed.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    return Dist(torch.distributed.get_rank(), torch.distributed.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))


def make_vectorizer(side: Any, seed: int) -> TextVectorizer:
    return TextVectorizer(standardize=side.standardize, split=side.split, max_tokens=side.max_tokens,
                          min_freq=side.min_freq, sentencepiece_model_type=side.sentencepiece_model_type,
                          seed=seed)


def encode_corpus(vec: TextVectorizer, texts: list[str]) -> list[np.ndarray]:
    return [np.asarray(ids, dtype=np.int64) for ids in vec.encode_many(texts)]


def learning_rate_factor(step: int, cfg: Any) -> float:
    """Warmup then 1/sqrt decay (inverse_sqrt), or warmup then constant; step counts from 1."""
    w = max(1, cfg.warmup_steps)
    if cfg.schedule == "inverse_sqrt":
        return min(step / w, math.sqrt(w / max(step, 1)))
    if cfg.schedule == "constant":
        return min(1.0, step / w)
    return 1.0  # plateau: the factor lives in the training state


def param_groups(model: torch.nn.Module, cfg: Config) -> list[dict[str, Any]]:
    """AdamW groups: embedding tables (own lr multiplier, no decay), matrices (decay), biases/norms (no decay)."""
    seen: set[int] = set()
    groups: list[dict[str, Any]] = []
    sides = [("src", model.src_input, cfg.embeddings.src), ("tgt", model.tgt_input, cfg.embeddings.tgt)]
    for name, layer, side in sides:
        for g in layer.parameter_groups():
            if id(g["params"][0]) not in seen:
                seen.update(id(p) for p in g["params"])
                groups.append({**g, "name": f"embeddings.{name}"})
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.dim() >= 2 else no_decay).append(p)
    groups.append({"params": decay, "weight_decay": cfg.training.weight_decay, "lr_mult": 1.0, "name": "decay"})
    groups.append({"params": no_decay, "weight_decay": 0.0, "lr_mult": 1.0, "name": "no_decay"})
    return [g for g in groups if g["params"]]


def batch_loss(model: torch.nn.Module, batch: Batch, label_smoothing: float,
               need_nll: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Summed label-smoothed loss and (if ``need_nll``) summed NLL over the real target tokens of a batch.

    Training passes ``need_nll=False``: the second cross-entropy over every logit costs ~6% of a step.
    """
    logits = model(batch.src, batch.src_mask, batch.tgt_in)
    flat, gold = logits.reshape(-1, logits.size(-1)).float(), batch.tgt_out.reshape(-1)
    loss = F.cross_entropy(flat, gold, ignore_index=PAD_ID, label_smoothing=label_smoothing, reduction="sum")
    if label_smoothing == 0.0:
        return loss, loss.detach()
    if not need_nll:
        return loss, None
    with torch.no_grad():
        nll = F.cross_entropy(flat, gold, ignore_index=PAD_ID, reduction="sum")
    return loss, nll


@torch.no_grad()
def validate(model: torch.nn.Module, src_ids: list[np.ndarray], tgt_ids: list[np.ndarray], refs: list[str],
             tgt_vec: TextVectorizer, cfg: Config, device: torch.device) -> dict[str, Any]:
    """Validation loss/perplexity (teacher forcing) and greedy BLEU/chrF on raw references."""
    model.eval()
    nll, ntok = 0.0, 0
    for idx in make_batches(np.array([len(s) + 1 for s in src_ids]), np.array([len(t) + 1 for t in tgt_ids]),
                            cfg.training.batch_tokens, shuffle=False):
        b = collate(src_ids, tgt_ids, idx).to(device)
        _, n = batch_loss(model, b, 0.0)
        nll += float(n)
        ntok += b.n_tgt_tokens
    limit = cfg.training.valid_max_sentences or len(src_ids)
    hyps = translate_ids(model, [list(s) + [EOS_ID] for s in src_ids[:limit]], beam_size=1,
                         max_length_ratio=cfg.decoding.max_length_ratio,
                         max_length_extra=cfg.decoding.max_length_extra, batch_size=128, device=device)
    texts = [tgt_vec.decode(h[0].tokens) for h in hyps]
    s = score(texts, refs[:limit])
    model.train()
    loss = nll / max(ntok, 1)
    return {"valid_loss": round(loss, 4), "valid_ppl": round(math.exp(min(loss, 50)), 2),
            "valid_bleu": s["bleu"], "valid_bleu_lc": s["bleu_lc"], "valid_chrf": s["chrf"],
            "samples": list(zip(refs[:3], texts[:3]))}


def plot_curve(history: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not history:
        return
    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [h["train_loss"] for h in history], label="train loss (label-smoothed)")
    ax.plot(steps, [h["valid_loss"] for h in history], label="valid loss")
    ax.set_xlabel("update")
    ax.set_ylabel("loss per token")
    ax2 = ax.twinx()
    ax2.plot(steps, [h["valid_bleu"] for h in history], color="tab:green", marker="o", label="valid BLEU")
    ax2.set_ylabel("BLEU")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, [ln.get_label() for ln in lines], loc="center right")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------------------------- train
def train(config: Config | str | Path, output_dir: str | Path, *, overrides: list[str] | dict | None = None,
          splits: dict[str, Any] | None = None, progress: bool = True, evaluate_test: bool = True,
          log: Any = print) -> TrainResult:
    """Train the model a config describes into ``output_dir`` and return a summary.

    ``splits`` lets callers (tests, comparisons) pass already-loaded data instead of ``cfg.data``.
    """
    cfg = config if isinstance(config, Config) else load_config(config, overrides)
    tc = cfg.training
    out = Path(output_dir)
    device = resolve_device(tc.device)
    dist = setup_distributed(device, tc.dist_timeout_s)
    if dist.world > 1 and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
        torch.cuda.set_device(device)
    if tc.threads:
        torch.set_num_threads(tc.threads)
    say = log if dist.main else (lambda *a, **k: None)

    random.seed(tc.seed)
    np.random.seed(tc.seed)
    torch.manual_seed(tc.seed)

    last_dir = out / LAST_CHECKPOINT
    resuming = tc.resume and (last_dir / "state.json").is_file()
    if dist.main:
        out.mkdir(parents=True, exist_ok=True)
        if not resuming and (out / LOG_FILE).exists():
            (out / LOG_FILE).unlink()  # a fresh run starts a fresh log
    # ---------------------------------------------------------------- data and vectorizers
    splits = splits if splits is not None else _load_splits(cfg)
    train_data, valid_data = splits["train"], splits["valid"]
    streaming = cfg.data.streaming
    if streaming:
        # The training files are read window by window every epoch (vectorseq.data.streaming). A reservoir
        # sample of their pairs stands in for the training set where all of it was needed in memory: adapting
        # the vectorizers, the token counts of the coverage report and the IDF of count-based inputs. Its pass
        # also validates every line, so a bad or misaligned file fails now rather than mid-epoch.
        stream_files = _stream_files(cfg)
        stream_filters = {"max_length": cfg.data.max_length, "on_error": cfg.data.on_error}
        train_data = None if resuming else sample_pairs(**stream_files, n=cfg.data.adapt_sample, seed=tc.seed,
                                                        **stream_filters)
    if train_data is not None and len(train_data) == 0:
        raise VectorseqError("the training data is empty after filtering; check data.max_length and the files")
    shared = cfg.vectorizer.shared
    if resuming:
        src_vec, tgt_vec = load_vectorizers(out, shared)
        saved = load_config(out / CONFIG_FILE)
        cfg.embeddings.src.dim, cfg.embeddings.tgt.dim = saved.embeddings.src.dim, saved.embeddings.tgt.dim
        say(f"resuming from {last_dir}")
    else:
        if dist.main:
            t0 = time.time()
            if shared:
                src_vec = tgt_vec = make_vectorizer(cfg.vectorizer.src, tc.seed).adapt(
                    itertools.chain(train_data.src, train_data.tgt))
            else:
                src_vec = make_vectorizer(cfg.vectorizer.src, tc.seed).adapt(train_data.src)
                tgt_vec = make_vectorizer(cfg.vectorizer.tgt, tc.seed).adapt(train_data.tgt)
            save_vectorizers(out, src_vec, tgt_vec, shared)
            cfg.save(out / CONFIG_FILE)
            say(f"vectorizers adapted in {time.time() - t0:.1f}s: source {src_vec.vocabulary_size()} tokens, "
                f"target {tgt_vec.vocabulary_size()} tokens{' (shared)' if shared else ''}")
        dist.barrier()
        if not dist.main:
            src_vec, tgt_vec = load_vectorizers(out, shared)
    train_src, train_tgt = (([], []) if train_data is None else  # streaming and resuming: no sample needed
                            (encode_corpus(src_vec, train_data.src), encode_corpus(tgt_vec, train_data.tgt)))
    valid_src, valid_tgt = encode_corpus(src_vec, valid_data.src), encode_corpus(tgt_vec, valid_data.tgt)
    src_lens = np.array([len(s) + 1 for s in train_src])
    tgt_lens = np.array([len(t) + 1 for t in train_tgt])

    # ---------------------------------------------------------------- model and embeddings
    built = {}
    if not resuming:  # pretrained matrices first: their width is part of the model's shape
        built = {"src": prepare_pretrained(cfg.embeddings.src, src_vec)}
        if not cfg.model.share_embeddings:
            built["tgt"] = prepare_pretrained(cfg.embeddings.tgt, tgt_vec)
        for name, b in built.items():
            if b is not None:
                cfg.embeddings.__dict__[name].dim = int(b.dim)
        if dist.main:
            cfg.save(out / CONFIG_FILE)  # now with the vectors' width, so loading never needs the file
    torch.manual_seed(tc.seed)
    model = build_model(cfg, src_vec, tgt_vec)
    coverage: dict[str, Any] = {}
    if not resuming:
        sides = [("src", model.src_input, cfg.embeddings.src, src_vec, train_src)]
        if model.tgt_input is not model.src_input:
            sides.append(("tgt", model.tgt_input, cfg.embeddings.tgt, tgt_vec, train_tgt))
        for name, layer, side_cfg, vec, ids in sides:
            rep = layer.fit(ids, vec, built.get(name))
            if rep is not None:
                rep["source"] = str(side_cfg.vectors)
                coverage[name] = rep
        if coverage and dist.main:
            (out / COVERAGE_FILE).write_text(json.dumps(coverage, indent=1))
            for name, rep in coverage.items():
                say(f"embeddings.{name}: {cfg.embeddings.__dict__[name].vectors} covers "
                    f"{100 * rep.get('type_coverage', 0):.1f}% of types, {100 * rep.get('token_coverage', 0):.1f}% "
                    "of tokens")
    else:
        for layer in (model.src_input, model.tgt_input):
            layer.restore()
    stream = None
    if streaming:
        n_train = f"streaming {train_data.source if train_data is not None else 'the training files'}:"
        train_data = train_src = train_tgt = None  # the sample has served its purpose: free it
        stream = StreamingDataset(**stream_files, src_vectorizer=src_vec, tgt_vectorizer=tgt_vec,
                                  batch_tokens=tc.batch_tokens, seed=tc.seed, rank=dist.rank, world=dist.world,
                                  window=cfg.data.window, **stream_filters)
    else:
        n_train = f"{len(train_data):,}"
    model.to(device)
    groups = param_groups(model, cfg)
    optimizer = torch.optim.AdamW(groups, lr=tc.lr, betas=tuple(tc.betas), eps=1e-9)

    # batches_in_epoch counts batches consumed by all ranks together, so a run can resume with another
    # number of processes (or another `accumulate`) at the same place in the epoch
    state = {"step": 0, "epoch": 0, "batches_in_epoch": 0, "best": None, "bad_validations": 0,
             "plateau_factor": 1.0, "elapsed_s": 0.0, "unfrozen": []}
    if resuming:
        state.update(load_training_state(last_dir, model, optimizer, device))
    history = _read_history(out / LOG_FILE) if resuming else []

    ddp_model: torch.nn.Module = model
    if dist.world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    use_amp = tc.amp and device.type == "cuda" and torch.cuda.is_bf16_supported()

    n_params = model.num_parameters()
    say(f"model: {cfg.model.type}, {n_params:,} parameters ({model.num_parameters(True):,} trainable); "
        f"{n_train} training pairs; device {device}; world size {dist.world}")

    # ---------------------------------------------------------------- loop
    import sys

    pbar = tqdm(total=tc.max_steps, initial=state["step"], disable=not (progress and dist.main),
                dynamic_ncols=True, desc="train", mininterval=0.5 if sys.stderr.isatty() else 30.0)
    t_start = time.time() - state["elapsed_s"]
    tok_window, time_window = 0, time.time()  # for the progress bar
    win_tokens, win_t0 = 0, time.time()  # source+target tokens since the last validation, for tokens/s
    loss_sum, tok_sum = 0.0, 0
    stop_reason = None
    model.train()
    while stop_reason is None:
        epoch = state["epoch"]
        if tc.max_epochs is not None and epoch >= tc.max_epochs:
            stop_reason = f"max_epochs={tc.max_epochs}"
            break
        acc = tc.accumulate
        per_update = dist.world * acc
        first = -(-state["batches_in_epoch"] // per_update)
        too_little = VectorseqError(f"too little training data for {dist.world} process(es) x accumulate {acc} at "
                                    f"batch_tokens={tc.batch_tokens}; lower batch_tokens or the number of processes")
        if stream is not None:
            # Each rank streams its own shard of the lines; ranks can get different numbers of batches, so
            # before each update they agree (all-reduce) whether any has run out, and all stop together.
            stream.set_epoch(epoch)
            loader = torch.utils.data.DataLoader(
                stream, batch_size=None, num_workers=cfg.data.num_workers, pin_memory=device.type == "cuda",
                generator=torch.Generator().manual_seed(tc.seed + epoch))  # not the global RNG (dropout, resume)
            updates = lockstep(loader, acc, lambda flag: _any_rank(dist, flag))
            # resuming mid-epoch: replay this epoch's (deterministic) stream and skip the updates done; exact
            # with the same number of processes and `accumulate` (the shards depend on the world size)
            updates = itertools.islice(updates, first, None)
        else:
            batches = make_batches(src_lens, tgt_lens, tc.batch_tokens, seed=tc.seed, epoch=epoch)
            # Rank r takes batches r, r + world, ...; one update consumes `accumulate` of them per rank, so
            # world=2, accumulate=1 sees the same batches per update as world=1, accumulate=2.
            steps_in_epoch = len(batches) // per_update
            if steps_in_epoch == 0:
                raise too_little
            mine = batches[dist.rank::dist.world]
            updates = (mine[si * acc: (si + 1) * acc] for si in range(first, steps_in_epoch))
        for si, group in enumerate(updates, start=first):
            step = state["step"] + 1
            for name in ("src", "tgt"):
                change = getattr(model, f"{name}_input").on_step(step)
                if change:
                    say(f"step {step}: embeddings.{name} {change}")
            factor = learning_rate_factor(step, tc) * state["plateau_factor"]
            for g in optimizer.param_groups:
                g["lr"] = tc.lr * factor * g["lr_mult"]
            n_tgt = 0
            for j, item in enumerate(group):
                batch = item if stream is not None else collate(train_src, train_tgt, item)
                if device.type == "cuda":
                    batch = batch.pin_memory()
                batch = batch.to(device, non_blocking=True)
                sync = j == acc - 1 or dist.world == 1
                with (contextlib.nullcontext() if sync else ddp_model.no_sync()), \
                        torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
                    loss, _ = batch_loss(ddp_model, batch, tc.label_smoothing, need_nll=False)
                    # per-token loss of this batch, averaged over accumulated batches (DDP averages ranks)
                    (loss / (batch.n_tgt_tokens * acc)).backward()
                loss_sum = loss_sum + loss.detach()  # stays on the device: no host sync per step
                n_tgt += batch.n_tgt_tokens
                tok_window += batch.n_src_tokens + batch.n_tgt_tokens
                win_tokens += batch.n_src_tokens + batch.n_tgt_tokens
            if tc.clip_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), tc.clip_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            state["step"] = step
            state["batches_in_epoch"] = (si + 1) * per_update
            tok_sum += n_tgt
            pbar.update(1)
            if step % tc.log_every == 0:
                now = time.time()
                pbar.set_postfix(loss=f"{float(loss_sum) / max(tok_sum, 1):.3f}", lr=f"{tc.lr * factor:.2e}",
                                 tok_s=f"{tok_window * dist.world / max(now - time_window, 1e-9):.0f}", refresh=False)
                tok_window, time_window = 0, now
            elapsed = time.time() - t_start
            if tc.max_steps is not None and step >= tc.max_steps:
                stop_reason = f"max_steps={tc.max_steps}"
            elif tc.max_minutes is not None and _any_rank(dist, elapsed >= 60 * tc.max_minutes):
                stop_reason = f"max_minutes={tc.max_minutes}"  # decided together: ranks' clocks differ
            if stop_reason is not None or step % tc.valid_every == 0:
                tokens_per_s = dist.all_sum([float(win_tokens)])[0] / max(time.time() - win_t0, 1e-9)
                stop_reason = _validate_and_save(
                    dist, model, optimizer, cfg, out, state, history, valid_src, valid_tgt, valid_data.tgt,
                    tgt_vec, device, float(loss_sum), tok_sum, elapsed, tokens_per_s, stop_reason, say)
                loss_sum, tok_sum = 0.0, 0
                win_tokens, win_t0 = 0, time.time()
            if stop_reason is not None:
                break
        else:
            if stream is not None and state["batches_in_epoch"] == 0:
                raise too_little  # the stream gave no complete update this epoch
            state["epoch"] += 1
            state["batches_in_epoch"] = 0
    pbar.close()
    elapsed = time.time() - t_start
    dist.barrier()

    # ---------------------------------------------------------------- finish: curve, test scores, metrics
    metrics: dict[str, Any] = {"steps": state["step"], "epochs": state["epoch"], "stop_reason": stop_reason,
                               "train_minutes": round(elapsed / 60, 2), "parameters": n_params,
                               "best": state["best"], "world_size": dist.world}
    if history:
        tps = [h["tokens_per_s"] for h in history if h.get("tokens_per_s")]
        metrics["tokens_per_s"] = round(float(np.median(tps)), 1) if tps else None
    if coverage:
        metrics["coverage"] = {k: {m: v.get(m) for m in ("type_coverage", "token_coverage")}
                               for k, v in coverage.items()}
    if dist.main:
        plot_curve(history, out / CURVE_FILE, cfg.name)
        test = splits.get("test")
        if evaluate_test and test is not None and len(test):
            load_weights(model, out / WEIGHTS_FILE, device)
            tr = Translator(model, src_vec, tgt_vec, cfg, device)
            t0 = time.time()
            hyps = tr.translate(test.src)
            dt = time.time() - t0
            metrics["test"] = {**score(hyps, test.tgt), "beam_size": cfg.decoding.beam_size,
                               "sentences_per_s": round(len(hyps) / dt, 1)}
            metrics["test_samples"] = [{"src": s, "ref": r, "hyp": h}
                                       for s, r, h in list(zip(test.src, test.tgt, hyps))[:5]]
        (out / METRICS_FILE).write_text(json.dumps(metrics, indent=1, ensure_ascii=False))
    dist.barrier()
    return TrainResult(out, state["step"], state["epoch"], elapsed, state["best"] or {}, metrics, history)


def _validate_and_save(dist: Dist, model, optimizer, cfg: Config, out: Path, state: dict, history: list,
                       valid_src, valid_tgt, valid_refs, tgt_vec, device, loss_sum: float, tok_sum: int,
                       elapsed: float, tokens_per_s: float, stop_reason: str | None, say) -> str | None:
    tc = cfg.training
    loss_sum, tok_sum = dist.all_sum([loss_sum, float(tok_sum)])
    window = time.time()
    record = None
    if dist.main:
        v = validate(model, valid_src, valid_tgt, valid_refs, tgt_vec, cfg, device)
        samples = v.pop("samples")
        record = {"step": state["step"], "epoch": state["epoch"],
                  "train_loss": round(loss_sum / max(tok_sum, 1), 4), **v,
                  "lr": optimizer.param_groups[-1]["lr"], "elapsed_s": round(elapsed, 1),
                  "tokens_per_s": round(tokens_per_s, 1)}  # training only, validation time excluded
        history.append(record)
        better = _is_better(record, state["best"], tc.early_stopping_metric)
        if better:
            state["best"] = {k: record[k] for k in ("step", "valid_loss", "valid_bleu", "valid_chrf")}
            state["bad_validations"] = 0
            save_weights(model, out / WEIGHTS_FILE)
        else:
            state["bad_validations"] += 1
            if tc.schedule == "plateau" and state["bad_validations"] % max(1, tc.plateau_patience) == 0:
                state["plateau_factor"] *= 0.5
        if stop_reason is None and tc.patience is not None and state["bad_validations"] >= tc.patience:
            stop_reason = f"patience={tc.patience}"
        say(f"\nstep {state['step']}: train {record['train_loss']:.3f} | valid loss {v['valid_loss']:.3f} "
            f"ppl {v['valid_ppl']:.1f} BLEU {v['valid_bleu']:.1f} chrF {v['valid_chrf']:.1f}"
            f"{' *' if better else ''} | e.g. {samples[0][1]!r}")
    state["elapsed_s"] = elapsed
    stop_reason = dist.broadcast(stop_reason)
    state.update(dist.broadcast({k: state[k] for k in ("best", "bad_validations", "plateau_factor")}))
    if dist.main:
        save_training_state(out / LAST_CHECKPOINT, model, optimizer, state)
        record["validation_s"] = round(time.time() - window, 1)
        with open(out / LOG_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return stop_reason


def _any_rank(dist: Dist, flag: bool) -> bool:
    if dist.world == 1:
        return flag
    return dist.all_sum([float(flag)])[0] > 0


def _is_better(record: dict, best: dict | None, metric: str) -> bool:
    if best is None:
        return True
    if metric == "bleu":
        return record["valid_bleu"] > best["valid_bleu"] or (
            record["valid_bleu"] == best["valid_bleu"] and record["valid_loss"] < best["valid_loss"])
    return record["valid_loss"] < best["valid_loss"]


def _read_history(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _load_splits(cfg: Config) -> dict[str, Any]:
    from .data.splits import _read_files, load_splits

    d = cfg.data
    if d.streaming:  # the training files are streamed, never loaded: read only valid and test
        return {"train": None, "valid": _read_files(d.valid, d, "valid", True),
                "test": _read_files(d.test, d, "test", False)}
    return load_splits(d, seed=cfg.training.seed)


def _stream_files(cfg: Config) -> dict[str, Any]:
    files = cfg.data.train
    return {"tsv": files.tsv} if files.tsv else {"src_path": files.src, "tgt_path": files.tgt}
