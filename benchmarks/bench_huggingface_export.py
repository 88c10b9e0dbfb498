"""Benchmark: how exactly the Hugging Face (MarianMT) export reproduces a Multi30k model, and what post-norm costs.

What is measured
----------------
* The models: two twins trained here from ``configs/multi30k_transformer_tiny.yaml`` (Transformer 4+4,
  d_model 128) on the first ``--pairs`` Multi30k En->De training pairs (default 3,000) for ``--steps`` updates
  (default 800), identical but for ``model.norm`` (``post``, which exports as MarianMT, and the default ``pre``);
  a SentencePiece BPE vocabulary of ``--vocab`` (default 2,000) suits the small corpus. Folders are reused when
  already trained (``--work-dir``). ``--model-dir`` takes an existing post-norm folder instead (no twin).
* Exactness (post-norm model vs its export loaded with ``AutoModelForSeq2SeqLM``/``AutoTokenizer``) on
  Multi30k ``test_2016_flickr`` (1,000 sentences; ``--limit N`` keeps the first N): greedy outputs identical
  token for token (each sentence with vectorseq's length limit), the largest |logit difference| with teacher
  forcing on the first 32 sentences and their references, beam-5 corpus BLEU (sacreBLEU) of vectorseq and of
  transformers' ``generate`` with the same length-penalty alpha (the two rank finished hypotheses differently:
  GNMT ``((5+len)/6)**alpha`` vs ``len**alpha``), and how many beam outputs are identical.
* Post-norm vs pre-norm: the best validation BLEU (greedy, 1,014 sentences) and the test BLEU/chrF (beam 5) that
  training wrote to each folder's metrics.json.

Output: one JSON object on stdout. Nothing is written to RESULTS.md.

    nice -n 10 python3 benchmarks/bench_huggingface_export.py --multi30k-dir ../shared/data/multi30k --threads 1

With ``--train-only post`` / ``--train-only pre`` the twins can be trained by two processes at once first.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def train_twin(args: argparse.Namespace, norm: str) -> Path:
    """Train (once) the post- or pre-norm twin into --work-dir/NORM."""
    from vectorseq.config import load_config
    from vectorseq.training import train

    out = Path(args.work_dir) / norm
    if (out / "metrics.json").is_file():
        return out
    overrides = [f"model.norm={norm}", f"data.data_dir={args.multi30k_dir}", f"data.subset={args.pairs}",
                 "data.subset_mode=first", f"vectorizer.src.max_tokens={args.vocab}",
                 f"training.max_steps={args.steps}", f"training.valid_every={args.steps // 2}",
                 "training.batch_tokens=2048", "training.warmup_steps=300", f"training.threads={args.threads}",
                 "training.device=cpu", f"name=multi30k_tiny_{norm}_{args.pairs}"]
    cfg = load_config(ROOT / "configs" / "multi30k_transformer_tiny.yaml", overrides)
    print(f"# training the {norm}-norm twin ({args.steps} updates, {args.pairs} pairs) into {out}", file=sys.stderr)
    train(cfg, out, progress=False, log=lambda *a, **k: None)
    return out


def summary(model_dir: Path) -> dict:
    """What training wrote to metrics.json, in brief."""
    m = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    best, test = m.get("best") or {}, m.get("test") or {}
    return {"updates": m.get("steps"), "train_minutes": m.get("train_minutes"), "parameters": m.get("parameters"),
            "valid_bleu_best_greedy": best.get("valid_bleu"), "test_bleu_beam5": test.get("bleu"),
            "test_chrf_beam5": test.get("chrf")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--multi30k-dir", default=str(ROOT.parent / "shared" / "data" / "multi30k"))
    p.add_argument("--work-dir", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "vectorseq-bench-hf"))
    p.add_argument("--model-dir", help="an existing post-norm model folder (skips training and the twin)")
    p.add_argument("--pairs", type=int, default=3000)
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--vocab", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--limit", type=int, default=None, help="first N test sentences (default all 1,000)")
    p.add_argument("--train-only", choices=["post", "pre"],
                   help="train that twin and exit (to train both at once in two processes, then compare)")
    args = p.parse_args()
    if args.train_only:
        train_twin(args, args.train_only)
        return

    import torch

    torch.set_num_threads(args.threads)
    from vectorseq.data import load_multi30k
    from vectorseq.export import export_model
    from vectorseq.export.hf_check import exactness, load_export
    from vectorseq.translator import Translator

    post = Path(args.model_dir) if args.model_dir else train_twin(args, "post")
    pre = None if args.model_dir else train_twin(args, "pre")
    test = load_multi30k("test_2016_flickr", "en", "de", data_dir=args.multi30k_dir, download=False)
    src, ref = test.src[: args.limit], test.tgt[: args.limit]

    t0 = time.time()
    export_dir = export_model(post, Path(args.work_dir) / "post-hf", format="huggingface")
    export_s = time.time() - t0
    import transformers

    hf, tok = load_export(export_dir)
    t0 = time.time()
    figures = exactness(Translator.load(post), hf, tok, src, ref, beam=5)
    result = {"transformers": transformers.__version__, "torch": torch.__version__, "threads": args.threads,
              "export_seconds": round(export_s, 1), "compare_seconds": round(time.time() - t0, 1),
              "exactness": figures, "post_norm": summary(post)}
    if pre is not None:
        result["pre_norm"] = summary(pre)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
