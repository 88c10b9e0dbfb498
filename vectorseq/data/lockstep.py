"""Keeping DDP ranks in step when each reads its own stream of batches.

**Ranks may get different numbers of batches** (the shards of a streamed corpus differ in sentence
lengths and the count is only known after encoding). A DDP rank that runs out while the others still step
would hang their gradient all-reduce, so the trainer must agree on when to stop: :func:`lockstep` groups a
rank's batches into updates of ``accumulate`` batches and, before each update, all-reduces "has any rank
run out?"; every rank stops at the same update. The batches the other ranks still had at that point (the
difference between shard sizes, plus a partial update) are not used in that epoch, as the in-memory path
drops the remainder of ``len(batches) // (world * accumulate)``; they are the last batches of the last
window, which a new epoch's shuffle makes different ones.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from vectorseq.data.options import check_int

__all__ = ["lockstep"]

T = TypeVar("T")


def lockstep(batches: Iterable[T], accumulate: int = 1,
             any_exhausted: Callable[[bool], bool] | None = None) -> Iterator[list[T]]:
    """Group a rank's batches into updates of ``accumulate`` batches; stop all ranks at the same update.

    Before each update every rank calls ``any_exhausted(flag)``, where ``flag`` says that this rank
    could not fill the update; it must return the logical OR over all ranks (a collective, e.g. an
    all-reduce: ``Dist.any_rank`` of :mod:`vectorseq.training.distributed`, passed in by
    :mod:`vectorseq.data.batch_source`). Every rank calls it the same number of times and stops at the same update, so DDP's gradient all-reduce never waits for
    a rank that has run out. ``any_exhausted=None`` is the single-process case (stop when this rank's
    batches end). A partial last update is dropped.
    """
    acc = check_int("accumulate", accumulate, 1)
    agree = any_exhausted if any_exhausted is not None else (lambda flag: flag)
    it = iter(batches)
    while True:
        group: list[T] = []
        for batch in it:
            group.append(batch)
            if len(group) == acc:
                break
        if agree(len(group) < acc):
            return
        yield group
