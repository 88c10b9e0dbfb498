"""JoeyNMT side of ``benchmarks/bench_joeynmt.py``: runs INSIDE JoeyNMT's own virtual environment.

It calls JoeyNMT 2.3.0's own functions (``joeynmt.training.train`` and ``joeynmt.prediction.predict``, the
code paths of ``python -m joeynmt train|test``) and only adds measurement hooks; no JoeyNMT code is changed.

    python joey_driver.py train  CONFIG --stats OUT.json [--threads 2] [--profile]
    python joey_driver.py train  CONFIG --stats OUT.json --budget-minutes 25   (a wall-clock budget)
    python joey_driver.py decode CONFIG --ckpt CKPT --src PREFIX --batch-size 32 --beam 5 --hyps OUT.txt \
                                 --stats OUT.json [--threads 2] [--profile]
    python joey_driver.py tokens CONFIG --stats OUT.json     (how JoeyNMT tokenizes the training set)
    python joey_driver.py convert CONFIG --weights W.pt --vocab VOCAB.txt --out CKPT --stats OUT.json
                                 (a vectorseq Transformer's weights as a JoeyNMT checkpoint)

train: the timed window starts when the training loop asks its DataLoader for the first batch (the hook is a
subclass of the DataLoader's class with a timed ``__iter__``) and ends when ``TrainManager._validate`` is
called after update N (the config sets ``validation_freq = logging_freq = updates = N``), so it covers exactly
N updates -- JoeyNMT's on-the-fly tokenization and batching, forward, backward, clipping, the optimizer and
scheduler steps, and its step-N log line -- and excludes validation, checkpointing and start-up. A hook on
``TrainManager._train_step`` records every batch: sentences, padded shapes, and real tokens (source
``src_length`` = pieces + EOS; target ``ntokens`` = pieces + EOS, what JoeyNMT itself counts). tokens/s =
(source + target real tokens) / window, the same definition as vectorseq's ``tokens_per_s``.

train --budget-minutes M: the clock starts at the same point; once M minutes have passed, the update in
progress is the last (the hook sets JoeyNMT's own ``is_max_update`` flag, so its loop ends as at
``updates`` and saves the current weights). Validations inside the budget count against it, as vectorseq's
``max_minutes`` counts its own; each one's step and elapsed seconds are recorded.
decode: ``predict()`` with ``eval_metrics: []`` on a source-only file (so no scoring inside the timed call):
DataLoader tokenization, batching, search and detokenization (``post_process``) are all timed.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _top_ops(prof, k: int = 8) -> list:
    rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:k]
    return [(e.key, round(e.self_cpu_time_total / 1e3, 1)) for e in rows]


def cmd_train(a: argparse.Namespace) -> dict:
    import torch

    import joeynmt.datasets as jd
    import joeynmt.training as jt
    from joeynmt.config import load_config
    from joeynmt.helpers import make_model_dir
    from joeynmt.helpers_for_ddp import get_logger

    torch.set_num_threads(a.threads)
    cfg = load_config(Path(a.config))
    model_dir = Path(cfg["model_dir"])
    make_model_dir(model_dir, overwrite=True)
    shutil.copy2(a.config, model_dir / "config.yaml")
    get_logger("", log_file=(model_dir / "train.log").as_posix())

    rec = {"t_start": None, "t_first_step": None, "t_end": None, "updates": None, "batches": []}
    trainer_box = {}

    orig_make_iter = jd.BaseDataset.make_iter

    def make_iter(self, *args, **kw):
        it = orig_make_iter(self, *args, **kw)
        if self.split == "train":
            base = type(it)

            class TimedLoader(base):  # type: ignore[misc, valid-type]
                def __iter__(s):
                    if rec["t_start"] is None:
                        rec["t_start"] = time.perf_counter()
                    return base.__iter__(s)

            it.__class__ = TimedLoader
        return it

    jd.BaseDataset.make_iter = make_iter

    orig_step = jt.TrainManager._train_step

    def train_step(self, batch):
        if a.budget_minutes is not None and rec["t_start"] is not None \
                and time.perf_counter() - rec["t_start"] >= 60 * a.budget_minutes:
            self.stats.is_max_update = True  # JoeyNMT ends its loop after this update, as at max_updates
        if rec["t_end"] is None:
            if rec["t_first_step"] is None:
                rec["t_first_step"] = time.perf_counter()
            trainer_box["t"] = self
            rec["batches"].append([int(batch.nseqs), int(batch.src.size(1)), int(batch.trg_input.size(1)),
                                   int(batch.src_length.sum()), int(batch.ntokens)])
        return orig_step(self, batch)

    jt.TrainManager._train_step = train_step

    orig_validate = jt.TrainManager._validate

    def validate(self, valid_data):
        if a.budget_minutes is not None:  # budget mode: every validation's step, time and cost; the end comes later
            t0 = time.perf_counter()
            out = orig_validate(self, valid_data)
            rec.setdefault("validations", []).append(
                {"step": int(self.stats.steps), "elapsed_s": round(t0 - rec["t_start"], 1),
                 "validation_s": round(time.perf_counter() - t0, 1)})
            return out
        if rec["t_end"] is None:
            rec["t_end"] = time.perf_counter()
            rec["updates"] = int(self.stats.steps)
        return orig_validate(self, valid_data)

    jt.TrainManager._validate = validate

    rss_before = _rss_mb()
    jt.train(rank=0, world_size=None, cfg=cfg, skip_test=True)
    if a.budget_minutes is not None:
        rec["t_end"], rec["updates"] = time.perf_counter(), int(trainer_box["t"].stats.steps)
    b = rec["batches"]
    window = rec["t_end"] - rec["t_start"]
    src_tok = sum(x[3] for x in b)
    tgt_tok = sum(x[4] for x in b)
    out = {
        "updates": rec["updates"], "batches": len(b), "window_s": round(window, 3),
        "first_batch_fetch_s": round(rec["t_first_step"] - rec["t_start"], 4),
        "src_tokens": src_tok, "tgt_tokens": tgt_tok, "sentences": sum(x[0] for x in b),
        "padded_tokens": sum(x[0] * max(x[1], x[2]) for x in b),
        "tokens_per_s": round((src_tok + tgt_tok) / window, 1),
        "tgt_tokens_per_s": round(tgt_tok / window, 1),
        "batch_shapes": [x[:3] for x in b], "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in trainer_box["t"].model.parameters()),
        "rss_before_train_mb": round(rss_before, 1),
    }
    if a.profile:  # one more update on a fresh batch, outside the timed window
        from torch.profiler import ProfilerActivity, profile

        t = trainer_box["t"]
        batch = next(iter(t.train_iter))
        t.model.train()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            t._train_step(batch)
            if t.clip_grad_fun is not None:
                t.clip_grad_fun(parameters=t.model.parameters())
            t.optimizer.step()
            t.model.zero_grad()
        out["train_top_ms"] = _top_ops(prof)
    if a.budget_minutes is not None:
        out["validations"] = rec.get("validations", [])
    out["peak_rss_mb_self"] = round(_rss_mb(), 1)
    return out


def _prepare_test(a: argparse.Namespace):
    import torch

    from joeynmt.config import load_config, parse_global_args
    from joeynmt.helpers_for_ddp import get_logger
    from joeynmt.prediction import prepare

    torch.set_num_threads(a.threads)
    cfg = load_config(Path(a.config))
    cfg["data"]["test"] = a.src
    cfg["data"].pop("dev", None)
    cfg["data"].pop("train", None)
    cfg["testing"].update({"load_model": a.ckpt, "batch_size": a.batch_size, "batch_type": "sentence",
                           "beam_size": a.beam, "eval_metrics": []})
    get_logger("", log_file=None)
    args = parse_global_args(cfg, rank=0, mode="test")
    model, _, _, test_data = prepare(args, rank=0, mode="test")
    return args, model, test_data


def cmd_decode(a: argparse.Namespace) -> dict:
    import torch

    from joeynmt.prediction import predict

    args, model, data = _prepare_test(a)
    assert not data.has_trg, "decode expects a source-only file prefix"

    def run():
        return predict(model=model, data=data, device=args.device, n_gpu=args.n_gpu, compute_loss=False,
                       num_workers=0, args=args.test, autocast=args.autocast)

    with torch.no_grad():
        t0 = time.perf_counter()
        res = run()
        dt = time.perf_counter() - t0
    hyps = res[2]
    Path(a.hyps).write_text("\n".join(hyps) + "\n", encoding="utf-8")
    out = {"sentences": len(hyps), "seconds": round(dt, 3), "sentences_per_s": round(len(hyps) / dt, 2),
           "batch_size": a.batch_size, "beam": a.beam, "threads": torch.get_num_threads()}
    if a.profile:
        from torch.profiler import ProfilerActivity, profile

        with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
            run()
        out["decode_top_ms"] = _top_ops(prof)
    out["peak_rss_mb_self"] = round(_rss_mb(), 1)
    return out


def cmd_tokens(a: argparse.Namespace) -> dict:
    """Tokenize the training set exactly as JoeyNMT does (tokenizer + vocabulary from the config)."""
    from collections import Counter

    from joeynmt.config import _check_special_symbols, load_config
    from joeynmt.data import load_data
    from types import SimpleNamespace

    cfg = load_config(Path(a.config))
    cfg["data"]["special_symbols"] = SimpleNamespace(**_check_special_symbols(cfg["data"].get("special_symbols", {})))
    src_vocab, trg_vocab, train, _, _ = load_data(cfg["data"], datasets=["train"])
    counts, unk = Counter(), 0
    lengths = {}
    for lang, vocab in ((train.src_lang, src_vocab), (train.trg_lang, trg_vocab)):
        toks = train.get_list(lang=lang, tokenized=True, subsampled=False)
        lengths[lang] = [len(t) for t in toks]
        counts[lang] = sum(len(t) for t in toks)
        unk += sum(vocab.is_unk(p) for t in toks for p in t)
    Path(a.lengths).write_text(json.dumps(lengths)) if a.lengths else None
    return {"vocab_size": len(src_vocab), "same_vocab_src_trg": src_vocab == trg_vocab, "pieces": dict(counts),
            "unk_pieces": int(unk), "sentences": len(train)}


def cmd_convert(a: argparse.Namespace) -> dict:
    """Load a vectorseq Transformer's weights (a ``torch.save``d name -> tensor dict) into JoeyNMT's Transformer.

    The architectures are the same (pre-norm, sinusoidal positions, sqrt(d)-scaled tied embeddings, ReLU feed-
    forward, final layer norms); vectorseq fuses q/k/v (rows q, k, v) and cross-attention k/v, JoeyNMT keeps
    separate layers; JoeyNMT's vocabulary puts <unk>, <pad> at 0, 1 where vectorseq has <pad>, <unk>, so the
    embedding rows are permuted by token. Only difference left: LayerNorm eps 1e-6 (JoeyNMT) vs 1e-5.
    """
    import math

    import torch

    from joeynmt.config import load_config, parse_global_args
    from joeynmt.model import build_model
    from joeynmt.vocabulary import build_vocab

    cfg = load_config(Path(a.config))
    args = parse_global_args(cfg, rank=0, mode="test")
    src_vocab, trg_vocab = build_vocab(args.data)
    assert src_vocab == trg_vocab
    model = build_model(args.model, src_vocab=src_vocab, trg_vocab=trg_vocab)
    w = torch.load(a.weights, weights_only=True)  # a plain dict of tensors: nothing else is unpickled
    vs_vocab = Path(a.vocab).read_text(encoding="utf-8").split("\n")[:-1]
    index = {t: i for i, t in enumerate(vs_vocab)}
    perm = torch.tensor([index[t] for t in trg_vocab._itos])  # pylint: disable=protected-access
    d = w["output.tied.weight"].size(1)
    assert abs(float(w["src_input.scale"]) - math.sqrt(d)) < 1e-4, "vectorseq embedding scale is not sqrt(d)"
    emb = w["output.tied.weight"][perm]
    new = {"src_embed.lut.weight": emb, "trg_embed.lut.weight": emb, "decoder.output_layer.weight": emb}

    def lin(dst: str, weight, bias):
        new[f"{dst}.weight"], new[f"{dst}.bias"] = weight, bias

    def norm(dst: str, src: str):
        lin(dst, w[f"{src}.weight"], w[f"{src}.bias"])

    def split(src: str, names: list, dst: str):
        ws, bs = w[f"{src}.weight"].chunk(len(names)), w[f"{src}.bias"].chunk(len(names))
        for n, ww, bb in zip(names, ws, bs):
            lin(f"{dst}.{n}_layer", ww, bb)

    n_enc = len({k.split(".")[1] for k in w if k.startswith("encoder.")})
    n_dec = len({k.split(".")[1] for k in w if k.startswith("decoder.")})
    for i in range(n_enc):
        s, t = f"encoder.{i}", f"encoder.layers.{i}"
        norm(f"{t}.layer_norm", f"{s}.norm1")
        split(f"{s}.attn.qkv", ["q", "k", "v"], f"{t}.src_src_att")
        norm(f"{t}.src_src_att.output_layer", f"{s}.attn.out")
        norm(f"{t}.feed_forward.layer_norm", f"{s}.norm2")
        norm(f"{t}.feed_forward.pwff_layer.0", f"{s}.ff.0")
        norm(f"{t}.feed_forward.pwff_layer.3", f"{s}.ff.3")
    for i in range(n_dec):
        s, t = f"decoder.{i}", f"decoder.layers.{i}"
        norm(f"{t}.x_layer_norm", f"{s}.norm1")
        split(f"{s}.self_attn.qkv", ["q", "k", "v"], f"{t}.trg_trg_att")
        norm(f"{t}.trg_trg_att.output_layer", f"{s}.self_attn.out")
        norm(f"{t}.dec_layer_norm", f"{s}.norm2")
        norm(f"{t}.src_trg_att.q_layer", f"{s}.cross_attn.q")
        split(f"{s}.cross_attn.kv", ["k", "v"], f"{t}.src_trg_att")
        norm(f"{t}.src_trg_att.output_layer", f"{s}.cross_attn.out")
        norm(f"{t}.feed_forward.layer_norm", f"{s}.norm3")
        norm(f"{t}.feed_forward.pwff_layer.0", f"{s}.ff.0")
        norm(f"{t}.feed_forward.pwff_layer.3", f"{s}.ff.3")
    norm("encoder.layer_norm", "enc_norm")
    norm("decoder.layer_norm", "dec_norm")
    params = dict(model.named_parameters(remove_duplicate=False))
    missing = sorted(set(params) - set(new))
    unknown = sorted(set(new) - set(model.state_dict()))
    assert not missing and not unknown, (missing, unknown)
    for k, v in new.items():
        assert model.state_dict()[k].shape == v.shape, (k, model.state_dict()[k].shape, v.shape)
    model.load_state_dict({**model.state_dict(), **new}, strict=True)
    torch.save({"model_state": model.state_dict()}, a.out)
    return {"converted_tensors": len(new), "parameters": sum(p.numel() for p in model.parameters()),
            "encoder_layers": n_enc, "decoder_layers": n_dec}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["train", "decode", "tokens", "convert"])
    ap.add_argument("config")
    ap.add_argument("--stats", required=True)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "2")))
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--budget-minutes", type=float, help="train: stop after this many minutes of wall time")
    ap.add_argument("--ckpt")
    ap.add_argument("--src")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--hyps")
    ap.add_argument("--lengths")
    ap.add_argument("--weights", help="convert: torch.save'd vectorseq state dict")
    ap.add_argument("--vocab", help="convert: vectorseq's vocabulary, one piece per line, in id order")
    ap.add_argument("--out", help="convert: the JoeyNMT checkpoint to write")
    a = ap.parse_args()
    out = {"train": cmd_train, "decode": cmd_decode, "tokens": cmd_tokens, "convert": cmd_convert}[a.mode](a)
    Path(a.stats).write_text(json.dumps(out))
    print(json.dumps({k: v for k, v in out.items() if k != "batch_shapes"}), file=sys.stderr)


if __name__ == "__main__":
    main()
