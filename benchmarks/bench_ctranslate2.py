"""Benchmark: decoding speed and quality of PyTorch vs CTranslate2 (float32 and int8) on one model.

What is measured
----------------
* The model: ``--model-dir`` (a vectorseq Transformer model folder), or, without it, a small model
  trained here on the built-in corpus from ``configs/demo.yaml`` (``--train-steps``, default 600, into
  ``--work-dir``; reused when it is already there).
* The test set: the model config's test split (the built-in corpus for the default model), or with
  ``--multi30k`` the Multi30k ``test_2016_flickr`` split from ``--multi30k-dir`` (default
  ``../shared/data/multi30k`` next to the repository), languages from the model's config
  (``data.src_lang``/``data.tgt_lang``, else en-de). ``--limit N`` keeps the first N sentences.
* The engines: ``pytorch`` (``Translator.translate``), ``ctranslate2-fp32`` (an export with float32
  weights, ``compute_type=default``) and ``ctranslate2-int8`` (an export quantized to int8 at conversion,
  ``quantization="int8"``). All use the same number of threads (``--threads``, default: torch's), beam 5
  (``--beam``) and the config's length penalty alpha (note: vectorseq's GNMT ``((5+len)/6)**alpha`` vs
  CTranslate2's ``len**alpha``, so beam outputs may differ slightly).
* Speed: sentences per second, one warm-up pass on a few sentences first, then the whole set with batch
  size 32 (``sent_per_s_b32``) and the first ``--batch1-limit`` sentences (default 200) one at a time
  (``sent_per_s_b1``); wall time of ``translate`` only (vectorization and detokenization included).
* Quality: sacreBLEU BLEU / chrF of the batch-32 beam outputs, and how many outputs are identical to
  PyTorch's (``identical_to_pytorch``, beam ``--beam``) and, with greedy search on both sides
  (``identical_to_pytorch_greedy``; the export is meant to give exactly PyTorch's greedy outputs, except
  for sources without content, where CTranslate2 returns "" without running the model).

Output: one JSON line per engine. Nothing is written to RESULTS.md.

    python3 benchmarks/bench_ctranslate2.py --model-dir runs/multi30k --multi30k --threads 2
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def default_model(work_dir: Path, steps: int) -> Path:
    """Train (once) a small Transformer on the built-in corpus, following configs/demo.yaml."""
    out = work_dir / "builtin-model"
    if (out / "model.safetensors").is_file() and (out / "config.yaml").is_file():
        return out
    from vectorseq.config import load_config
    from vectorseq.training import train

    cfg = load_config(ROOT / "configs" / "demo.yaml",
                      [f"training.max_steps={steps}", "training.max_minutes=null", f"training.valid_every={steps}"])
    print(f"# training a default model ({steps} steps) into {out}", file=sys.stderr)
    train(cfg, out, progress=False, log=lambda *a, **k: None)
    return out


def test_set(model_dir: Path, args: argparse.Namespace) -> tuple[list[str], list[str], str]:
    from vectorseq.config import load_config

    cfg = load_config(model_dir / "config.yaml")
    if args.multi30k:
        from vectorseq.data.multi30k import load_multi30k

        src_lang = cfg.data.src_lang if cfg.data.dataset == "multi30k" else "en"
        tgt_lang = cfg.data.tgt_lang if cfg.data.dataset == "multi30k" else "de"
        c = load_multi30k("test_2016_flickr", src_lang, tgt_lang, data_dir=args.multi30k_dir, download=False)
        name = f"multi30k test_2016_flickr {src_lang}-{tgt_lang}"
    else:
        from vectorseq.data.splits import load_splits

        c = load_splits(cfg.data, seed=cfg.training.seed)["test"]
        if c is None:
            raise SystemExit(f"{model_dir}: the config's data has no test split; use --multi30k")
        name = f"{cfg.data.dataset} test"
    src, ref = list(c.src), list(c.tgt)
    if args.limit:
        src, ref = src[: args.limit], ref[: args.limit]
    return src, ref, name


def timed(fn, *a, **kw) -> tuple[list, float]:
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t0


def run_engine(name: str, tr, src: list[str], ref: list[str], args: argparse.Namespace,
               pt_beam: list[str] | None, pt_greedy: list[str] | None) -> tuple[dict, list[str], list[str]]:
    from vectorseq.evaluation import score

    tr.translate(src[:8], beam=args.beam, batch_size=8)  # warm-up (allocators, thread pools, caches)
    hyps, dt32 = timed(tr.translate, src, beam=args.beam, batch_size=32)
    n1 = min(len(src), args.batch1_limit)
    _, dt1 = timed(tr.translate, src[:n1], beam=args.beam, batch_size=1)
    s = score(hyps, ref)
    rec = {
        "engine": name, "sentences": len(src), "beam": args.beam, "threads": args.threads,
        "sent_per_s_b32": round(len(src) / dt32, 1), "sent_per_s_b1": round(n1 / dt1, 1), "b1_sentences": n1,
        "bleu": s["bleu"], "chrf": s["chrf"], "bleu_lc": s["bleu_lc"],
    }
    if pt_beam is not None:
        rec["identical_to_pytorch"] = sum(a == b for a, b in zip(hyps, pt_beam))
    greedy = tr.translate(src, beam=1, batch_size=32)
    if pt_greedy is not None:
        rec["identical_to_pytorch_greedy"] = sum(a == b for a, b in zip(greedy, pt_greedy))
    return rec, hyps, greedy


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", help="a vectorseq Transformer model folder (default: train a small one)")
    p.add_argument("--work-dir", default=str(Path(tempfile.gettempdir()) / "vectorseq-bench-ct2"),
                   help="where the default model and the exports go")
    p.add_argument("--train-steps", type=int, default=600)
    p.add_argument("--multi30k", action="store_true", help="use Multi30k test_2016_flickr as the test set")
    p.add_argument("--multi30k-dir", default=str(ROOT.parent / "shared" / "data" / "multi30k"))
    p.add_argument("--limit", type=int, help="use only the first N test sentences")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--batch1-limit", type=int, default=200, help="sentences timed one at a time")
    p.add_argument("--threads", type=int, help="threads for PyTorch and CTranslate2 (default: torch's)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--engines", default="pytorch,ctranslate2-fp32,ctranslate2-int8")
    args = p.parse_args(argv)

    import torch

    from vectorseq.export import CT2Translator
    from vectorseq.export import export_model
    from vectorseq.translator import Translator

    args.threads = args.threads or torch.get_num_threads()
    torch.set_num_threads(args.threads)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    model_dir = Path(args.model_dir) if args.model_dir else default_model(work, args.train_steps)
    src, ref, set_name = test_set(model_dir, args)
    print(f"# model {model_dir}, {set_name}: {len(src)} sentences, {args.threads} threads, device {args.device}",
          file=sys.stderr)

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    pt_beam = pt_greedy = None
    tag = model_dir.resolve().name
    for name in engines:
        if name == "pytorch":
            tr = Translator.load(model_dir, device=args.device)
            extra = {"model_params": tr.model.num_parameters()}
        elif name in ("ctranslate2-fp32", "ctranslate2-int8"):
            quant = "int8" if name.endswith("int8") else None
            t0 = time.perf_counter()
            exp = export_model(model_dir, work / f"{tag}-{name}", quantization=quant)
            export_s = time.perf_counter() - t0
            compute = "default" if args.device == "cpu" or quant is None else "int8_float16"
            tr = CT2Translator.load(exp, device=args.device, compute_type=compute, intra_threads=args.threads)
            extra = {"export_s": round(export_s, 2), "model_bin_mb": round((exp / "model.bin").stat().st_size / 1e6, 2),
                     "compute_type": compute}
        else:
            raise SystemExit(f"unknown engine {name!r}")
        rec, hyps, greedy = run_engine(name, tr, src, ref, args, pt_beam, pt_greedy)
        if name == "pytorch":
            pt_beam, pt_greedy = hyps, greedy
        print(json.dumps({**rec, **extra, "test_set": set_name, "model_dir": str(model_dir)}), flush=True)


if __name__ == "__main__":
    main()
