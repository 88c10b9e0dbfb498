"""Benchmark: what subword regularization costs in training speed (``vectorizer.src.sampling_alpha``).

What is measured
----------------
* The runs: one small Transformer (d_model 128, 2+2 layers, 2,048-token batches), trained for ``--steps``
  updates (default 600: several epochs of the 3,000-pair subset, so the per-epoch re-segmentation is paid
  several times) with one validation at the end, on Multi30k En->De (``--multi30k-dir``, default
  ``../shared/data/multi30k`` next to the repository; ``--pairs`` training pairs, default 3,000) or, with
  ``--builtin`` or when Multi30k is absent, the built-in corpus.
* The conditions, shared SentencePiece vocabulary (``--vocab``, default 8,000; 1,000 on the built-in corpus):
  ``bpe`` (sampling off), ``bpe_dropout`` (alpha 0.1), ``unigram`` (off) and ``unigram_sampling`` (alpha
  0.1, whole lattice). They run in alternating order, ``--rounds`` times (A/B/A/B: a load change on the
  machine hits every condition alike).
* Per run: wall-clock seconds of ``train`` (data loading, vectorizer training, per-epoch sampling and
  updates included), updates/s, the trainer's median training tokens/s (target tokens, validation
  excluded) and the wall-clock target tokens/s over the whole run (tokens counted from ``train_log``).
* Per condition: the median over rounds, and the ratio of each sampled condition's tokens/s to its
  unsampled twin (the issue's budget: within 10%).

Output: one JSON object on stdout (machine, load, per-run records and the summary). Nothing is written to
RESULTS.md. Run it on a quiet machine:

    python3 benchmarks/bench_subword_sampling.py --steps 600 --rounds 3 --threads 4
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from vectorseq.config import config_from_dict  # noqa: E402 (after the path insert)
from vectorseq.training import train  # noqa: E402

CONDITIONS = {
    "bpe": {"sentencepiece_model_type": "bpe"},
    "bpe_dropout": {"sentencepiece_model_type": "bpe", "sampling_alpha": 0.1},
    "unigram": {"sentencepiece_model_type": "unigram"},
    "unigram_sampling": {"sentencepiece_model_type": "unigram", "sampling_alpha": 0.1, "sampling_nbest": -1},
}
TWINS = {"bpe_dropout": "bpe", "unigram_sampling": "unigram"}


def base_config(args: argparse.Namespace, multi30k: bool, side: dict) -> dict:
    data = ({"dataset": "multi30k", "src_lang": "en", "tgt_lang": "de", "data_dir": str(args.multi30k_dir),
             "subset": args.pairs, "subset_mode": "first"} if multi30k else
            {"dataset": "builtin", "builtin": {"n_train": args.pairs, "n_val": 200, "n_test": 10}})
    vocab = args.vocab or (8000 if multi30k else 1000)
    return {
        "name": "bench-subword-sampling", "data": data,
        "vectorizer": {"shared": True, "src": {"standardize": "none", "split": "sentencepiece", "max_tokens": vocab,
                                               **side}},
        "model": {"type": "transformer", "d_model": 128, "ff_size": 256, "heads": 4, "encoder_layers": 2,
                  "decoder_layers": 2, "dropout": 0.1, "share_embeddings": True},
        "training": {"batch_tokens": 2048, "lr": 0.002, "warmup_steps": 100, "max_steps": args.steps,
                     "valid_every": args.steps, "valid_max_sentences": 50, "threads": args.threads, "seed": 1},
        "decoding": {"beam_size": 1, "batch_size": 64},
    }


def one_run(args: argparse.Namespace, multi30k: bool, name: str, work: Path, round_: int) -> dict:
    cfg = config_from_dict(base_config(args, multi30k, CONDITIONS[name]))
    out = work / f"{name}-{round_}"
    t0 = time.perf_counter()
    result = train(cfg, out, progress=False, evaluate_test=False, log=lambda *a, **k: None)
    wall = time.perf_counter() - t0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    tps = [r["tokens_per_s"] for r in log if r.get("tokens_per_s")]
    return {"condition": name, "round": round_, "steps": result.steps, "epochs": result.epochs,
            "wall_s": round(wall, 2), "updates_per_s": round(result.steps / wall, 3),
            "trainer_tokens_per_s": round(statistics.median(tps), 1) if tps else None,
            "load_before": os.getloadavg()[0]}


def summary(runs: list[dict]) -> dict:
    out: dict = {}
    for name in CONDITIONS:
        mine = [r for r in runs if r["condition"] == name]
        if mine:
            out[name] = {"median_updates_per_s": statistics.median(r["updates_per_s"] for r in mine),
                         "median_trainer_tokens_per_s": statistics.median(r["trainer_tokens_per_s"] or 0 for r in mine)}
    for sampled, plain in TWINS.items():
        if sampled in out and plain in out:
            a, b = out[sampled], out[plain]
            out[sampled]["trainer_tokens_per_s_vs_" + plain] = round(
                a["median_trainer_tokens_per_s"] / max(b["median_trainer_tokens_per_s"], 1e-9), 3)
            out[sampled]["updates_per_s_vs_" + plain] = round(
                a["median_updates_per_s"] / max(b["median_updates_per_s"], 1e-9), 3)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--pairs", type=int, default=3000)
    p.add_argument("--vocab", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--builtin", action="store_true", help="use the built-in corpus even when Multi30k is there")
    p.add_argument("--multi30k-dir", type=Path, default=ROOT.parent / "shared" / "data" / "multi30k")
    p.add_argument("--conditions", default=",".join(CONDITIONS))
    args = p.parse_args()
    multi30k = not args.builtin and (args.multi30k_dir / "train.en.gz").is_file()
    names = [n for n in args.conditions.split(",") if n]
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-sampling-") as tmp:
        for round_ in range(args.rounds):
            order = names if round_ % 2 == 0 else list(reversed(names))  # alternate: A B C D, D C B A, ...
            for name in order:
                runs.append(one_run(args, multi30k, name, Path(tmp), round_))
                print(json.dumps(runs[-1]), file=sys.stderr)
    machine = {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
               "cpus": os.cpu_count(), "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
               "loadavg_end": os.getloadavg()}
    print(json.dumps({"corpus": "multi30k" if multi30k else "builtin", "args": {k: str(v) for k, v in vars(args).items()},
                      "machine": machine, "runs": runs, "summary": summary(runs)}, indent=1))


if __name__ == "__main__":
    main()
