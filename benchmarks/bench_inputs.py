"""Training tokens/s of every source input the config offers, against a learned embedding table on the same model.

Each variant is a row of :data:`variants`: a partial config for the variant and one for its baseline (the same
vectorizer with ``embeddings.src.input: embedding``, so a byte-level or subword-sampled input is compared with a
learned byte or subword table, not with words). Both train the same small Transformer through the real
``vectorseq.training.train`` (BatchSource and subword sampling included) for ``--steps`` updates; the runs
alternate baseline, variant, baseline, variant (``--repeats`` pairs), so a drift in machine load hits both
alike. tokens/s is what training logs at each validation (source + target tokens, validation time excluded);
the first validation segment is dropped as warm-up when there are several.

A variant whose config does not validate here (an input another branch adds, not merged yet) is reported as
``unavailable`` with the config error, never a crash; a run that fails is ``failed`` with its one-line error.
Prints one JSON object: machine and load information, then one record per variant.

    python benchmarks/bench_inputs.py [--dataset builtin|multi30k] [--steps 60] [--repeats 2] [--only bag,...]

Time it on a quiet machine (the load average at the start and around every run is recorded, to check).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from vectorseq.config import config_from_dict, merge
from vectorseq.errors import VectorseqError
from vectorseq.training import train

WORD = {"standardize": "none", "split": "word", "max_tokens": None}


def base_config(dataset: str, data_dir: str | None, steps: int, segments: int, threads: int, device: str) -> dict:
    """A small Transformer with separate word vocabularies, on the built-in corpus or Multi30k at 3,000 pairs."""
    if dataset == "multi30k":
        data = {"dataset": "multi30k", "data_dir": data_dir, "src_lang": "en", "tgt_lang": "de", "subset": 3000,
                "subset_mode": "first"}
    else:
        data = {"dataset": "builtin", "builtin": {"n_train": 3000, "n_val": 20, "n_test": 20, "seed": 1}}
    return {
        "name": "bench_inputs", "data": data,
        "vectorizer": {"shared": False, "src": dict(WORD), "tgt": dict(WORD)},
        "model": {"type": "transformer", "d_model": 128, "ff_size": 256, "heads": 4, "encoder_layers": 2,
                  "decoder_layers": 2, "dropout": 0.1},
        "training": {"max_steps": steps, "valid_every": max(1, steps // segments), "valid_max_sentences": 2,
                     "batch_tokens": 2048, "lr": 0.001, "warmup_steps": 10, "threads": threads, "device": device,
                     "resume": False, "seed": 1},
        "decoding": {"beam_size": 1, "batch_size": 16},
    }


def variants(spm_tokens: int) -> dict[str, tuple[dict, dict]]:
    """name -> (variant overrides, baseline overrides). Add a row here when a new input lands."""
    def src_input(**kw: Any) -> dict:
        return {"embeddings": {"src": kw}}

    spm = {"split": "sentencepiece", "max_tokens": spm_tokens}
    unigram = {"vectorizer": {"src": {**spm, "sentencepiece_model_type": "unigram"}}}
    bpe = {"vectorizer": {"src": {**spm, "sentencepiece_model_type": "bpe"}}}
    byte = {"vectorizer": {"src": {"split": "byte", "max_tokens": None}}}
    return {
        "one_hot": (src_input(input="one_hot"), {}),
        "tfidf_bag": (src_input(input="bag"), {}),
        "tfidf_token_features": (src_input(input="token_features"), {}),
        "tfidf_sentence_vector": (src_input(input="sentence_vector"), {}),
        "tfidf_bag_learned_idf": (src_input(input="bag", idf="learned"), {}),
        "tfidf_token_features_learned_idf": (src_input(input="token_features", idf="learned"), {}),
        "tfidf_sentence_vector_learned_idf": (src_input(input="sentence_vector", idf="learned"), {}),
        "char_ngrams": (src_input(input="char_ngrams"), {}),
        "gbst_byte": (merge(byte, src_input(input="gbst")), byte),
        "unigram_sampling": (merge(unigram, {"vectorizer": {"src": {"sampling_alpha": 0.1}}}), unigram),
        "bpe_dropout": (merge(bpe, {"vectorizer": {"src": {"sampling_alpha": 0.1}}}), bpe),
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def tokens_per_s(cfg: dict) -> dict[str, Any]:
    """Train one config in a fresh folder; its tokens/s (median over the segments after the first)."""
    with tempfile.TemporaryDirectory(prefix="bench_inputs_") as tmp:
        before = load()
        result = train(config_from_dict(cfg), Path(tmp) / "m", progress=False, evaluate_test=False,
                       log=lambda *a, **k: None)
    rates = [h["tokens_per_s"] for h in result.history if h.get("tokens_per_s")]
    kept = rates[1:] if len(rates) > 1 else rates
    return {"tokens_per_s": statistics.median(kept) if kept else None, "segments": rates,
            "load_before": before, "load_after": load()}


def bench_variant(base: dict, over: dict, base_over: dict, repeats: int) -> dict[str, Any]:
    """A B A B ...: the baseline and the variant alternately, ``repeats`` times each."""
    cfgs = {"baseline": merge(base, base_over), "variant": merge(base, over)}
    try:
        for cfg in cfgs.values():
            config_from_dict(cfg)  # validate both before spending time on either
    except VectorseqError as e:
        return {"status": "unavailable", "reason": str(e)}
    runs: dict[str, list] = {"baseline": [], "variant": []}
    try:
        for _ in range(repeats):
            for name, cfg in cfgs.items():
                runs[name].append(tokens_per_s(cfg))
    except VectorseqError as e:
        return {"status": "failed", "reason": str(e), "runs": runs}
    med = {k: statistics.median(r["tokens_per_s"] for r in v) for k, v in runs.items()}
    return {"status": "ok", "baseline_tokens_per_s": round(med["baseline"], 1),
            "variant_tokens_per_s": round(med["variant"], 1),
            "ratio": round(med["variant"] / med["baseline"], 3), "runs": runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", choices=["builtin", "multi30k"], default="builtin")
    ap.add_argument("--data-dir", default=os.environ.get("VECTORSEQ_MULTI30K"), help="multi30k: its folder")
    ap.add_argument("--steps", type=int, default=60, help="updates per run")
    ap.add_argument("--segments", type=int, default=3, help="validations per run (tokens/s is logged at each)")
    ap.add_argument("--repeats", type=int, default=2, help="A B pairs per variant")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--only", default="", help="comma-separated variant names (default: all)")
    a = ap.parse_args()
    base = base_config(a.dataset, a.data_dir, a.steps, a.segments, a.threads, a.device)
    table = variants(8000 if a.dataset == "multi30k" else 120)
    wanted = [n for n in a.only.split(",") if n] or list(table)
    unknown = [n for n in wanted if n not in table]
    if unknown:
        raise SystemExit(f"--only: unknown variant(s) {', '.join(unknown)}; known: {', '.join(table)}")
    torch.set_num_threads(a.threads)
    report: dict[str, Any] = {
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "threads": a.threads, "device": a.device,
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                    "python": platform.python_version(), "torch": torch.__version__, "load_start": load()},
        "setup": {"dataset": a.dataset, "steps": a.steps, "segments": a.segments, "repeats": a.repeats,
                  "model": base["model"], "batch_tokens": base["training"]["batch_tokens"]},
        "variants": {},
    }
    t0 = time.time()
    for name in wanted:
        report["variants"][name] = bench_variant(base, *table[name], a.repeats)
    report["machine"]["load_end"], report["wall_s"] = load(), round(time.time() - t0, 1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
