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
- **Subword sampling** (:class:`SampledSource`, ``vectorizer.<side>.sampling_alpha``): keeps the raw
  training text and, per epoch, segments every sentence anew with a draw that depends only on ``(seed,
  epoch, sentence index)``; the epoch's batches are then cut from the *sampled* lengths. Every rank
  encodes the whole epoch the same way (nothing is exchanged), so all ranks cut the same batch list, and a
  resumed run re-derives the epoch exactly. It overrides :meth:`InMemorySource.epoch_ids` only.
- **Multilingual temperature sampling** (:class:`~vectorseq.data.direction_mix.DirectionMixSource`): one
  in-memory source per direction (each collating with its direction's language tag); per epoch every batch
  is drawn from direction ``i`` with probability ``p_i ~ n_i^(1/T)``, seeded by ``(seed, epoch)``; the loop
  stays unchanged. Streamed directions mix the same way through
  :class:`~vectorseq.data.direction_mix.StreamMixSource` (one :class:`StreamingSource` per direction, read
  through :meth:`StreamingSource.batches`).
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from ..errors import VectorseqError
from ..text.language_tags import Tagging
from ..text.subword_sampling import TARGET_SEED_OFFSET
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
                 seed: int, tagging: Tagging | None = None):
        self.src_ids, self.tgt_ids = src_ids, tgt_ids
        self.batch_tokens, self.seed = batch_tokens, seed
        self.tagging = tagging  # one direction of a multilingual model: where its language tag goes
        # a tag before the source is one more source token in every batch
        self._tag_len = 0 if tagging is None or tagging.src_prefix is None else 1
        # lengths with the EOS (source) / BOS (target) each side gets in a batch
        self.src_lens = np.array([len(s) + 1 + self._tag_len for s in src_ids])
        self.tgt_lens = np.array([len(t) + 1 for t in tgt_ids])
        self.description = f"{len(src_ids):,}"

    def epoch_ids(self, epoch: int) -> tuple[Sequence[np.ndarray], Sequence[np.ndarray]]:
        """The source and target ids of ``epoch`` (the same every epoch here; sampled in :class:`SampledSource`)."""
        return self.src_ids, self.tgt_ids

    def epoch_batches(self, epoch: int) -> list[np.ndarray]:
        """Every batch of ``epoch`` (index arrays), the same list on every process."""
        src_ids, tgt_ids = self.epoch_ids(epoch)
        if src_ids is self.src_ids and tgt_ids is self.tgt_ids:
            src_lens, tgt_lens = self.src_lens, self.tgt_lens
        else:  # length bucketing uses this epoch's (sampled) lengths
            src_lens, tgt_lens = _lengths(src_ids) + self._tag_len, _lengths(tgt_ids)
        return make_batches(src_lens, tgt_lens, self.batch_tokens, seed=self.seed, epoch=epoch)

    def updates(self, epoch: int, start: int, rank: int, world: int, accumulate: int) -> Iterator[list[Batch]]:
        batches = self.epoch_batches(epoch)
        src_ids, tgt_ids = self.epoch_ids(epoch)
        n_updates = len(batches) // (world * accumulate)
        if n_updates == 0:
            raise too_little_data(world, accumulate, self.batch_tokens)
        mine = batches[rank::world]
        for u in range(start, n_updates):
            yield [collate(src_ids, tgt_ids, index, self.tagging) for index in mine[u * accumulate: (u + 1) * accumulate]]


def _lengths(ids: Sequence[np.ndarray]) -> np.ndarray:
    """Lengths with the EOS (source) / BOS (target) each side gets in a batch."""
    return np.fromiter((len(s) + 1 for s in ids), dtype=np.int64, count=len(ids))


class SampledSource(InMemorySource):
    """:class:`InMemorySource` whose training sentences are re-segmented every epoch (subword sampling).

    ``texts`` are the raw (source, target) training texts; ``vecs`` the two vectorizers; ``specs`` each
    side's :class:`~vectorseq.text.subword_sampling.SamplingSpec` or None (that side keeps ``*_ids``, the
    deterministic encoding). Sentence ``i``'s sample of epoch ``e`` depends only on ``(seed, e, i)``.
    """

    def __init__(self, src_ids: Sequence[np.ndarray], tgt_ids: Sequence[np.ndarray], batch_tokens: int, seed: int,
                 *, texts: tuple[Sequence[str], Sequence[str]], vecs: tuple[Any, Any], specs: tuple[Any, Any],
                 tagging: Tagging | None = None):
        super().__init__(src_ids, tgt_ids, batch_tokens, seed, tagging)
        self.texts, self.vecs, self.specs = texts, vecs, specs
        self._cached: tuple[int, tuple[Sequence[np.ndarray], Sequence[np.ndarray]]] | None = None
        sides = [name for name, spec in zip(("source", "target"), specs) if spec is not None]
        self.description += f" (subword sampling on the {' and '.join(sides)} side)"

    def epoch_ids(self, epoch: int) -> tuple[Sequence[np.ndarray], Sequence[np.ndarray]]:
        if self._cached is None or self._cached[0] != epoch:  # one encoding per epoch, kept for its updates
            self._cached = (epoch, (self._side(0, epoch), self._side(1, epoch)))
        return self._cached[1]

    def _side(self, side: int, epoch: int) -> Sequence[np.ndarray]:
        spec = self.specs[side]
        if spec is None:
            return (self.src_ids, self.tgt_ids)[side]
        seed = self.seed + side * TARGET_SEED_OFFSET
        ids = self.vecs[side].sample_many(self.texts[side], spec, seed=seed, epoch=epoch)
        return [np.asarray(x, dtype=np.int64) for x in ids]


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

    def batches(self, epoch: int, rank: int, world: int) -> Iterable[Batch]:
        """This rank's batches of one pass over its shard (``epoch`` seeds the shuffles)."""
        dataset = self._dataset(rank, world)
        dataset.set_epoch(epoch)
        return torch.utils.data.DataLoader(
            dataset, batch_size=None, num_workers=self.num_workers, pin_memory=self.pin_memory,
            generator=torch.Generator().manual_seed(self.stream_args.get("seed", 0) + epoch))  # not the global RNG

    def updates(self, epoch: int, start: int, rank: int, world: int, accumulate: int) -> Iterator[list[Batch]]:
        loader = self.batches(epoch, rank, world)
        done = start
        for group in itertools.islice(lockstep(loader, accumulate, self.any_exhausted), start, None):
            done += 1
            yield group
        if done == 0:  # the stream gave no complete update this epoch
            raise too_little_data(world, accumulate, self.stream_args["batch_tokens"])


def fixed_batches(src_ids: Sequence[np.ndarray], tgt_ids: Sequence[np.ndarray], batch_tokens: int,
                  tagging: Tagging | None = None) -> Iterator[Batch]:
    """The batches of a held-out set, length-bucketed but not shuffled (validation); ``tagging``: its direction's."""
    src_lens = np.array([len(s) + 1 for s in src_ids])
    tgt_lens = np.array([len(t) + 1 for t in tgt_ids])
    for index in make_batches(src_lens, tgt_lens, batch_tokens, shuffle=False):
        yield collate(src_ids, tgt_ids, index, tagging)
