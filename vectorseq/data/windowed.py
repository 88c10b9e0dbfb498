"""Streaming training data: token-budget batches from corpora larger than memory, ``window`` pairs at a time.

The in-memory path (:func:`~vectorseq.data.parallel.read_parallel`, ``encode_many``,
:func:`~vectorseq.data.batching.make_batches`) holds every sentence, its ids and its batch indices at once,
so its memory grows with the corpus. :class:`StreamingBatches` reads the files line by line instead and
holds at most ``window`` sentence pairs at a time:

1. **read** -- the source and target files (plain or gzip) or one TSV file, through the one pair reader
   (:class:`~vectorseq.data.pairs.PairReader`) the in-memory readers use, so a bad pair is skipped and
   counted (``on_error="skip"``) or raises the same one-line :class:`~vectorseq.errors.DataError` naming
   the file and the line (``on_error="raise"``);
2. **shard** -- pair ``i`` (the 0-based *line* index: line ``i + 1`` of the files, the header row of a
   TSV file included) belongs to shard ``i % (world * num_workers)``, and process ``rank``'s DataLoader
   worker ``worker`` reads shard ``rank * num_workers + worker``. Every shard reads (decompresses and
   decodes) the whole file but validates, counts and encodes only its own lines, so the shards are
   disjoint, together cover every valid pair exactly once per epoch, and each bad line is counted (or
   raised) by exactly one shard. Encoding, the costly part, is split between the shards; reading is not;
3. **encode** -- the shard's pairs with the vectorizers, in chunks of up to 1,024 pairs (``encode_many``);
   with ``sampling`` (subword regularization), a side's chunk is segmented at random instead
   (``sample_many``), each pair's draw depending only on ``(seed, epoch, line)``, so the window's lengths
   and batches follow the sampled segmentation;
4. **window** -- collect ``window`` encoded pairs, then cut them into batches with
   :func:`~vectorseq.data.batching.make_batches` -- the very same rule as the in-memory path (shuffle,
   sort by length, cut where ``sentences x longest side`` would exceed ``batch_tokens``, shuffle the batch
   order) -- with the whole window as one length-sorting pool and a seed drawn from a generator seeded
   by ``(seed, epoch, rank, worker)``; yield the batches (:class:`~vectorseq.data.batching.Batch`) and
   move on to the next window.

Memory is therefore bounded by the window, not by the corpus: the encoded window plus one chunk of
text and the batches being cut from it -- about 50 MB above the imports at the default 100,000 with
Multi30k-length sentences, measured flat from 116k to 1M pairs (``benchmarks/bench_data_scale.py``).
:attr:`StreamingBatches.stats` records ``peak_held``, the largest number of pairs held at any time (read
but not yet yielded in a batch), which never exceeds ``window``.

Shuffling is local: a batch mixes only pairs of one window, and windows come in file order. That is
enough for a corpus whose lines are in random order; shuffle a corpus sorted by source or domain once
beforehand (e.g. ``paste src tgt | shuf | ...``), or raise ``window``. A larger window also gives less
padding (better length sorting). A line-count mismatch between the source and target files is found
only when the shorter file ends (possibly after some batches were yielded); call
:func:`~vectorseq.data.pairs.count_lines` (or :func:`~vectorseq.data.sampling.sample_pairs`, which
validates every line) first to check the files up front.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from vectorseq.data.batching import Batch, collate, make_batches
from vectorseq.data.lines import PathLike
from vectorseq.data.options import check_int
from vectorseq.data.pairs import PairReader
from vectorseq.errors import ConfigError, VectorseqError
from vectorseq.text.subword_sampling import TARGET_SEED_OFFSET

__all__ = ["StreamingBatches", "DEFAULT_WINDOW", "ENCODE_CHUNK"]

#: Sentence pairs held at once for length bucketing (the memory bound of :class:`StreamingBatches`).
DEFAULT_WINDOW = 100_000
#: Pairs encoded per ``encode_many`` call.
ENCODE_CHUNK = 1024


class StreamingBatches:
    """An iterable of :class:`~vectorseq.data.batching.Batch` read from files, ``window`` pairs at a time.

    See the module docstring for the pipeline. Iterating it again replays the same epoch; change the
    epoch with :meth:`set_epoch` (or build a new object).

    Args:
        src_path, tgt_path: two aligned files (plain or gzip), line ``i`` of one translating line ``i``
            of the other; or leave both out and give ``tsv``.
        src_vectorizer, tgt_vectorizer: adapted :class:`~vectorseq.vectorizer.TextVectorizer` objects
            (the same object for a shared vocabulary).
        batch_tokens: token budget of a batch: ``sentences x longest side`` (EOS/BOS counted, padding
            included), as in :func:`~vectorseq.data.batching.make_batches`. A single pair longer than
            the budget gets a batch of its own.
        tsv: a tab-separated file instead of ``src_path``/``tgt_path``; ``src_column``, ``tgt_column``,
            ``n_columns`` and ``skip_header`` as in :func:`~vectorseq.data.parallel.read_tsv`.
        seed, epoch: the shuffles depend on ``(seed, epoch, rank, worker)`` only.
        rank, world: this process and the number of processes (torchrun ``RANK`` / ``WORLD_SIZE``).
        worker, num_workers: this DataLoader worker and the number of workers per process
            (:class:`~vectorseq.data.torch_dataset.StreamingDataset` fills them in).
        window: sentence pairs held at once for length bucketing (default 100,000): the memory bound.
            The window is per shard (per rank and worker).
        max_length, max_length_ratio, min_length, on_error: validation, as in
            :func:`~vectorseq.data.parallel.read_parallel`; ``on_error`` defaults to ``"skip"`` here
            (a long stream should not stop at one bad line). Skipped pairs are counted by reason in
            ``stats["skipped"]`` (this shard's lines only). Different line counts always raise.
        sampling: ``(source, target)`` :class:`~vectorseq.text.subword_sampling.SamplingSpec` or None each:
            subword regularization of that side, each pair's draw depending only on ``(seed, epoch, line)``
            (the 1-based line number), so it does not depend on the shard.

    Attributes:
        stats: counters of the current (or last) iteration: ``lines`` (this shard's lines read),
            ``pairs`` (valid pairs encoded), ``skipped`` (by reason), ``batches``, ``src_tokens`` /
            ``tgt_tokens`` (real tokens, EOS/BOS included), ``windows``, ``held`` (pairs held now) and
            ``peak_held`` (the most pairs held at once, never more than ``window``). Inside DataLoader
            workers these live in the worker processes.
    """

    def __init__(
        self,
        src_path: PathLike | None = None,
        tgt_path: PathLike | None = None,
        src_vectorizer: Any = None,
        tgt_vectorizer: Any = None,
        batch_tokens: int | None = None,
        *,
        tsv: PathLike | None = None,
        src_column: int = 0,
        tgt_column: int = 1,
        n_columns: int | None = None,
        skip_header: bool = False,
        seed: int = 0,
        epoch: int = 0,
        rank: int = 0,
        world: int = 1,
        worker: int = 0,
        num_workers: int = 1,
        window: int = DEFAULT_WINDOW,
        max_length: int | None = None,
        max_length_ratio: float | None = None,
        min_length: int = 1,
        on_error: str = "skip",
        sampling: tuple[Any, Any] = (None, None),
        max_chars: int | None = None,
        tagging: Any = None,
    ) -> None:
        self._reader = PairReader(src_path, tgt_path, tsv=tsv, src_column=src_column, tgt_column=tgt_column,
                                  n_columns=n_columns, skip_header=skip_header, max_length=max_length,
                                  max_length_ratio=max_length_ratio, min_length=min_length, on_error=on_error,
                                  max_chars=max_chars, owner="StreamingBatches")
        for name, vec in (("src_vectorizer", src_vectorizer), ("tgt_vectorizer", tgt_vectorizer)):
            if vec is None or not hasattr(vec, "encode_many"):
                raise ConfigError(f"StreamingBatches needs {name}= (an adapted TextVectorizer)")
            if not getattr(vec, "is_adapted", True):
                raise VectorseqError(f"{name} has no vocabulary yet: adapt it first (e.g. adapt_on_sample)")
        self.batch_tokens = check_int("batch_tokens", batch_tokens, 1)
        self.window = check_int("window", window, 1)
        self.world = check_int("world", world, 1)
        self.rank = check_int("rank", rank, 0)
        self.num_workers = check_int("num_workers", num_workers, 1)
        self.worker = check_int("worker", worker, 0)
        if self.rank >= self.world:
            raise ConfigError(f"rank must be < world, got rank={rank}, world={world}")
        if self.worker >= self.num_workers:
            raise ConfigError(f"worker must be < num_workers, got worker={worker}, num_workers={num_workers}")
        self.seed = int(seed)
        self.epoch = check_int("epoch", epoch, 0)
        self.src_vectorizer, self.tgt_vectorizer = src_vectorizer, tgt_vectorizer
        self.sampling = tuple(sampling)  # each side's SamplingSpec or None (see vectorseq.text.subword_sampling)
        self.tagging = tagging  # one direction of a multilingual model: where its language tag goes (collate)
        self.stats: dict[str, Any] = self._new_stats()

    @property
    def src_path(self) -> PathLike | None:
        return self._reader.src_path

    @property
    def tgt_path(self) -> PathLike | None:
        return self._reader.tgt_path

    @property
    def tsv(self) -> PathLike | None:
        return self._reader.tsv

    # ---------------------------------------------------------------------------------------- sharding
    @property
    def shard(self) -> int:
        """This stream's shard: ``rank * num_workers + worker``."""
        return self.rank * self.num_workers + self.worker

    @property
    def n_shards(self) -> int:
        """``world * num_workers``: line ``i`` (0-based) belongs to shard ``i % n_shards``."""
        return self.world * self.num_workers

    def set_epoch(self, epoch: int) -> None:
        """Use another epoch's shuffles from the next iteration on."""
        self.epoch = check_int("epoch", epoch, 0)

    def for_worker(self, worker: int, num_workers: int) -> "StreamingBatches":
        """A copy of this stream that reads DataLoader worker ``worker``'s shard (of ``num_workers``)."""
        stream = copy.copy(self)  # shares the reader and the vectorizers, which iteration does not change
        stream.worker = check_int("worker", worker, 0)
        stream.num_workers = check_int("num_workers", num_workers, stream.worker + 1)
        stream.stats = self._new_stats()
        return stream

    @staticmethod
    def _new_stats() -> dict[str, Any]:
        return {"lines": 0, "pairs": 0, "skipped": {}, "batches": 0, "src_tokens": 0, "tgt_tokens": 0,
                "windows": 0, "held": 0, "peak_held": 0}

    def pairs(self) -> Iterator[tuple[int, str, str]]:
        """This shard's valid pairs as ``(line, source, target)`` (1-based line), in file order.

        Counts ``lines`` and ``skipped`` into :attr:`stats`.
        """
        return self._reader.pairs(self.shard, self.n_shards, self.stats)

    # ---------------------------------------------------------------------------------------- batches
    def __iter__(self) -> Iterator[Batch]:
        self.stats = stats = self._new_stats()
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, self.worker])
        chunk_size = min(ENCODE_CHUNK, self.window)
        src_ids: list[list[int]] = []
        tgt_ids: list[list[int]] = []
        src_text: list[str] = []
        tgt_text: list[str] = []
        lines: list[int] = []

        def encode_pending() -> None:
            if src_text:
                src_ids.extend(self._encode(0, src_text, lines))
                tgt_ids.extend(self._encode(1, tgt_text, lines))
                src_text.clear()
                tgt_text.clear()
                lines.clear()

        for line, s, t in self.pairs():
            src_text.append(s)
            tgt_text.append(t)
            lines.append(line)
            stats["pairs"] += 1
            held = len(src_ids) + len(src_text)
            stats["held"] = held
            if held > stats["peak_held"]:
                stats["peak_held"] = held
            if len(src_text) >= chunk_size or held >= self.window:
                encode_pending()
            if held >= self.window:
                yield from self._window_batches(src_ids, tgt_ids, rng)
                src_ids, tgt_ids = [], []
                stats["held"] = 0
        encode_pending()
        if src_ids:
            yield from self._window_batches(src_ids, tgt_ids, rng)
        stats["held"] = 0

    def _encode(self, side: int, texts: list[str], lines: list[int]) -> list[list[int]]:
        """One side's ids of a chunk: deterministic, or sampled with keys = the pairs' line numbers."""
        vec, spec = (self.src_vectorizer, self.tgt_vectorizer)[side], self.sampling[side]
        if spec is None:
            return vec.encode_many(texts)
        seed = self.seed + side * TARGET_SEED_OFFSET  # as in memory: source and target draw different numbers
        return vec.sample_many(texts, spec, seed=seed, epoch=self.epoch, keys=lines)

    def _window_batches(self, src_ids: list[list[int]], tgt_ids: list[list[int]],
                        rng: np.random.Generator) -> Iterator[Batch]:
        """Cut one window into batches with :func:`make_batches` (one pool = the whole window)."""
        stats = self.stats
        stats["windows"] += 1
        n = len(src_ids)
        src_lens = np.fromiter((len(s) + 1 for s in src_ids), dtype=np.int64, count=n)
        tgt_lens = np.fromiter((len(t) + 1 for t in tgt_ids), dtype=np.int64, count=n)
        # make_batches sorts pools of int(pool_batches * batch_tokens / mean_len) pairs; this many
        # pool_batches make one pool of at least n pairs, i.e. the whole window is sorted at once.
        mean_len = max(1.0, float(np.maximum(src_lens, tgt_lens).mean()))
        pool_batches = math.ceil(n * mean_len / self.batch_tokens) + 1
        window_seed = int(rng.integers(0, 2**63 - 1))
        for index in make_batches(src_lens, tgt_lens, self.batch_tokens, seed=window_seed, epoch=0,
                                  shuffle=True, pool_batches=pool_batches):
            batch = collate(src_ids, tgt_ids, index) if self.tagging is None else collate(
                src_ids, tgt_ids, index, self.tagging)
            stats["batches"] += 1
            stats["src_tokens"] += batch.n_src_tokens
            stats["tgt_tokens"] += batch.n_tgt_tokens
            stats["held"] -= len(index)
            yield batch

    def __repr__(self) -> str:
        where = f"tsv={self.tsv!s}" if self.tsv is not None else f"{self.src_path!s} + {self.tgt_path!s}"
        return (f"StreamingBatches({where}, batch_tokens={self.batch_tokens}, window={self.window}, "
                f"seed={self.seed}, epoch={self.epoch}, shard {self.shard}/{self.n_shards})")
