"""Beam-search decoding speed of a trained model folder, and the same against another checkout (A/B).

    python benchmarks/bench_decode.py MODEL_DIR [--threads 1]
    python benchmarks/bench_decode.py MODEL_DIR --ab OLD_TREE --repeats 3   # alternate OLD and this tree

One measurement (``Translator.translate``: encoding, search, detokenization): beam 5 at batch 1 over the
first ``--batch1`` (100) test_2016_flickr sentences, and at batch 32 over all 1,000; sentences/s, and a
SHA-256 of the outputs so that A/B runs show whether the outputs are unchanged. With ``--ab`` the two trees
run in alternating child processes, each importing ``vectorseq`` from its own tree.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _ab import alternate  # noqa: E402


def measure(model_dir: str, threads: int, n1: int, data_dir: str | None) -> dict:
    import torch

    from vectorseq.data.multi30k import load_multi30k, multi30k_default_dir
    from vectorseq.translator import Translator

    torch.set_num_threads(threads)
    tr = Translator.load(model_dir)
    test = load_multi30k("test_2016_flickr", data_dir=data_dir or multi30k_default_dir())
    src = list(test.src)
    tr.translate(src[:8], beam=5, batch_size=1)  # warm-up
    out = {"threads": threads}
    for name, texts, bs in (("batch1", src[:n1], 1), ("batch32", src, 32)):
        t0 = time.perf_counter()
        hyps = tr.translate(texts, beam=5, batch_size=bs)
        dt = time.perf_counter() - t0
        out[name] = {"sentences": len(texts), "seconds": round(dt, 3), "sentences_per_s": round(len(texts) / dt, 2),
                     "sha256": hashlib.sha256("\n".join(hyps).encode()).hexdigest()[:16]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch1", type=int, default=100)
    ap.add_argument("--data-dir")
    ap.add_argument("--ab", help="another checkout to alternate with this one")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    if not a.ab:
        print(json.dumps(measure(a.model_dir, a.threads, a.batch1, a.data_dir)))
        return
    trees = {"old": Path(a.ab).resolve(), "new": HERE.parent}
    runs, load = alternate(trees, Path(__file__).resolve(), [a.model_dir, "--threads", str(a.threads), "--batch1", str(a.batch1)] + (["--data-dir", a.data_dir] if a.data_dir else []), a.threads, a.repeats)
    med = {k: {b: statistics.median(r[b]["sentences_per_s"] for r in v) for b in ("batch1", "batch32")}
           for k, v in runs.items()}
    same = {b: len({r[b]["sha256"] for v in runs.values() for r in v}) == 1 for b in ("batch1", "batch32")}
    print(json.dumps({"benchmark": "bench_decode --ab", "model_dir": a.model_dir, "threads": a.threads,
                      "repeats": a.repeats, "old_tree": str(trees["old"]), "loadavg_before_each": load,
                      "median_sentences_per_s": med, "identical_outputs": same,
                      "speedup": {b: round(med["new"][b] / med["old"][b], 3) for b in ("batch1", "batch32")},
                      "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
