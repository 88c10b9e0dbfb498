"""Batches that mix the translation directions of a multilingual model by temperature sampling.

:class:`DirectionMixSource` holds one in-memory source per trained direction
(:class:`~vectorseq.data.batch_source.InMemorySource`, or :class:`~vectorseq.data.batch_source.SampledSource`
with subword sampling), each collating its batches with its direction's language tag. An epoch has as many
batches as all directions together (one pass over the data at ``T = 1``); every one of them is drawn from
direction ``i`` with probability ``p_i ~ n_i^(1/T)`` (:func:`~vectorseq.data.directions.temperature_probabilities`)
and is that direction's next batch. A direction drawn more often than it has batches starts over in a new
order, so small directions are repeated, never cut short.

Everything is a pure function of ``(seed, epoch)``: every process derives the same global list of batches,
rank ``r`` takes batches ``r, r + world, ...`` and one update consumes ``accumulate`` of them (as
:class:`InMemorySource` does, so ``world=2, accumulate=1`` sees the same batches per update as ``world=1,
accumulate=2``), and a resumed run re-derives the epoch and skips the ``start`` updates already done.

:class:`StreamMixSource` does the same for training files too large for memory (``data.streaming``): one
:class:`~vectorseq.data.batch_source.StreamingSource` per direction, each rank drawing the direction of its
next batch from ``p_i`` (seeded by seed, epoch and rank) and taking that stream's next batch. A stream that
ends starts a new pass (new shuffles); the epoch ends when every direction has finished at least one pass, so
at ``T = 1`` it is about one pass over all the data and every pair is seen at least once. Ranks stop together
(:func:`~vectorseq.data.streaming.lockstep`), and a resumed run replays the epoch's draws and skips the
updates already done, as a bilingual stream does. ``p_i`` needs each corpus' size: the pairs counted by the
reservoir-sampling pass that adapts the vectorizers.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .batch_source import BatchSource, InMemorySource, StreamingSource, too_little_data
from .batching import Batch, collate
from .directions import temperature_probabilities
from .streaming import lockstep

#: Salt of the direction draws' generator, so it never repeats the batch cutting's ``(seed, epoch)`` stream.
_MIX_SALT = 104729


class DirectionMixSource(BatchSource):
    """Temperature-sampled batches of several directions (see the module docstring)."""

    def __init__(self, sources: Sequence[InMemorySource], names: Sequence[str], temperature: float, seed: int):
        self.sources, self.names, self.seed = list(sources), list(names), seed
        self.probabilities = temperature_probabilities([len(s.src_ids) for s in sources], temperature)
        mix = ", ".join(f"{n} {len(s.src_ids):,} (p={p:.2f})" for n, s, p in zip(names, sources, self.probabilities))
        self.description = f"{sum(len(s.src_ids) for s in sources):,} [{mix}; T={temperature:g}]"

    def draws(self, epoch: int, n: int) -> np.ndarray:
        """The direction of each of the epoch's first ``n`` batches."""
        rng = np.random.default_rng([self.seed, epoch, _MIX_SALT])
        return rng.choice(len(self.sources), size=n, p=self.probabilities)

    def epoch_plan(self, epoch: int, per_update: int) -> list[tuple[int, np.ndarray]]:
        """The epoch's global batch list as (direction, index array), a multiple of ``per_update`` long."""
        own = [s.epoch_batches(epoch) for s in self.sources]
        n = (sum(len(b) for b in own) // per_update) * per_update
        streams = [_Cycle(batches, self.seed, epoch, i) for i, batches in enumerate(own)]
        return [(int(d), streams[d].next()) for d in self.draws(epoch, n)]

    def updates(self, epoch: int, start: int, rank: int, world: int, accumulate: int) -> Iterator[list[Batch]]:
        plan = self.epoch_plan(epoch, world * accumulate)
        if not plan:
            raise too_little_data(world, accumulate, self.sources[0].batch_tokens)
        ids = [s.epoch_ids(epoch) for s in self.sources]
        mine = plan[rank::world]
        for u in range(start, len(plan) // (world * accumulate)):
            yield [self._collate(ids[d], d, index) for d, index in mine[u * accumulate: (u + 1) * accumulate]]

    def _collate(self, ids: tuple, direction: int, index: np.ndarray) -> Batch:
        return collate(ids[0], ids[1], index, self.sources[direction].tagging)


class _Cycle:
    """A direction's batches, again and again: the epoch's order first, then a fresh seeded order per pass."""

    def __init__(self, batches: list[np.ndarray], seed: int, epoch: int, direction: int):
        self.batches, self.key = batches, (seed, epoch, direction)
        self.order, self.pos, self.round = list(range(len(batches))), 0, 0

    def next(self) -> np.ndarray:
        if self.pos == len(self.order):
            self.round += 1
            self.order = np.random.default_rng([*self.key, self.round]).permutation(len(self.batches)).tolist()
            self.pos = 0
        self.pos += 1
        return self.batches[self.order[self.pos - 1]]


class StreamMixSource(BatchSource):
    """Temperature-sampled batches of several streamed directions (see the module docstring)."""

    def __init__(self, sources: Sequence[StreamingSource], sizes: Sequence[int], names: Sequence[str],
                 temperature: float, seed: int, any_exhausted: Callable[[bool], bool] | None = None):
        self.sources, self.names, self.seed = list(sources), list(names), seed
        self.any_exhausted = any_exhausted
        self.probabilities = temperature_probabilities(sizes, temperature)
        mix = ", ".join(f"{n} {s:,} (p={p:.2f})" for n, s, p in zip(names, sizes, self.probabilities))
        self.description = f"{sum(sizes):,} streamed [{mix}; T={temperature:g}]"

    def mixed(self, epoch: int, rank: int, world: int) -> Iterator[tuple[int, Batch]]:
        """This rank's ``(direction, batch)`` sequence of one epoch."""
        rng = np.random.default_rng([self.seed, epoch, rank, _MIX_SALT])
        n = len(self.sources)
        passes = [0] * n
        streams: list[Any] = [iter(s.batches(_pass_epoch(epoch, 0), rank, world)) for s in self.sources]
        while True:
            d = int(rng.choice(n, p=self.probabilities))
            batch = next(streams[d], None)
            if batch is None:  # this direction's pass has ended
                passes[d] += 1
                if min(passes) >= 1:  # every direction has been read through at least once: the epoch is over
                    return
                streams[d] = iter(self.sources[d].batches(_pass_epoch(epoch, passes[d]), rank, world))
                batch = next(streams[d], None)
                if batch is None:
                    raise too_little_data(world, 1, self.sources[d].stream_args["batch_tokens"])
            yield d, batch

    def updates(self, epoch: int, start: int, rank: int, world: int, accumulate: int) -> Iterator[list[Batch]]:
        batches = (b for _, b in self.mixed(epoch, rank, world))
        done = start
        for group in itertools.islice(lockstep(batches, accumulate, self.any_exhausted), start, None):
            done += 1
            yield group
        if done == 0:
            raise too_little_data(world, accumulate, self.sources[0].stream_args["batch_tokens"])


def _pass_epoch(epoch: int, n_pass: int) -> int:
    """A distinct stream epoch for every (epoch, pass) (Cantor's pairing), so every pass is shuffled anew."""
    k = epoch + n_pass
    return k * (k + 1) // 2 + n_pass
