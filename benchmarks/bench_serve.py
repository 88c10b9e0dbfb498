"""Benchmark: `vectorseq serve` under load on loopback, cross-request batching on vs off, both engines.

What is measured
----------------
* The model: ``--model-dir`` (a vectorseq Transformer model folder; benchmarks/serve_model.yaml trains the
  small Multi30k one used for RESULTS.md) and its CTranslate2 export (``--ct2-dir``; exported into
  ``--work-dir`` when not given), served with ``--compute-type`` (default int8).
* The load: the first ``--sentences`` source sentences of Multi30k ``test_2016_flickr`` (``--multi30k-dir``),
  one sentence per request, sent by ``C`` concurrent clients (``--concurrency``, default 1,8,32) that each
  send their next request as soon as the previous one is answered (closed loop). Each setting is bounded:
  ``--requests`` requests (default 96) or ``--max-seconds`` (default 60), whichever comes first.
* The server: ``vectorseq serve`` in a subprocess on 127.0.0.1 with ``--threads`` decode threads (default 1),
  once with batching (``--max-wait-ms``, default 5) and once with ``--no-batching`` (each request decoded
  alone: per-request batching only, what OpenNMT-py's and Marian's servers do). Beam ``--beam`` (default 4).
  One warm-up round of ``C`` requests is not counted.
* The client: hand-written keep-alive HTTP/1.1 over asyncio streams, one connection per client (httpx
  spends milliseconds of CPU per request, taken from the server on 2 cores).
* Reported per setting: requests/s, sentences/s, latency p50/p95/p99 (ms, client side, HTTP included),
  batches decoded (the server's /health) and errors; at the end, per engine, how many times more
  sentences/s batching gives at the highest concurrency.

The client runs on the same machine, so it takes some of the CPU the server would have.

    nice python3 benchmarks/bench_serve.py --model-dir runs/bench_serve_m30k --threads 1

Output: one JSON line per setting and one summary line. Nothing is written to RESULTS.md.
"""
from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def sentences(multi30k: Path, n: int) -> list[str]:
    with gzip.open(multi30k / "test_2016_flickr.en.gz", "rt", encoding="utf-8") as f:
        return [line.strip() for line, _ in zip(f, range(n))]


def start_server(model_dir: Path, args: argparse.Namespace, engine: str, batching: bool, log: Path):
    from _serve import Server  # the tests' helper: a subprocess on a free port, ready when /health answers

    extra = ["--engine", engine, "--max-wait-ms", str(args.max_wait_ms), "--max-texts", "64"]
    if engine == "ctranslate2":
        extra += ["--compute-type", args.compute_type]
    if not batching:
        extra.append("--no-batching")
    return Server([model_dir], log, *extra, "--threads", str(args.threads))  # the last --threads wins


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> int:
    """One keep-alive HTTP/1.1 POST /translate on an open connection; returns the status. A hand-written
    client: httpx spends milliseconds of CPU per request, which on 2 cores would be taken from the server."""
    writer.write(b"POST /translate HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    length = next(int(h.split(":", 1)[1]) for h in head if h.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return int(head[0].split()[1])


async def load(url: str, texts: list[str], concurrency: int, n_requests: int, max_seconds: float,
               beam: int) -> tuple[list[float], int, float]:
    """Closed-loop load: ``concurrency`` clients, ``n_requests`` in all (or until ``max_seconds``).
    Returns the latencies (s), the error count and the wall time."""
    host, port = url.rsplit("//", 1)[1].split(":")
    latencies: list[float] = []
    errors = 0
    counter = iter(range(n_requests))
    bodies = [json.dumps({"texts": [t], "beam": beam}).encode() for t in texts]
    start = time.perf_counter()

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        for i in counter:
            if time.perf_counter() - start > max_seconds:
                break
            t0 = time.perf_counter()
            status = await _post(reader, writer, bodies[i % len(bodies)])
            latencies.append(time.perf_counter() - t0)
            errors += status != 200
        writer.close()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - start


def run_setting(server, texts: list[str], concurrency: int, args: argparse.Namespace) -> dict:
    asyncio.run(load(server.url, texts[::7], concurrency, concurrency, 60, args.beam))  # warm-up
    before = httpx.get(server.url + "/health").json()["batches"]
    lat, errors, wall = asyncio.run(load(server.url, texts, concurrency, args.requests, args.max_seconds,
                                         args.beam))
    batches = httpx.get(server.url + "/health").json()["batches"] - before
    ms = np.array(lat) * 1000
    return {"concurrency": concurrency, "requests": len(lat), "sentences": len(lat), "errors": errors,
            "wall_s": round(wall, 2), "req_per_s": round(len(lat) / wall, 2), "sent_per_s": round(len(lat) / wall, 2),
            "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1), "batches": batches}


def ct2_dir(args: argparse.Namespace, work: Path) -> Path:
    if args.ct2_dir:
        return Path(args.ct2_dir)
    from vectorseq.export import export_model
    out = work / "ct2"
    if not (out / "model.bin").is_file():
        export_model(args.model_dir, out)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", required=True)
    p.add_argument("--ct2-dir")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "vectorseq-bench-serve"))
    p.add_argument("--multi30k-dir", default=os.environ.get("VECTORSEQ_MULTI30K", str(ROOT.parent / "shared/data/multi30k")))
    p.add_argument("--sentences", type=int, default=500)
    p.add_argument("--concurrency", default="1,8,32")
    p.add_argument("--requests", type=int, default=96)
    p.add_argument("--max-seconds", type=float, default=60.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-wait-ms", type=float, default=5.0)
    p.add_argument("--beam", type=int, default=4)
    p.add_argument("--compute-type", default="int8")
    p.add_argument("--engines", default="pytorch,ctranslate2")
    args = p.parse_args()
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    texts = sentences(Path(args.multi30k_dir), args.sentences)
    levels = [int(c) for c in args.concurrency.split(",")]
    best: dict[tuple[str, bool], float] = {}
    for engine in args.engines.split(","):
        model = Path(args.model_dir) if engine == "pytorch" else ct2_dir(args, work)
        for batching in (True, False):
            server = start_server(model, args, engine, batching, work / f"{engine}-{batching}.log")
            try:
                for c in levels:
                    row = {"engine": engine, "batching": batching, "threads": args.threads, "beam": args.beam,
                           **run_setting(server, texts, c, args)}
                    print(json.dumps(row), flush=True)
                    if c == max(levels):
                        best[(engine, batching)] = row["sent_per_s"]
            finally:
                server.stop()
    summary = {e: round(best[(e, True)] / best[(e, False)], 2) for e in args.engines.split(",")}
    print(json.dumps({"batching_speedup_at_max_concurrency": summary, "concurrency": max(levels)}), flush=True)


if __name__ == "__main__":
    main()
