"""Peer benchmark: vectorseq vs JoeyNMT 2.3.0 on the same Multi30k config, data and vocabulary (CPU).

One command from a fresh clone (it builds everything it needs under ``--cache-dir``)::

    python3 benchmarks/bench_joeynmt.py --model transformer --updates 40 --repeats 2 --threads 2
    python3 benchmarks/bench_joeynmt.py --model rnn --updates 40 --repeats 2
    # + the decoding comparison that means something: one trained Transformer decoded by both systems
    python3 benchmarks/bench_joeynmt.py --model transformer --decode-model runs/m30k_tiny

On a machine shared with other busy processes use ``--threads 1``: with more runnable threads than cores,
PyTorch's OpenMP threads wait for each other and multi-threaded timings collapse (benchmarks/RESULTS.md).

What it does
------------
1. JoeyNMT's environment: a virtual environment ``<cache>/joeynmt-venv`` with ``joeynmt==2.3.0
   torch==2.13.0 sentencepiece==0.2.1 importlib_metadata`` (pip; reused when it imports). The two pins come from
   shared/notes/peers.md: sentencepiece >= 0.2.2 removed ``SetVocabulary``, which JoeyNMT calls.
2. Same data, same tokens: the Multi30k splits are read the way ``vectorseq train`` reads them (same
   ``max_length`` filter), and the shared SentencePiece vectorizer is adapted exactly as ``vectorseq train``
   does (same config section, same seed, same text). Its ``sentencepiece.model`` is JoeyNMT's ``model_file``
   and its piece list is JoeyNMT's ``voc_file`` for both languages (``level: bpe``, ``tokenizer_type:
   sentencepiece``), so both systems see identical pieces (checked: JoeyNMT's own tokenizer is run over the
   training set and its piece count and <unk> count are compared with vectorseq's; and each vectorseq run's
   saved vocabulary is compared with the prepared one). JoeyNMT's data files (plain text, one sentence per line,
   whitespace runs collapsed as vectorseq does before SentencePiece, so Unicode spaces do not become <unk> for
   JoeyNMT only) go to ``<cache>/data-<hash>``; nothing is written into the repository.
3. Same model and optimisation: the JoeyNMT config is generated from the vectorseq config
   (``configs/multi30k_transformer_tiny.yaml`` or ``configs/multi30k_rnn.yaml``): layers, sizes, heads,
   dropout, pre-norm, tying, label smoothing, AdamW betas, peak lr + linear warmup + inverse-sqrt decay
   (``warmupinversesquareroot`` = vectorseq's ``inverse_sqrt``), clip-norm, token batches of
   ``batch_tokens``, loss normalised by target tokens. Both count padding in the token budget
   (sentences x longest side), but vectorseq buckets by length and JoeyNMT does not, so a JoeyNMT batch holds
   far fewer real tokens: real tokens per batch are reported for both. Validation runs once, after update N
   (``valid_every``/``validation_freq`` = N, on a handful of dev sentences), outside the timed window.
4. Runs A B A B (vectorseq, JoeyNMT; ``--repeats``), each in a fresh child process with the same thread count
   (``torch.set_num_threads`` and ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``):
   * training, N updates. tokens/s = (source + target real tokens, EOS included) / training-loop seconds,
     validation excluded. vectorseq: ``tokens_per_s`` of its ``train_log.jsonl`` (that definition). JoeyNMT:
     computed by ``benchmarks/joeynmt/joey_driver.py`` from hooks on JoeyNMT's own loop: the real tokens of
     every batch it trained on / the wall time from the loop's first request for a batch to the end of update
     N (see the driver's docstring). JoeyNMT's log line "Tokens per Sec" counts target tokens only; it is
     reported too (``joey_log_tgt_tokens_per_s``) as a cross-check of ``tgt_tokens_per_s``.
   * peak memory: ``ru_maxrss`` of the child (``os.wait4``). vectorseq's training child also trains the
     SentencePiece model (its ``train`` always adapts the vectorizer), JoeyNMT's loads a ready one.
   * decoding test_2016_flickr (1,000 sentences) with beam 5 at batch 32, and the first ``--batch1-limit``
     (100) sentences at batch 1: vectorseq ``vectorseq evaluate DIR --src --ref --beam 5 --batch-size B``
     (its ``seconds``: encode + search + detokenize), JoeyNMT ``predict()`` on a source-only file (tokenize +
     search + detokenize). Sentences/s, and output tokens/s where output tokens = SentencePiece pieces of the
     detokenized hypothesis + 1 (EOS), counted the same way for both. Length penalty: GNMT alpha 1.0 for both.
     Maximum output length: vectorseq 1.5 x source + 10 per sentence; JoeyNMT 1.5 x the batch's longest
     source (its default). Mean output length is reported because an undertrained model's outputs (and so the
     decoding work) differ between the systems.
   * BLEU: sacreBLEU (13a, the default) on the detokenized batch-32 outputs vs the raw references.
   After N = 40 updates both systems emit empty or degenerate translations ("", ". . ."), so those decoding
   speeds measure one or ~40 search steps per sentence, not translation: ``--decode-model DIR`` (Transformer
   only) adds the meaningful comparison. DIR's weights are converted into a JoeyNMT checkpoint by the driver
   (``convert``: fused q/k/v split, <unk>/<pad> rows swapped; the architectures are otherwise identical, so
   the two produce the same translations -- the fraction of identical outputs is reported) and both systems
   decode the test set with them, A B A B, at batch 32 and batch 1.
5. Also in the same run: this machine's fp32 matmul peak (``profile_step.matmul_peak``) and the achieved
   training FLOP/s of each system = analytic FLOPs of the batches it actually trained on (padded shapes;
   ``profile_step.train_flops`` for the Transformer) / training window; and, unless ``--no-profile``, the
   top operators of one vectorseq training step and one beam-5 batch (``profile_step.py``) and of one JoeyNMT
   training step (torch.profiler in the driver, first repeat only); with ``--decode-model``, also both systems'
   top operators decoding the first 100 test sentences with the same weights at batch 32 and batch 1.

Output: JSON lines on stdout: one per system (medians over repeats, all values kept), one with the ratios
vectorseq / JoeyNMT and the targets, one with the machine/profile facts. ``--json-out`` also writes everything.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DRIVER = ROOT / "benchmarks" / "joeynmt" / "joey_driver.py"
CONFIGS = {"transformer": ROOT / "configs" / "multi30k_transformer_tiny.yaml", "rnn": ROOT / "configs" / "multi30k_rnn.yaml"}
JOEY_PACKAGES = ["joeynmt==2.3.0", "torch==2.13.0", "sentencepiece==0.2.1", "importlib_metadata"]
TARGETS = {"train_tokens_per_s": 1.5, "decode_b32_sentences_per_s": 3.0, "decode_b1_sentences_per_s": 2.0}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ environment
def ensure_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    check = [str(py), "-c", "import joeynmt, torch, sentencepiece as s, importlib_metadata; "
             "assert hasattr(s.SentencePieceProcessor, 'SetVocabulary'); print(joeynmt.__version__, torch.__version__)"]
    if py.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    log(f"creating JoeyNMT's virtual environment in {venv} (pip install {' '.join(JOEY_PACKAGES)})")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *JOEY_PACKAGES], check=True)
    subprocess.run(check, check=True)
    return py


def child_env(threads: int) -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), PYTHONUNBUFFERED="1",
               TOKENIZERS_PARALLELISM="false")
    env.pop("PYTHONPATH", None)
    return env


def run_child(cmd: list[str], env: dict, log_path: Path) -> tuple[int, float, float]:
    """Run a command; return (exit code, wall seconds, peak RSS in MB of that child)."""
    t0 = time.perf_counter()
    with open(log_path, "w") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT))
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(cmd)}\n--- {log_path} ---\n{tail}")
    return p.returncode, dt, ru.ru_maxrss / 1024.0


# ------------------------------------------------------------------------------------------ data
def data_dir_arg(a: argparse.Namespace) -> Path:
    from vectorseq.data.multi30k import multi30k_default_dir

    d = a.data_dir or os.environ.get("VECTORSEQ_MULTI30K") or multi30k_default_dir()
    if not d or not Path(d).is_dir():
        raise SystemExit("Multi30k not found: pass --data-dir or set VECTORSEQ_MULTI30K")
    return Path(d).resolve()


def vs_overrides(a: argparse.Namespace, data_dir: Path) -> list[str]:
    return [f"data.data_dir={data_dir}", f"training.max_steps={a.updates}", f"training.valid_every={a.updates}",
            "training.max_minutes=null", "training.max_epochs=null", f"training.threads={a.threads}",
            "training.valid_max_sentences=16", "training.resume=false", "training.device=cpu",
            "training.patience=null"]


def prepare(a: argparse.Namespace, cfg, data_dir: Path, work: Path) -> SimpleNamespace:
    """Splits as vectorseq reads them, the shared vectorizer as vectorseq adapts it, and JoeyNMT's files."""
    import numpy as np

    from vectorseq.data.splits import load_splits
    from vectorseq.training import encode_corpus, make_vectorizer
    from vectorseq.vectorizer import TextVectorizer

    vcfg = cfg.vectorizer.src
    key = json.dumps({"prep": 2, "data": str(data_dir), "max_length": cfg.data.max_length, "vec": vars(vcfg),
                      "seed": cfg.training.seed, "langs": [cfg.data.src_lang, cfg.data.tgt_lang],
                      "test": cfg.data.test_split, "test_limit": a.test_limit, "b1": a.batch1_limit},
                     sort_keys=True, default=str)
    tag = hashlib.sha256(key.encode()).hexdigest()[:10]
    d = work / f"data-{tag}"
    splits = load_splits(cfg.data, seed=cfg.training.seed)
    sl, tl = cfg.data.src_lang, cfg.data.tgt_lang
    if (d / "done.json").is_file():
        vec = TextVectorizer.load(d / "vectorizer")
        log(f"reusing prepared data and vocabulary in {d}")
    else:
        if vcfg.standardize not in (None, "none") or vcfg.split != "sentencepiece":
            raise SystemExit("this benchmark expects split: sentencepiece with standardize: none (raw-text BLEU)")
        if not cfg.vectorizer.shared:
            raise SystemExit("this benchmark expects a shared (joint) vocabulary, as in the Multi30k configs")
        log("adapting the shared SentencePiece vectorizer exactly as `vectorseq train` does")
        train = splits["train"]
        vec = make_vectorizer(vcfg, cfg.training.seed).adapt(itertools.chain(train.src, train.tgt))
        tmp = d.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        vec.save(tmp / "vectorizer")
        (tmp / "vocab.txt").write_text("\n".join(vec.get_vocabulary()) + "\n", encoding="utf-8")

        def write(name: str, lang: str, lines, raw: bool = False):
            # What vectorseq feeds SentencePiece (standardize: none): whitespace runs, including Unicode spaces
            # such as U+00A0, collapsed to one space. JoeyNMT gets that same text, so both see the same pieces
            # (raw text would give JoeyNMT a few dozen <unk> pieces that vectorseq never sees).
            lines = list(lines) if raw else [" ".join(s.split()) for s in lines]
            assert all(s.strip() and "\n" not in s for s in lines), f"empty or multi-line sentence in {name}"
            (tmp / f"{name}.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")

        write("train", sl, train.src), write("train", tl, train.tgt)
        write("dev", sl, splits["valid"].src), write("dev", tl, splits["valid"].tgt)
        test = splits["test"].subset(a.test_limit, mode="first") if a.test_limit else splits["test"]
        write("test_src", sl, test.src), write("test_ref", tl, test.tgt, raw=True)
        write("test100_src", sl, test.src[: a.batch1_limit]), write("test100_ref", tl, test.tgt[: a.batch1_limit], raw=True)
        (tmp / "done.json").write_text(key)
        shutil.rmtree(d, ignore_errors=True)
        tmp.rename(d)
    train = splits["train"]
    src_ids, tgt_ids = encode_corpus(vec, train.src), encode_corpus(vec, train.tgt)
    return SimpleNamespace(
        dir=d, vec=vec, spm=d / "vectorizer" / "sentencepiece.model", vocab=d / "vocab.txt",
        src_lens=np.array([len(s) + 1 for s in src_ids]), tgt_lens=np.array([len(t) + 1 for t in tgt_ids]),
        n_pieces={sl: int(sum(len(s) for s in src_ids)), tl: int(sum(len(t) for t in tgt_ids))},
        unk={"count": int(sum(int((s == 1).sum()) for s in src_ids) + sum(int((t == 1).sum()) for t in tgt_ids))},
        n_train=len(train), sl=sl, tl=tl,
        test_src=d / f"test_src.{sl}", test_ref=d / f"test_ref.{tl}",
        test100_src=d / f"test100_src.{sl}", test100_ref=d / f"test100_ref.{tl}")


# ------------------------------------------------------------------------------------------ JoeyNMT config
def joey_config(cfg, a: argparse.Namespace, data: SimpleNamespace, model_dir: Path) -> dict:
    """The JoeyNMT 2.3.0 config equal to a vectorseq config (see the module docstring)."""
    m, t = cfg.model, cfg.training
    side = lambda lang: {  # noqa: E731
        "lang": lang, "level": "bpe", "lowercase": False, "normalize": False, "max_length": -1,
        "voc_file": str(data.vocab), "tokenizer_type": "sentencepiece",
        "tokenizer_cfg": {"model_file": str(data.spm)}}
    if m.type == "transformer":
        emb = {"embedding_dim": m.d_model, "scale": True, "dropout": m.dropout}
        layer = {"type": "transformer", "num_layers": None, "num_heads": m.heads, "hidden_size": m.d_model,
                 "ff_size": m.ff_size, "dropout": m.dropout, "layer_norm": "pre", "activation": "relu",
                 "embeddings": emb}
        enc = {**layer, "num_layers": m.encoder_layers}
        dec = {**layer, "num_layers": m.decoder_layers}
        model = {"initializer": "xavier_uniform", "bias_initializer": "zeros", "init_gain": 1.0,
                 "embed_initializer": "xavier_uniform", "embed_init_gain": 1.0,
                 "tied_embeddings": bool(m.share_embeddings), "tied_softmax": bool(m.tie_embeddings),
                 "encoder": enc, "decoder": dec}
    elif m.type == "rnn":
        emb = {"embedding_dim": m.d_model, "scale": False, "dropout": m.dropout}
        enc = {"type": "recurrent", "rnn_type": m.rnn_cell, "hidden_size": m.d_model,
               "bidirectional": m.bidirectional, "num_layers": m.encoder_layers, "dropout": m.dropout,
               "embeddings": emb}
        dec = {"type": "recurrent", "rnn_type": m.rnn_cell, "hidden_size": m.d_model,
               "num_layers": m.decoder_layers, "attention": m.attention, "input_feeding": True,
               "init_hidden": "bridge", "dropout": m.dropout, "hidden_dropout": m.dropout, "embeddings": emb}
        model = {"initializer": "xavier_uniform", "bias_initializer": "zeros", "init_gain": 1.0,
                 "embed_initializer": "xavier_uniform", "embed_init_gain": 1.0,
                 "tied_embeddings": bool(m.share_embeddings), "tied_softmax": bool(m.tie_embeddings),
                 "encoder": enc, "decoder": dec}
    else:
        raise SystemExit(f"model type {m.type!r} has no JoeyNMT counterpart here")
    if t.schedule != "inverse_sqrt":
        raise SystemExit("the JoeyNMT mirror implements training.schedule=inverse_sqrt only")
    return {
        "name": f"joeynmt_{cfg.name}", "joeynmt_version": "2.3.0", "model_dir": str(model_dir),
        "use_cuda": False, "fp16": False, "random_seed": t.seed,
        "data": {"train": str(data.dir / "train"), "dev": str(data.dir / "dev"), "dataset_type": "plain",
                 "sample_dev_subset": 16, "src": side(data.sl), "trg": side(data.tl)},
        "testing": {"n_best": 1, "beam_size": cfg.decoding.beam_size, "beam_alpha": cfg.decoding.length_penalty,
                    "batch_size": 32, "batch_type": "sentence", "max_output_length": -1, "eval_metrics": [],
                    "sacrebleu_cfg": {"tokenize": "13a"}},
        "training": {
            "optimizer": "adamw", "adam_betas": list(t.betas), "weight_decay": t.weight_decay,
            "learning_rate": t.lr, "learning_rate_peak": t.lr, "learning_rate_min": 1.0e-8,
            "scheduling": "warmupinversesquareroot", "learning_rate_warmup": t.warmup_steps,
            "loss": "crossentropy", "label_smoothing": t.label_smoothing, "normalization": "tokens",
            "clip_grad_norm": t.clip_norm, "batch_size": t.batch_tokens, "batch_type": "token",
            "batch_multiplier": t.accumulate, "updates": a.updates, "epochs": 100000,
            "validation_freq": a.updates, "logging_freq": a.updates, "early_stopping_metric": "ppl",
            "shuffle": True, "overwrite": True, "keep_best_ckpts": 1, "print_valid_sents": [0],
            "num_workers": 0},
        "model": model,
    }


# ------------------------------------------------------------------------------------------ measurements
def output_tokens(spm_model, hyps: list[str]) -> int:
    return sum(len(spm_model.encode(h)) + 1 for h in hyps)


def bleu(hyps: list[str], refs: list[str]) -> dict:
    import sacrebleu

    return {"bleu": round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2),
            "chrf": round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)}


def read_lines(p: Path) -> list[str]:
    """One entry per line; empty hypotheses are kept (``str.splitlines`` would also split at U+2028 etc.)."""
    t = p.read_text(encoding="utf-8")
    return (t[:-1] if t.endswith("\n") else t).split("\n")


def decode_record(stats: dict, hyps: list[str], refs: list[str], sp, rss: float) -> dict:
    assert len(hyps) == len(refs), (len(hyps), len(refs))
    n_out = output_tokens(sp, hyps)
    return {"sentences": len(hyps), "seconds": stats["seconds"],
            "sentences_per_s": round(len(hyps) / stats["seconds"], 2),
            "output_tokens_per_s": round(n_out / stats["seconds"], 1),
            "mean_output_tokens": round(n_out / len(hyps), 2), "peak_rss_mb": round(rss, 1), **bleu(hyps, refs)}


def run_vectorseq(a, cfg_path: Path, data: SimpleNamespace, data_dir: Path, run_dir: Path, env: dict, sp,
                  flops_fn) -> dict:
    import numpy as np

    from vectorseq.data.batching import make_batches
    from vectorseq.vectorizer import TextVectorizer

    out = run_dir / "model"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    code = ("import sys, json; from vectorseq.config import load_config; from vectorseq.training import train; "
            "cfg = load_config(sys.argv[1], json.loads(sys.argv[3])); "
            "train(cfg, sys.argv[2], progress=False, evaluate_test=False, log=lambda *a, **k: None)")
    _, wall, rss = run_child([sys.executable, "-c", code, str(cfg_path), str(out),
                              json.dumps(vs_overrides(a, data_dir))], env, run_dir / "train.out")
    hist = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines() if x.strip()]
    rec = [h for h in hist if h["step"] == a.updates][-1]
    same_vocab = TextVectorizer.load(out / "vectorizer_shared").get_vocabulary() == data.vec.get_vocabulary()
    # the batches it trained on (deterministic: seed, epoch 0), to count real tokens and FLOPs
    from vectorseq.config import load_config

    cfg = load_config(cfg_path, vs_overrides(a, data_dir))
    batches = make_batches(data.src_lens, data.tgt_lens, cfg.training.batch_tokens, seed=cfg.training.seed,
                           epoch=0)[: a.updates]
    assert len(batches) == a.updates, "more updates than one epoch of batches: extend the reconstruction"
    shapes = [(len(b), int(data.src_lens[b].max()), int(data.tgt_lens[b].max())) for b in batches]
    src_tok = int(sum(int(data.src_lens[b].sum()) for b in batches))
    tgt_tok = int(sum(int(data.tgt_lens[b].sum()) for b in batches))
    window = (src_tok + tgt_tok) / rec["tokens_per_s"]
    train = {"tokens_per_s": rec["tokens_per_s"], "tgt_tokens_per_s": round(tgt_tok / window, 1),
             "window_s": round(window, 2), "elapsed_s_log": rec["elapsed_s"], "child_wall_s": round(wall, 1),
             "updates": rec["step"], "peak_rss_mb": round(rss, 1), "same_vocabulary_as_joeynmt": same_vocab,
             **batch_stats(shapes, src_tok, tgt_tok, a.updates), "flops": flops_fn(shapes)}
    train["gflops_per_s"] = round(train["flops"] / window / 1e9, 2)
    res = {"train": train}
    for name, src, ref, bs in (("b32", data.test_src, data.test_ref, 32),
                               ("b1", data.test100_src, data.test100_ref, 1)):
        res[f"decode_{name}"] = vs_decode(out, src, ref, bs, 5, run_dir / f"decode_{name}", env, sp)
    return res


def vs_decode(model_dir: Path, src: Path, ref: Path, bs: int, beam: int, stem: Path, env: dict, sp) -> dict:
    """``vectorseq evaluate`` in a child process; its ``seconds`` = Translator.translate (encode+search+decode)."""
    hyp = stem.with_suffix(".hyps")
    _, _, rss = run_child([sys.executable, "-m", "vectorseq", "evaluate", str(model_dir), "--src", str(src), "--ref",
                           str(ref), "--beam", str(beam), "--batch-size", str(bs), "--output", str(hyp)], env,
                          stem.with_suffix(".out"))
    text = stem.with_suffix(".out").read_text()
    st = json.loads(text[text.index("{"):])
    rec = decode_record(st, read_lines(hyp), read_lines(ref), sp, rss)
    rec["hyps_file"] = str(hyp)
    return rec


def joey_decode(py: Path, cfg_file: Path, ckpt: Path, src: Path, ref: Path, bs: int, beam: int, stem: Path,
                env: dict, sp, threads: int, profile: bool = False) -> dict:
    """JoeyNMT's ``predict()`` in a child process (benchmarks/joeynmt/joey_driver.py decode)."""
    hyp, dstats = stem.with_suffix(".hyps"), stem.with_suffix(".json")
    prefix = str(src)[: -len(src.suffix)]
    cmd = [str(py), str(DRIVER), "decode", str(cfg_file), "--ckpt", str(ckpt), "--src", prefix, "--batch-size",
           str(bs), "--beam", str(beam), "--hyps", str(hyp), "--stats", str(dstats), "--threads", str(threads)]
    _, _, rss = run_child(cmd + (["--profile"] if profile else []), env, stem.with_suffix(".out"))
    d = json.loads(dstats.read_text())
    rec = decode_record(d, read_lines(hyp), read_lines(ref), sp, rss)
    rec["hyps_file"] = str(hyp)
    if profile:
        rec["top_ms"] = d.get("decode_top_ms")
    return rec


def snapshot_model(src: Path, work: Path) -> tuple[Path, int | None]:
    """Copy a (possibly still training) vectorseq model folder; return it and the step its weights come from."""
    dst = work / f"snapshot-{src.resolve().name}"
    for _ in range(5):
        shutil.rmtree(dst, ignore_errors=True)
        dst.mkdir(parents=True)
        log_before = (src / "train_log.jsonl").read_bytes() if (src / "train_log.jsonl").is_file() else b""
        for name in ("config.yaml", "model.safetensors", "metrics.json"):
            if (src / name).is_file():
                shutil.copy2(src / name, dst / name)
        shutil.copytree(src / "vectorizer_shared", dst / "vectorizer_shared")
        log_after = (src / "train_log.jsonl").read_bytes() if (src / "train_log.jsonl").is_file() else b""
        if log_before == log_after:  # no validation (and so no weight save) happened while copying
            (dst / "train_log.jsonl").write_bytes(log_after)
            break
        time.sleep(5)
    hist = [json.loads(x) for x in log_after.decode().splitlines() if x.strip()]
    best = max(hist, key=lambda h: (h["valid_bleu"], -h["valid_loss"])) if hist else None  # vectorseq's rule
    return dst, (best["step"] if best else None)


def run_same_weights(a, snap: Path, step: int | None, data: SimpleNamespace, py: Path, env: dict, sp) -> dict:
    """Decode one trained vectorseq Transformer with both systems: its weights converted to a JoeyNMT checkpoint."""
    import torch
    import yaml
    from safetensors.torch import load_file

    from vectorseq.config import load_config
    from vectorseq.vectorizer import TextVectorizer

    if TextVectorizer.load(snap / "vectorizer_shared").get_vocabulary() != data.vec.get_vocabulary():
        raise SystemExit(f"{snap}: its vocabulary differs from the prepared one (other data, seed or settings)")
    cfg = load_config(snap / "config.yaml")
    if cfg.model.type != "transformer":
        raise SystemExit("--decode-model: only Transformer models can be converted to JoeyNMT")
    torch.save(load_file(snap / "model.safetensors"), snap / "weights.pt")
    jcfg = joey_config(cfg, a, data, snap / "joeynmt")
    cfg_file = snap / "joeynmt.yaml"
    cfg_file.write_text(yaml.safe_dump(jcfg, sort_keys=False))
    ckpt = snap / "joeynmt.ckpt"
    run_child([str(py), str(DRIVER), "convert", str(cfg_file), "--weights", str(snap / "weights.pt"), "--vocab",
               str(data.vocab), "--out", str(ckpt), "--stats", str(snap / "convert.json")], env, snap / "convert.out")
    out = {"model_dir": str(snap), "weights_from_step": step, "convert": json.loads((snap / "convert.json").read_text()),
           "vectorseq": [], "joeynmt": []}
    # same weights => the same translations (up to LayerNorm eps and max-length rules): check greedy and beam 5
    g_vs = vs_decode(snap, data.test100_src, data.test100_ref, 32, 1, snap / "greedy_vs", env, sp)
    g_jy = joey_decode(py, cfg_file, ckpt, data.test100_src, data.test100_ref, 32, 1, snap / "greedy_jy", env, sp,
                       a.threads)
    same = sum(x == y for x, y in zip(read_lines(Path(g_vs["hyps_file"])), read_lines(Path(g_jy["hyps_file"]))))
    out["identical_greedy_outputs"] = f"{same}/{g_vs['sentences']}"
    for r in range(a.repeats):
        for system in ("vectorseq", "joeynmt"):
            log(f"same weights (step {step}), repeat {r + 1}/{a.repeats}: {system} (load average "
                f"{os.getloadavg()[0]:.2f})")
            rec = {}
            for name, src, ref, bs in (("b32", data.test_src, data.test_ref, 32),
                                       ("b1", data.test100_src, data.test100_ref, 1)):
                stem = snap / f"{system}_{name}_r{r}"
                if system == "vectorseq":
                    rec[f"decode_{name}"] = vs_decode(snap, src, ref, bs, 5, stem, env, sp)
                else:
                    rec[f"decode_{name}"] = joey_decode(py, cfg_file, ckpt, src, ref, bs, 5, stem, env, sp, a.threads)
            out[system].append(rec)
            log(f"  {system}: b32 {rec['decode_b32']['sentences_per_s']} sent/s, b1 "
                f"{rec['decode_b1']['sentences_per_s']} sent/s, BLEU {rec['decode_b32']['bleu']}")
    h_vs = read_lines(Path(out["vectorseq"][0]["decode_b32"]["hyps_file"]))
    h_jy = read_lines(Path(out["joeynmt"][0]["decode_b32"]["hyps_file"]))
    out["identical_beam5_outputs"] = f"{sum(x == y for x, y in zip(h_vs, h_jy))}/{len(h_vs)}"
    if not a.no_profile:  # top operators of a batch-32 beam-5 decoding of the first 100 sentences, both systems
        code = ("import sys, json, time, torch; from torch.profiler import profile, ProfilerActivity; "
                "from vectorseq.translator import Translator; t = Translator.load(sys.argv[1]); "
                "src = open(sys.argv[2], encoding='utf-8').read().splitlines(); bs = int(sys.argv[3]); "
                "t.translate(src[:8], beam=5); prof = profile(activities=[ProfilerActivity.CPU]); prof.__enter__(); "
                "t0 = time.perf_counter(); t.translate(src, beam=5, batch_size=bs); dt = time.perf_counter() - t0; "
                "prof.__exit__(None, None, None); ev = prof.key_averages(); "
                "rows = sorted(ev, key=lambda e: -e.self_cpu_time_total)[:8]; "
                "print(json.dumps({'wall_ms': round(dt * 1e3, 1), 'aten_self_ms': round(sum(e.self_cpu_time_total "
                "for e in ev if e.key.startswith('aten::')) / 1e3, 1), 'aten_calls': sum(e.count for e in ev "
                "if e.key.startswith('aten::')), 'top_ms': [(e.key, round(e.self_cpu_time_total / 1e3, 1)) "
                "for e in rows]}))")
        for bs in (32, 1):
            run_child([sys.executable, "-c", code, str(snap), str(data.test100_src), str(bs)], env,
                      snap / f"profile_vs_b{bs}.out")
            out[f"vectorseq_decode_b{bs}_profile"] = json.loads(
                (snap / f"profile_vs_b{bs}.out").read_text().strip().splitlines()[-1])
            p = joey_decode(py, cfg_file, ckpt, data.test100_src, data.test100_ref, bs, 5, snap / f"profile_jy_b{bs}",
                            env, sp, a.threads, profile=True)
            out[f"joeynmt_decode_b{bs}_top_ms"] = p.get("top_ms")
    return out


def batch_stats(shapes, src_tok: int, tgt_tok: int, n: int) -> dict:
    return {"real_src_tokens_per_batch": round(src_tok / n, 1), "real_tgt_tokens_per_batch": round(tgt_tok / n, 1),
            "sentences_per_batch": round(sum(s[0] for s in shapes) / n, 1),
            "padded_tokens_per_batch": round(sum(b * max(s, t) for b, s, t in shapes) / n, 1),
            "real_fraction_of_padded": round((src_tok + tgt_tok) / 2 / sum(b * max(s, t) for b, s, t in shapes), 3)}


def run_joeynmt(a, jcfg: dict, py: Path, data: SimpleNamespace, run_dir: Path, env: dict, sp, flops_fn,
                profile: bool) -> dict:
    import yaml

    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    jcfg = json.loads(json.dumps(jcfg))
    jcfg["model_dir"] = str(run_dir / "model")
    cfg_file = run_dir / "joeynmt.yaml"
    cfg_file.write_text(yaml.safe_dump(jcfg, sort_keys=False))
    stats = run_dir / "train_stats.json"
    cmd = [str(py), str(DRIVER), "train", str(cfg_file), "--stats", str(stats), "--threads", str(a.threads)]
    _, wall, rss = run_child(cmd + (["--profile"] if profile else []), env, run_dir / "train.out")
    st = json.loads(stats.read_text())
    shapes = [tuple(x) for x in st["batch_shapes"]]
    train = {"tokens_per_s": st["tokens_per_s"], "tgt_tokens_per_s": st["tgt_tokens_per_s"],
             "window_s": st["window_s"], "child_wall_s": round(wall, 1), "updates": st["updates"],
             "peak_rss_mb": round(rss, 1), "joey_log_tgt_tokens_per_s": joey_logged_rate(run_dir / "model" / "train.log"),
             **batch_stats(shapes, st["src_tokens"], st["tgt_tokens"], len(shapes)), "flops": flops_fn(shapes),
             "parameters": st["parameters"]}
    train["gflops_per_s"] = round(train["flops"] / st["window_s"] / 1e9, 2)
    if "train_top_ms" in st:
        train["top_ms"] = st["train_top_ms"]
    res = {"train": train}
    ckpt = run_dir / "model" / f"{st['updates']}.ckpt"
    for name, src, ref, bs in (("b32", data.test_src, data.test_ref, 32),
                               ("b1", data.test100_src, data.test100_ref, 1)):
        res[f"decode_{name}"] = joey_decode(py, cfg_file, ckpt, src, ref, bs, 5, run_dir / f"decode_{name}", env, sp,
                                            a.threads)
    return res


def joey_logged_rate(path: Path) -> float | None:
    import re

    if not path.is_file():
        return None
    m = re.findall(r"Tokens per Sec:\s+([0-9.]+)", path.read_text(errors="replace"))
    return float(m[-1]) if m else None


def flops_function(cfg, vec):
    """Analytic training FLOPs (forward + backward) of a list of padded batch shapes (B, S, T)."""
    import torch

    from vectorseq.models import build_model

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from profile_step import train_flops

    model = build_model(cfg, vec, vec)
    d = cfg.model.d_model
    V = vec.vocabulary_size()
    if cfg.model.type == "transformer":
        def f(shapes):
            return float(sum(train_flops(model, SimpleNamespace(src=torch.empty(B, S, dtype=torch.uint8),
                                                                tgt_in=torch.empty(B, T, dtype=torch.uint8)),
                                         d, cfg.model.encoder_layers, cfg.model.decoder_layers)
                             for B, S, T in shapes))
        return f, model.num_parameters()
    # RNN: 6 FLOPs per weight per token for the source side (encoder LSTM, projections) and the target side
    # (decoder LSTM, attention query/combine layers, output), plus 6 * 2 * d * S per target token for the
    # additive attention's scores and context.
    src_w = sum(p.numel() for n, p in model.named_parameters() if p.dim() == 2 and n.split(".")[0] in ("encoder", "enc_proj"))
    tgt_w = sum(p.numel() for n, p in model.named_parameters() if p.dim() == 2 and n.split(".")[0] in ("decoder", "attn", "combine"))

    def f(shapes):
        return float(sum(6 * (src_w * B * S + (tgt_w + V * d) * B * T) + 6 * 2 * d * B * T * S for B, S, T in shapes))
    return f, model.num_parameters()


def median_of(records: list[dict], path: tuple[str, str]) -> float | None:
    vals = [r[path[0]][path[1]] for r in records if r.get(path[0], {}).get(path[1]) is not None]
    return round(statistics.median(vals), 2) if vals else None


def summarize(system: str, records: list[dict]) -> dict:
    keys = {"train": ["tokens_per_s", "tgt_tokens_per_s", "window_s", "peak_rss_mb", "gflops_per_s",
                      "real_src_tokens_per_batch", "real_tgt_tokens_per_batch", "padded_tokens_per_batch",
                      "sentences_per_batch", "real_fraction_of_padded", "joey_log_tgt_tokens_per_s"],
            "decode_b32": ["sentences_per_s", "output_tokens_per_s", "mean_output_tokens", "peak_rss_mb", "bleu",
                           "chrf"],
            "decode_b1": ["sentences_per_s", "output_tokens_per_s", "mean_output_tokens", "peak_rss_mb"]}
    out = {"system": system}
    for part, ks in keys.items():
        for k in ks:
            v = median_of(records, (part, k))
            if v is not None:
                out[f"{part}.{k}"] = v
        if all(part in r for r in records):
            out[f"{part}.all"] = [{k: r[part].get(k) for k in ks[:2]} for r in records]
    return out


def long_run_refs() -> dict:
    refs = {"joeynmt_peers_md": {"updates": 573, "minutes": 25, "test_bleu_beam5": 9.5, "test_bleu_greedy": 6.6,
                                 "source": "shared/notes/peers.md"}}
    p = Path("/work/runs/m30k_tiny")
    if (p / "metrics.json").is_file():
        m = json.loads((p / "metrics.json").read_text())
        refs["vectorseq_m30k_tiny"] = {"steps": m.get("steps"), "test": m.get("test"), "best": m.get("best"),
                                       "source": str(p / "metrics.json")}
    elif (p / "train_log.jsonl").is_file():
        hist = [json.loads(x) for x in (p / "train_log.jsonl").read_text().splitlines() if x.strip()]
        refs["vectorseq_m30k_tiny_in_progress"] = {
            "source": str(p / "train_log.jsonl"), "note": "run not finished: validation (greedy) BLEU so far",
            "log": [{k: h.get(k) for k in ("step", "valid_bleu", "valid_loss", "elapsed_s", "tokens_per_s")}
                    for h in hist]}
    return refs


# ------------------------------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(CONFIGS), default="transformer")
    ap.add_argument("--updates", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch1-limit", type=int, default=100, help="sentences decoded at batch 1 (the first N)")
    ap.add_argument("--test-limit", type=int, help="decode only the first N test sentences at batch 32 (smoke tests)")
    ap.add_argument("--data-dir", help="Multi30k folder (default $VECTORSEQ_MULTI30K or ../shared/data/multi30k)")
    ap.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "vectorseq" / "bench" / "joeynmt"))
    ap.add_argument("--venv", default=str(Path.home() / ".cache" / "vectorseq" / "bench" / "joeynmt-venv"))
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--json-out", help="also write every measurement to this JSON file")
    ap.add_argument("--decode-model", help="a trained vectorseq Transformer folder (e.g. /work/runs/m30k_tiny, "
                    "copied first): also decode it with both systems, its weights converted to JoeyNMT -- the "
                    "decoding comparison that means something, since N-update models emit empty or degenerate "
                    "output")
    a = ap.parse_args()

    import numpy as np  # noqa: F401
    import torch

    from vectorseq.config import load_config

    torch.set_num_threads(a.threads)
    work = Path(a.cache_dir).expanduser()
    work.mkdir(parents=True, exist_ok=True)
    py = ensure_venv(Path(a.venv).expanduser())
    data_dir = data_dir_arg(a)
    cfg_path = CONFIGS[a.model]
    cfg = load_config(cfg_path, vs_overrides(a, data_dir))
    data = prepare(a, cfg, data_dir, work)
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(data.spm))
    env = child_env(a.threads)
    flops_fn, n_params = flops_function(cfg, data.vec)
    run_root = work / f"runs-{cfg.name}"
    jcfg = joey_config(cfg, a, data, run_root / "joeynmt" / "model")

    # identical tokens: JoeyNMT's own tokenizer over the training set vs vectorseq's pieces
    tok_cfg = work / f"tokens-{cfg.name}.yaml"
    import yaml

    tok_cfg.write_text(yaml.safe_dump(jcfg, sort_keys=False))
    _, _, _ = run_child([str(py), str(DRIVER), "tokens", str(tok_cfg), "--stats", str(work / "tokens.json")], env,
                        work / "tokens.out")
    jt = json.loads((work / "tokens.json").read_text())
    tokens_check = {"vectorseq_pieces": data.n_pieces, "joeynmt_pieces": jt["pieces"],
                    "vectorseq_unk": data.unk["count"], "joeynmt_unk": jt["unk_pieces"],
                    "joeynmt_vocab_size": jt["vocab_size"], "vectorseq_vocab_size": data.vec.vocabulary_size(),
                    "identical_piece_counts": jt["pieces"] == data.n_pieces}
    log(f"token check: {tokens_check}")

    machine = {"cpu": _cpu_model(), "cores": os.cpu_count(), "threads": a.threads, "python": platform.python_version(),
               "torch": torch.__version__, "loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    results = {"vectorseq": [], "joeynmt": []}
    load = []
    for r in range(a.repeats):
        for system in ("vectorseq", "joeynmt"):
            load.append(round(os.getloadavg()[0], 2))
            t0 = time.time()
            log(f"repeat {r + 1}/{a.repeats}: {system} (load average {load[-1]})")
            if system == "vectorseq":
                res = run_vectorseq(a, cfg_path, data, data_dir, run_root / "vectorseq", env, sp, flops_fn)
            else:
                res = run_joeynmt(a, jcfg, py, data, run_root / "joeynmt", env, sp, flops_fn,
                                  profile=(r == 0 and not a.no_profile))
            res["wall_s"] = round(time.time() - t0, 1)
            results[system].append(res)
            (work / f"raw-{cfg.name}.json").write_text(json.dumps(results, default=str))
            log(f"  {system}: train {res['train']['tokens_per_s']} tok/s, b32 {res['decode_b32']['sentences_per_s']} "
                f"sent/s, b1 {res['decode_b1']['sentences_per_s']} sent/s, BLEU {res['decode_b32']['bleu']}")

    same = None
    if a.decode_model:
        snap, step = snapshot_model(Path(a.decode_model), work)
        same = run_same_weights(a, snap, step, data, py, env, sp)
        (work / f"raw-same-weights-{snap.name}.json").write_text(json.dumps(same, default=str))

    peak = None
    prof = None
    if not a.no_profile:
        log("profiling one vectorseq training step and one beam-5 batch (benchmarks/profile_step.py)")
        pout = work / "profile_step.out"
        run_child([sys.executable, str(ROOT / "benchmarks" / "profile_step.py"), "--threads", str(a.threads),
                   "--config", str(cfg_path), "--data-dir", str(data_dir)], env, pout)
        prof = json.loads(pout.read_text().strip().splitlines()[-1])
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from profile_step import matmul_peak

    peak = max(matmul_peak(a.threads) for _ in range(3))
    machine["matmul_peak_gflops"] = round(peak / 1e9, 1)
    machine["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    machine["loadavg_1min_at_each_run"] = load

    vs, jy = summarize("vectorseq", results["vectorseq"]), summarize("joeynmt", results["joeynmt"])
    vs["parameters"], jy["parameters"] = n_params, results["joeynmt"][0]["train"]["parameters"]
    for s, recs in ((vs, results["vectorseq"]), (jy, results["joeynmt"])):
        s["model"], s["updates"], s["repeats"], s["threads"] = a.model, a.updates, a.repeats, a.threads
        s["train.fraction_of_matmul_peak"] = round(s["train.gflops_per_s"] * 1e9 / peak, 3)
    ratio = lambda k: round(vs[k] / jy[k], 2) if vs.get(k) and jy.get(k) else None  # noqa: E731
    ratios = {"train_tokens_per_s": ratio("train.tokens_per_s"),
              "train_tgt_tokens_per_s": ratio("train.tgt_tokens_per_s"),
              "train_peak_rss_mb": ratio("train.peak_rss_mb"),
              "decode_b32_sentences_per_s": ratio("decode_b32.sentences_per_s"),
              "decode_b32_output_tokens_per_s": ratio("decode_b32.output_tokens_per_s"),
              "decode_b1_sentences_per_s": ratio("decode_b1.sentences_per_s"),
              "decode_b1_output_tokens_per_s": ratio("decode_b1.output_tokens_per_s"),
              "decode_b32_peak_rss_mb": ratio("decode_b32.peak_rss_mb")}
    targets = {k: {"target": f">= {v}x", "ratio": ratios[k], "met": bool(ratios[k] and ratios[k] >= v)}
               for k, v in TARGETS.items()}
    if same:
        sv, sj = summarize("vectorseq", same["vectorseq"]), summarize("joeynmt", same["joeynmt"])
        same["summary"] = {"vectorseq": sv, "joeynmt": sj}
        for k in ("decode_b32.sentences_per_s", "decode_b32.output_tokens_per_s", "decode_b1.sentences_per_s",
                  "decode_b1.output_tokens_per_s", "decode_b32.bleu", "decode_b32.peak_rss_mb"):
            if sv.get(k) and sj.get(k):
                ratios["same_weights_" + k.replace(".", "_")] = round(sv[k] / sj[k], 2)
        for key, k in (("decode_b32_sentences_per_s", "decode_b32.sentences_per_s"),
                       ("decode_b1_sentences_per_s", "decode_b1.sentences_per_s")):
            r_ = ratios.get("same_weights_" + k.replace(".", "_"))
            targets[key]["same_weights_ratio"] = r_
            targets[key]["met_same_weights"] = bool(r_ and r_ >= TARGETS[key])
            targets[key]["note"] = ("ratio = N-update models (outputs differ in length); same_weights_ratio = one "
                                    "trained model decoded by both (the meaningful one)")
    targets["bleu_at_equal_updates"] = {
        "target": "vectorseq >= JoeyNMT", "vectorseq": vs.get("decode_b32.bleu"), "joeynmt": jy.get("decode_b32.bleu"),
        "met": (vs.get("decode_b32.bleu") or 0) >= (jy.get("decode_b32.bleu") or 0),
        "note": f"after {a.updates} updates both are near 0; a meaningful comparison needs a long run"}
    summary = {"ratios_vectorseq_over_joeynmt": ratios, "targets": targets, "tokens_check": tokens_check,
               "long_run_reference": long_run_refs()}
    if same:
        summary["same_weights_decoding"] = {
            k: same[k] for k in ("model_dir", "weights_from_step", "identical_greedy_outputs", "identical_beam5_outputs")}
        summary["same_weights_decoding"]["vectorseq"] = {k: v for k, v in same["summary"]["vectorseq"].items()
                                                        if k.startswith("decode")}
        summary["same_weights_decoding"]["joeynmt"] = {k: v for k, v in same["summary"]["joeynmt"].items()
                                                      if k.startswith("decode")}
    extra = {"machine": machine}
    if prof:
        extra["profile_vectorseq"] = prof
    if same:
        extra["profile_same_weights_decode"] = {k: v for k, v in same.items() if "profile" in k or "top_ms" in k}
    jtop = results["joeynmt"][0]["train"].get("top_ms")
    if jtop:
        extra["profile_joeynmt"] = {"train_top_ms": jtop}
    for line in (vs, jy, summary, extra):
        print(json.dumps(line, ensure_ascii=False))
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"args": vars(a), "results": results, "same_weights": same,
                                                "summary": [vs, jy, summary, extra],
                                                "joeynmt_config": jcfg}, indent=1, default=str))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
