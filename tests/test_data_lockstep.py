"""Tests for vectorseq/data/lockstep.py: every DDP rank stops at the same update."""
from __future__ import annotations

import threading

from vectorseq.data.lockstep import lockstep


def test_lockstep_stops_every_rank_at_the_same_update():
    lengths = {0: 11, 1: 7}  # rank 1 runs out first
    acc = 2
    barrier = threading.Barrier(2)
    flags: dict[int, bool] = {}
    results: dict[int, list] = {}

    def all_reduce_any(rank: int, flag: bool) -> bool:
        flags[rank] = flag
        barrier.wait()
        out = any(flags.values())
        barrier.wait()
        return out

    def run(rank: int) -> None:
        results[rank] = list(lockstep(iter(range(lengths[rank])), acc, lambda f: all_reduce_any(rank, f)))

    threads = [threading.Thread(target=run, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(results[0]) == len(results[1]) == 7 // acc == 3
    assert results[0][0] == [0, 1] and all(len(g) == acc for g in results[0])
    # single process: stops when its own batches end, dropping a partial update
    assert list(lockstep(range(5), 2)) == [[0, 1], [2, 3]]
