"""Several runs of a grid at once (``vectorseq compare --workers N``): one single-thread process per run.

On a CPU, N runs side by side on N cores, each on one thread, get more done than one run after another on
all cores (small models do not scale across threads). Each worker is a fresh process (``spawn``: forking a
process whose torch thread pools have started can deadlock) that trains and scores one run with torch limited
to one thread (a config's own ``training.threads`` still wins) and sends back the run's record. Only the
parent writes ``results.jsonl``, one line as each run finishes, so an interrupted grid resumes exactly as a
sequential one does: finished runs are skipped, unfinished ones continue from their checkpoints. A worker
that dies (killed, out of memory) gives its run a ``failed`` record and the other runs go on.

Training is seeded by each run's config, not by what the process did before, so a run gives the same result
in a worker as in the sequential loop with the same number of threads.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from datetime import datetime, timezone
from typing import Any, Callable

import torch

from .results import new_record

Record = dict[str, Any]


def _work(execute: Callable[..., Record], exp: Any, run: Any, cfg: Any, subset: dict[str, Any]) -> Record:
    """In the worker: one thread, no progress bars, one run."""
    torch.set_num_threads(1)
    return execute(exp, run, cfg, subset, exp.output_dir, False, lambda *a, **k: None)


def _died(exp: Any, run: Any, cfg_hash: str, n_train: int, error: BaseException) -> Record:
    rec = new_record(exp.name, run, n_train, cfg_hash)
    rec.update({"status": "failed", "error": f"worker process died: {type(error).__name__}: {error}",
                "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return rec


def run_in_workers(exp: Any, todo: list[tuple[int, Any, Any, dict]], workers: int, log: Callable,
                   on_record: Callable[[Record], Any], execute: Callable[..., Record],
                   config_hash: Callable[[Any], str]) -> None:
    """Run ``todo`` (index, run, config, data) in ``workers`` processes; ``on_record`` gets each record."""
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {pool.submit(_work, execute, exp, run, cfg, subset): (i, run, cfg, subset)
                   for i, run, cfg, subset in todo}
        log(f"{len(todo)} runs in {workers} worker processes")
        for fut in cf.as_completed(futures):
            i, run, cfg, subset = futures[fut]
            log(f"[{i}/{len(exp.runs())}] {run.strategy}, {len(subset['train'])} pairs, seed {run.seed}")
            try:
                rec = fut.result()
            except Exception as e:  # the worker died (BrokenProcessPool) or could not send its result
                rec = _died(exp, run, config_hash(cfg), len(subset["train"]), e)
            on_record(rec)
