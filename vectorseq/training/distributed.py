"""Distributed training (torchrun/DDP): joining the process group and the few collectives the trainer needs.

Every rank runs the same loop on its own slice of the batches and DDP averages the gradients; only rank 0
validates and writes files. Decisions that depend on a rank's own view (out of data, out of time) are taken
together through :meth:`Dist.any_rank`, so no rank waits in a collective that another has left.
"""
from __future__ import annotations

import atexit
import gc
import logging
import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

import torch


@dataclass
class Dist:
    """This process's place in the job; a single process is ``Dist()`` and every collective is a no-op."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        if self.world == 1:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def all_sum(self, values: list[float]) -> list[float]:
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64)
        torch.distributed.all_reduce(t)
        return t.tolist()

    def any_rank(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any rank."""
        if self.world == 1:
            return flag
        return self.all_sum([float(flag)])[0] > 0

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """The model the update step calls: DDP around ``model`` when there are several processes."""
        if self.world == 1:
            return model
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                                         else None)


#: whether setup_distributed joined the process group itself (under torchrun), rather than find a caller's
_joined = False


def setup_distributed(device: torch.device, timeout_s: float = 600.0) -> Dist:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1)."""
    global _joined
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        torch.distributed.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
        atexit.register(leave_group)  # the group we joined is ours to leave (a caller's group is the caller's)
        _joined = True
    return Dist(torch.distributed.get_rank(), torch.distributed.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))


def leave_group() -> None:
    """Leave the process group at exit, while the interpreter is still whole. Without it gloo's worker threads are
    torn down during interpreter finalization and a rank can die with SIGABRT ("terminate called without an
    active exception") after training has finished, and torchrun reports the job failed. Not at the end of
    ``train()``: the DDP wrapper still holds the group there, and destroying it under DDP aborts the same way;
    by exit the wrappers are gone (collected first, in case a reference cycle holds one)."""
    gc.collect()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def joined_group() -> bool:
    """True in a torchrun worker whose process group vectorseq joined (and so may end the process)."""
    return _joined and torch.distributed.is_initialized()


def process_rank() -> int:
    """This process's rank in the process group; 0 outside one."""
    return torch.distributed.get_rank() if torch.distributed.is_initialized() else 0


def exit_worker(code: int = 0) -> NoReturn:
    """End a torchrun worker whose work is done (the final barrier passed, every file written and closed) without
    interpreter finalization. Leaving the group at exit (:func:`leave_group`) made the rank's SIGABRT at exit
    rare, not impossible: CI still saw "terminate called without an active exception" twice in one run under
    load, the mark of a C++ thread that wants the GIL while the interpreter is being torn down. A worker has
    nothing left to finalize (the kernel releases the folder lock and closes the sockets), so it leaves the
    group, flushes what it printed and exits at once. Only the CLI calls this: a Python caller keeps its
    process."""
    leave_group()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # why: skips finalization, where the abort happens; nothing unwritten is lost (flushed above)


def rank_device(dist: Dist, device: torch.device) -> torch.device:
    """Each rank's own GPU (LOCAL_RANK) when several processes share a machine's GPUs."""
    if dist.world > 1 and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
        torch.cuda.set_device(device)
    return device
