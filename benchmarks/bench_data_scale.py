"""Benchmark: time and peak memory of the data path as the corpus grows -- streaming vs in memory.

What is measured
----------------
Corpora of 1x, 4x and 16x the Multi30k en-de training set (29,000 pairs; ``$VECTORSEQ_MULTI30K``,
default ``/work/shared/data/multi30k``), plus a 1,000,000-pair point (34.5x, the first 1M pairs of the
repeated corpus), written as gzip (``train.en.gz`` / ``train.de.gz``) into a temporary directory
outside the repository (``$VECTORSEQ_BENCH_DIR``, default: a fresh ``tempfile.mkdtemp()``, removed at
the end unless ``--keep``). For each corpus, each in a fresh subprocess:

``adapt_word``
    ``TextVectorizer(split="word", max_tokens=32000).adapt(stream)`` over both sides, streamed from the
    gzip files with ``read_monolingual``.
``adapt_sp_sample``
    ``sample_lines([src, tgt], 200_000)`` (reservoir sampling, one pass) then SentencePiece (BPE,
    ``max_tokens=8000``) trained on the sample (skipped for the 1M point: same sample size, same cost).
``streaming``
    ``StreamingBatches(src, tgt, vec, vec, batch_tokens=4096, window=100_000)``: read, validate, encode
    and cut every batch of the corpus (batches and tokens counted; ``peak_held`` reported).
``in_memory``
    What the trainer does today: ``read_parallel`` (all text in memory), ``encode_many`` into id arrays,
    ``make_batches`` and ``collate`` of every batch.

``vec`` for the last two is a word vectorizer (max_tokens 32000, one vocabulary for both sides)
adapted on the 1x corpus during preparation and loaded by the child before the measurement starts.
The repeated corpora have the same vocabulary as 1x, so ``adapt_word`` measures the cost of the
stream, not vocabulary growth (a real corpus of 1M pairs would have a larger counter).

Time is the wall time of the work only (imports and the vectorizer load excluded); ``cpu_s`` is the
child's user + system CPU time over the same span, steadier than wall time on a shared machine. Peak memory is the
child's ``ru_maxrss`` minus that of a baseline child with the same imports that does no work (median of
two). As in ``bench_pretrained_loading.py``, every child resets the kernel's peak-RSS mark after its
imports (``echo 5 > /proc/self/clear_refs``) and also reports ``hwm_growth_mb`` = peak RSS after the
reset minus RSS at the reset; the preparation runs in its own subprocess so the parent stays small
(a child inherits its parent's ``ru_maxrss`` at fork).

Output: one JSON line per measurement on stdout, then a Markdown table on stderr.

    nice -n 10 python3 benchmarks/bench_data_scale.py [--scales 1,4,16,1M] [--tasks ...] [--keep]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MULTI30K_PAIRS = 29_000
TASKS = ("adapt_word", "adapt_sp_sample", "streaming", "in_memory")
BATCH_TOKENS = 4096
WINDOW = 100_000
SP_SAMPLE = 200_000


def multi30k_dir() -> Path:
    return Path(os.environ.get("VECTORSEQ_MULTI30K", "/work/shared/data/multi30k"))


def scale_pairs(scale: str) -> int:
    """``"4"`` -> 4 x 29,000 pairs; ``"1M"`` -> 1,000,000 pairs."""
    s = scale.strip().upper()
    if s.endswith("M"):
        return int(float(s[:-1]) * 1_000_000)
    return int(float(s) * MULTI30K_PAIRS)


# ------------------------------------------------------------------------------------------ prepare
def prepare(work: Path, sizes: list[int]) -> None:
    """Write the repeated corpora (gzip) and the 1x word vectorizer. Runs in its own subprocess."""
    from vectorseq.data.parallel import read_parallel
    from vectorseq.vectorizer import TextVectorizer

    d = multi30k_dir()
    base = read_parallel(d / "train.en.gz", d / "train.de.gz")
    assert len(base) == MULTI30K_PAIRS, len(base)
    vec = TextVectorizer(split="word", max_tokens=32000).adapt(base.src + base.tgt)
    vec.save(work / "vec")
    src_block = "".join(s + "\n" for s in base.src).encode()
    tgt_block = "".join(t + "\n" for t in base.tgt).encode()
    for n in sizes:
        folder = work / f"pairs_{n}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, block, lines in (("train.en.gz", src_block, base.src), ("train.de.gz", tgt_block, base.tgt)):
            with gzip.open(folder / name, "wb", compresslevel=6) as f:
                full, rest = divmod(n, MULTI30K_PAIRS)
                for _ in range(full):
                    f.write(block)
                f.write("".join(x + "\n" for x in lines[:rest]).encode())
    print(json.dumps({"prepared": [str(work / f"pairs_{n}") for n in sizes], "vocab": vec.vocabulary_size()}))


# ------------------------------------------------------------------------------------------- child
from _memory import reset_peak as _reset_peak, status_mb as _status_mb  # noqa: E402


def child(task: str, folder: Path, vec_dir: Path, baseline: bool) -> None:
    import itertools

    import numpy as np

    from vectorseq.data.batching import collate, make_batches
    from vectorseq.data.parallel import read_monolingual, read_parallel
    from vectorseq.data.streaming import StreamingBatches, adapt_on_sample, sample_lines  # noqa: F401
    from vectorseq.vectorizer import TextVectorizer
    import sentencepiece  # noqa: F401  (same imports in every child, baseline included)

    src, tgt = folder / "train.en.gz", folder / "train.de.gz"
    vec = TextVectorizer.load(vec_dir)
    result: dict = {"task": task, "baseline": baseline}
    rss_before = _reset_peak()
    if not baseline:
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        if task == "adapt_word":
            v = TextVectorizer(split="word", max_tokens=32000).adapt(
                itertools.chain(read_monolingual(src), read_monolingual(tgt)))
            result["vocab"] = v.vocabulary_size()
        elif task == "adapt_sp_sample":
            sample = sample_lines([src, tgt], SP_SAMPLE, seed=0)
            result["sample_s"] = round(time.perf_counter() - t0, 2)
            result["sample_lines"] = len(sample)
            v = TextVectorizer(split="sentencepiece", max_tokens=8000, sentencepiece_model_type="bpe",
                               seed=0).adapt(sample)
            result["vocab"] = v.vocabulary_size()
        elif task == "streaming":
            s = StreamingBatches(src, tgt, vec, vec, BATCH_TOKENS, window=WINDOW)
            n_batches = n_tokens = 0
            for b in s:
                n_batches += 1
                n_tokens += b.n_src_tokens + b.n_tgt_tokens
            result.update(batches=n_batches, tokens=n_tokens, pairs=s.stats["pairs"],
                          peak_held=s.stats["peak_held"], window=WINDOW)
        elif task == "in_memory":
            corpus = read_parallel(src, tgt, on_error="skip")
            src_ids = [np.asarray(x, dtype=np.int64) for x in vec.encode_many(corpus.src)]
            tgt_ids = [np.asarray(x, dtype=np.int64) for x in vec.encode_many(corpus.tgt)]
            src_lens = np.array([len(x) + 1 for x in src_ids])
            tgt_lens = np.array([len(x) + 1 for x in tgt_ids])
            batches = make_batches(src_lens, tgt_lens, BATCH_TOKENS, seed=0, epoch=0)
            n_tokens = 0
            for index in batches:
                b = collate(src_ids, tgt_ids, index)
                n_tokens += b.n_src_tokens + b.n_tgt_tokens
            result.update(batches=len(batches), tokens=n_tokens, pairs=len(corpus))
        else:
            raise SystemExit(f"unknown task {task}")
        result["seconds"] = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        result["cpu_s"] = round(ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime, 2)
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hwm = _status_mb("VmHWM")
    if rss_before is not None and hwm is not None:
        result["hwm_growth_mb"] = hwm - rss_before
    print(json.dumps(result))


def run_child(task: str, folder: Path, vec_dir: Path, baseline: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--child", task, "--folder", str(folder), "--vec", str(vec_dir)]
    if baseline:
        cmd.append("--baseline")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"child {task} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1,4,16,1M", help="multiples of Multi30k train, or 1M = 1,000,000 pairs")
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--keep", action="store_true", help="keep the temporary corpora")
    ap.add_argument("--child", choices=TASKS)
    ap.add_argument("--folder")
    ap.add_argument("--vec")
    ap.add_argument("--baseline", action="store_true")
    ap.add_argument("--prepare")
    ap.add_argument("--sizes")
    args = ap.parse_args()
    if args.child:
        child(args.child, Path(args.folder), Path(args.vec), args.baseline)
        return
    if args.prepare:
        prepare(Path(args.prepare), [int(x) for x in args.sizes.split(",")])
        return

    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    sizes = [scale_pairs(s) for s in scales]
    tasks = [t for t in args.tasks.split(",") if t]
    bench_root = os.environ.get("VECTORSEQ_BENCH_DIR")
    if bench_root:
        Path(bench_root).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="vectorseq-data-scale-", dir=bench_root))
    if ROOT in work.resolve().parents:
        raise SystemExit(f"refusing to write corpora inside the repository ({work})")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.time()
    prep = subprocess.run([sys.executable, __file__, "--prepare", str(work), "--sizes", ",".join(map(str, sizes))],
                          capture_output=True, text=True, env=env)
    if prep.returncode != 0:
        raise SystemExit(prep.stderr[-3000:])
    print(json.dumps({"work_dir": str(work), "prepare_s": round(time.time() - t0, 1),
                      "load_avg": os.getloadavg(), **json.loads(prep.stdout.strip().splitlines()[-1])}), flush=True)
    vec_dir = work / "vec"
    rows = []
    try:
        first = work / f"pairs_{sizes[0]}"
        base = statistics.median(run_child("streaming", first, vec_dir, baseline=True)["maxrss_mb"] for _ in range(2))
        print(json.dumps({"baseline_maxrss_mb": round(base, 1)}), flush=True)
        for scale, n in zip(scales, sizes):
            folder = work / f"pairs_{n}"
            gz_mb = sum((folder / f).stat().st_size for f in ("train.en.gz", "train.de.gz")) / 2**20
            for task in tasks:
                if task == "adapt_sp_sample" and scale.upper().endswith("M"):
                    continue
                r = run_child(task, folder, vec_dir)
                row = {"scale": scale, "pairs": n, "gzip_mb": round(gz_mb, 1), "task": task,
                       "seconds": round(r.pop("seconds"), 2),
                       "peak_mb": round(r["maxrss_mb"] - base, 1),
                       "hwm_growth_mb": round(r.pop("hwm_growth_mb", float("nan")), 1),
                       "baseline_mb": round(base, 1),
                       **{k: v for k, v in r.items() if k not in ("task", "baseline", "maxrss_mb")},
                       "load_avg_1m": round(os.getloadavg()[0], 2)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("\n| pairs | task | wall (s) | CPU (s) | peak RSS above baseline (MB) | HWM growth (MB) | notes |",
          file=sys.stderr)
    print("|---|---|---|---|---|---|---|", file=sys.stderr)
    for r in rows:
        notes = ", ".join(f"{k}={r[k]}" for k in ("vocab", "sample_lines", "batches", "tokens", "peak_held") if k in r)
        print(f"| {r['pairs']:,} ({r['pairs'] / MULTI30K_PAIRS:.3g}x) | {r['task']} | {r['seconds']} | "
              f"{r.get('cpu_s')} | {r['peak_mb']} | {r['hwm_growth_mb']} | {notes} |", file=sys.stderr)


if __name__ == "__main__":
    main()
