"""Batch sources: where the training loop gets its batches, through one door.

A :class:`BatchSource` is built once, before the first update, and then answers one question:
``updates(epoch, start, rank, world, accumulate)`` -- this rank's updates of one epoch, from update index
``start`` on, each a list of ``accumulate`` ready (collated, CPU) :class:`~vectorseq.data.batching.Batch`
objects. The loop never asks which kind of source it has (as nanoGPT's loop only calls ``get_batch``).

Two sources exist:

- :class:`InMemorySource` -- the encoded training set in memory. Each epoch is cut into token-budget
  batches bucketed by length (:func:`~vectorseq.data.batching.make_batches`, seeded by ``(seed, epoch)``),
  the same list on every process; rank ``r`` takes batches ``r, r + world, ...`` and one update consumes
  ``accumulate`` of them per rank, so ``world=2, accumulate=1`` sees the same batches per update as
  ``world=1, accumulate=2``. Updates that cannot be filled on every rank are dropped.
- :class:`StreamingSource` -- the training files read window by window
  (:class:`~vectorseq.data.streaming.StreamingDataset` through a DataLoader). Ranks stream disjoint shards
  and may run out at different updates, so before each update they agree through ``any_exhausted``
  (an all-reduce, see :func:`~vectorseq.data.streaming.lockstep`) and all stop together. Resuming
  mid-epoch replays the epoch's deterministic stream and skips the ``start`` updates already done (exact
  with the same number of processes and ``accumulate``: the shards depend on the world size).

Both raise the same one-line :class:`~vectorseq.errors.VectorseqError` when an epoch gives no complete
update. :func:`fixed_batches` gives the unshuffled batches of a held-out set (validation).

Where the next features plug in
-------------------------------
- **Subword sampling** (re-encoding each sentence differently every epoch): a source that keeps the raw
  text and, in ``updates``, encodes each sentence with a sampling seed derived from ``(seed, epoch,
  sentence index)`` before batching -- deterministic per epoch, so resume and DDP slices stay exact.
  ``InMemorySource`` already separates "ids of this epoch" from "batches of this epoch"; such a source
  overrides the first.
- **Multilingual temperature sampling** (mixing translation directions): a source that holds one source
  per direction and, per epoch, draws the order of directions from probabilities ``p_i ~ n_i^(1/T)`` with a
  generator seeded by ``(seed, epoch)``, yielding the chosen direction's updates; the loop stays unchanged.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from ..errors import VectorseqError
from .batching import Batch, collate, make_batches
from .streaming import StreamingDataset, lockstep


class BatchSource:
    """The interface the training loop uses (see the module docstring)."""

    #: how the training data is described in the trainer's first log line
    description: str = ""

    def updates(self, epoch: int, start: int, rank: int, world: int, accumulate: int) -> Iterator[list[Batch]]:
        """This rank's updates of ``epoch`` from update index ``start`` on, ``accumulate`` batches each."""
        raise NotImplementedError


def too_little_data(world: int, accumulate: int, batch_tokens: int) -> VectorseqError:
    """The one error of an epoch that gives no complete update."""
    return VectorseqError(f"too little training data for {world} process(es) x accumulate {accumulate} at "
                          f"batch_tokens={batch_tokens}; lower batch_tokens or the number of processes")


class InMemorySource(BatchSource):
    """Length-bucketed token-budget batches of an encoded training set held in memory."""

    def __init__(self, src_ids: Sequence[np.ndarray], tgt_ids: Sequence[np.ndarray], batch_tokens: int,
                 seed: int):
        self.src_ids, self.tgt_ids = src_ids, tgt_ids
        self.batch_tokens, self.seed = batch_tokens, seed
        # lengths with the EOS (source) / BOS (target) each side gets in a batch
        self.src_lens = np.array([len(s) + 1 for s in src_ids])
        self.tgt_lens = np.array([len(t) + 1 for t in tgt_ids])
        self.description = f"{len(src_ids):,}"

    def epoch_batches(self, epoch: int) -> list[np.ndarray]:
        """Every batch of ``epoch`` (index arrays), the same list on every process."""
        return make_batches(self.src_lens, self.tgt_lens, self.batch_tokens, seed=self.seed, epoch=epoch)

    def updates(self, epoch: int, start: int, rank: int, world: int, accumulate: int) -> Iterator[list[Batch]]:
        batches = self.epoch_batches(epoch)
        n_updates = len(batches) // (world * accumulate)
        if n_updates == 0:
            raise too_little_data(world, accumulate, self.batch_tokens)
        mine = batches[rank::world]
        for u in range(start, n_updates):
            yield [collate(self.src_ids, self.tgt_ids, index) for index in mine[u * accumulate: (u + 1) * accumulate]]


class StreamingSource(BatchSource):
    """Batches streamed from the training files, window by window, with ranks kept in lockstep.

    ``stream_args`` are :class:`~vectorseq.data.streaming.StreamingDataset`'s arguments except ``rank`` and
    ``world``; ``any_exhausted(flag)`` returns the OR of ``flag`` over all ranks (a collective).
    """

    def __init__(self, stream_args: dict[str, Any], *, num_workers: int = 0, pin_memory: bool = False,
                 any_exhausted: Callable[[bool], bool] | None = None, description: str = ""):
        self.stream_args = stream_args
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.any_exhausted = any_exhausted
        self.description = description
        self._datasets: dict[tuple[int, int], StreamingDataset] = {}
        self._dataset(0, 1)  # check the arguments and open the files now, not at the first update

    def _dataset(self, rank: int, world: int) -> StreamingDataset:
        """One dataset per (rank, world): the shards depend on both."""
        if (rank, world) not in self._datasets:
            self._datasets[(rank, world)] = StreamingDataset(**self.stream_args, rank=rank, world=world)
        return self._datasets[(rank, world)]

    def updates(self, epoch: int, start: int, rank: int, world: int, accumulate: int) -> Iterator[list[Batch]]:
        dataset = self._dataset(rank, world)
        dataset.set_epoch(epoch)
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=None, num_workers=self.num_workers, pin_memory=self.pin_memory,
            generator=torch.Generator().manual_seed(self.stream_args.get("seed", 0) + epoch))  # not the global RNG
        done = start
        for group in itertools.islice(lockstep(loader, accumulate, self.any_exhausted), start, None):
            done += 1
            yield group
        if done == 0:  # the stream gave no complete update this epoch
            raise too_little_data(world, accumulate, self.stream_args["batch_tokens"])


def fixed_batches(src_ids: Sequence[np.ndarray], tgt_ids: Sequence[np.ndarray], batch_tokens: int) -> Iterator[Batch]:
    """The batches of a held-out set, length-bucketed but not shuffled (validation)."""
    src_lens = np.array([len(s) + 1 for s in src_ids])
    tgt_lens = np.array([len(t) + 1 for t in tgt_ids])
    for index in make_batches(src_lens, tgt_lens, batch_tokens, shuffle=False):
        yield collate(src_ids, tgt_ids, index)
