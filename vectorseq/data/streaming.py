"""Streaming training data: token-budget batches from corpora larger than memory.

The in-memory path (:func:`~vectorseq.data.parallel.read_parallel`, ``encode_many``,
:func:`~vectorseq.data.batching.make_batches`) holds every sentence, its ids and its batch indices at once,
so its memory grows with the corpus. :class:`StreamingBatches` reads the files line by line instead and
holds at most ``window`` sentence pairs at a time:

1. **read** -- the source and target files (plain or gzip) or one TSV file, through the same line
   iterator and the same per-pair validation as the readers in :mod:`vectorseq.data.parallel`, so a bad
   pair is skipped and counted (``on_error="skip"``) or raises the same one-line
   :class:`~vectorseq.errors.DataError` naming the file and the line (``on_error="raise"``);
2. **shard** -- pair ``i`` (the 0-based *line* index: line ``i + 1`` of the files, the header row of a
   TSV file included) belongs to shard ``i % (world * num_workers)``, and process ``rank``'s DataLoader
   worker ``worker`` reads shard ``rank * num_workers + worker``. Every shard reads (decompresses and
   decodes) the whole file but validates, counts and encodes only its own lines, so the shards are
   disjoint, together cover every valid pair exactly once per epoch, and each bad line is counted (or
   raised) by exactly one shard. Encoding, the costly part, is split between the shards; reading is not;
3. **encode** -- the shard's pairs with the vectorizers, in chunks of up to 1,024 pairs (``encode_many``);
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
only when the shorter file ends (possibly after some batches were yielded); call :func:`count_lines`
(or :func:`sample_pairs`, which validates every line) first to check the files up front.

Distributed training and workers
--------------------------------
Each rank builds its own stream with its ``rank`` and ``world``; :class:`StreamingDataset` wraps the
stream as a ``torch.utils.data.IterableDataset`` whose ``__iter__`` picks ``worker`` /
``num_workers`` from ``torch.utils.data.get_worker_info()``. It yields whole batches, so use it with
automatic batching off::

    ds = StreamingDataset("train.en.gz", "train.de.gz", src_vec, tgt_vec, 4096,
                          seed=42, rank=rank, world=world)
    loader = DataLoader(ds, batch_size=None, num_workers=2, pin_memory=True)
    for epoch in range(n):
        ds.set_epoch(epoch)             # before creating the epoch's iterator
        for batch in loader: ...

The order is deterministic for a given ``(seed, epoch, rank, world, num_workers, window)``: the
DataLoader takes one batch from each worker in turn.

**Ranks may get different numbers of batches** (the shards differ in sentence lengths and the count
is only known after encoding). A DDP rank that runs out while the others still step would hang
their gradient all-reduce, so the trainer must agree on when to stop: :func:`lockstep` groups a rank's
batches into updates of ``accumulate`` batches and, before each update, all-reduces "has any rank run
out?"; every rank stops at the same update. The batches the other ranks still had at that point (the
difference between shard sizes, plus a partial update) are not used in that epoch, as the in-memory path
drops the remainder of ``len(batches) // (world * accumulate)``; they are the last batches of the last
window, which a new epoch's shuffle makes different ones.

Vocabulary from a sample
------------------------
:func:`sample_lines` draws a uniform sample of ``n`` lines in one pass with reservoir sampling
(Algorithm R, memory O(n)); :func:`adapt_on_sample` adapts a vectorizer on it. :func:`sample_pairs`
samples aligned, validated pairs (a :class:`~vectorseq.data.parallel.ParallelCorpus`), e.g. for a
trainer that adapts source and target vectorizers and computes token statistics on the same sample.
Word and character vectorizers could also ``adapt`` on the full stream (their memory grows with the
vocabulary only), but SentencePiece trains on every line it gets, in memory, so a sample is what keeps
it bounded. The default, 1,000,000 sentences, is a compromise: big enough that every token frequent
enough for an 8k-32k vocabulary is seen many times, small enough for SentencePiece to train on in a
few hundred MB. (How much the vocabulary differs from one adapted on everything was not measured.)
"""
from __future__ import annotations

import math
import os
import random
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any, Union

import numpy as np
from torch.utils.data import IterableDataset, get_worker_info

from vectorseq.data.batching import Batch, collate, make_batches
from vectorseq.data.parallel import (
    _SKIP_HINT,
    ParallelCorpus,
    _check_options,
    _check_pair,
    _count_remaining,
    _iter_lines,
    _mismatch_error,
    raise_pair_error,
    _open_binary,
)
from vectorseq.errors import ConfigError, DataError, VectorseqError

PathLike = Union[str, "os.PathLike[str]"]

__all__ = [
    "StreamingBatches",
    "StreamingDataset",
    "lockstep",
    "count_lines",
    "sample_lines",
    "sample_pairs",
    "adapt_on_sample",
    "DEFAULT_WINDOW",
    "DEFAULT_ADAPT_SAMPLE",
]

#: Sentence pairs held at once for length bucketing (the memory bound of :class:`StreamingBatches`).
DEFAULT_WINDOW = 100_000
#: Lines :func:`adapt_on_sample` samples by default.
DEFAULT_ADAPT_SAMPLE = 1_000_000
#: Pairs encoded per ``encode_many`` call.
ENCODE_CHUNK = 1024


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------------------------
# Reading: the readers' line iteration and validation, one shard at a time
# --------------------------------------------------------------------------------------------------------
class _PairReader:
    """Validated pairs of two aligned files or one TSV file, restricted to one shard of the lines.

    The loops mirror :func:`~vectorseq.data.parallel.read_parallel` and
    :func:`~vectorseq.data.parallel.read_tsv` (same line iterator, same checks, same messages); a
    counter dict receives ``lines`` (this shard's lines) and ``skipped`` (by reason).
    """

    def __init__(self, src_path: PathLike | None, tgt_path: PathLike | None, tsv: PathLike | None,
                 src_column: int, tgt_column: int, n_columns: int | None, skip_header: bool,
                 max_length: int | None, max_length_ratio: float | None, min_length: int, on_error: str,
                 owner: str = "StreamingBatches") -> None:
        _check_options(on_error, max_length, max_length_ratio, min_length)
        if tsv is not None:
            if src_path is not None or tgt_path is not None:
                raise ConfigError("give either src_path and tgt_path, or tsv, not both")
            for name, col in (("src_column", src_column), ("tgt_column", tgt_column)):
                _check_int(name, col, 0)
            if src_column == tgt_column:
                raise ConfigError(f"src_column and tgt_column are both {src_column}; they must name different columns")
            if n_columns is not None:
                _check_int("n_columns", n_columns, max(src_column, tgt_column) + 1)
        elif src_path is None or tgt_path is None:
            raise ConfigError(f"{owner} needs src_path and tgt_path (two aligned files), or tsv=")
        self.src_path, self.tgt_path, self.tsv = src_path, tgt_path, tsv
        self.src_column, self.tgt_column = src_column, tgt_column
        self.n_columns, self.skip_header = n_columns, skip_header
        self.max_length, self.max_length_ratio, self.min_length = max_length, max_length_ratio, min_length
        self.on_error = on_error
        # Fail now on a missing or unreadable file, not at the first next().
        for path in (tsv,) if tsv is not None else (src_path, tgt_path):
            _open_binary(path).close()
        self.stats: dict[str, Any] = {"lines": 0, "skipped": {}}

    @property
    def source(self) -> str:
        if self.tsv is not None:
            return f"{self.tsv} (columns {self.src_column}, {self.tgt_column})"
        return f"{self.src_path} + {self.tgt_path}"

    def pairs(self, shard: int, n_shards: int, stats: dict[str, Any]) -> Iterator[tuple[int, str, str]]:
        """Shard ``shard``'s valid pairs as ``(line, source, target)`` (1-based line), in file order."""
        self.stats = stats
        if self.tsv is not None:
            return self._tsv_pairs(shard, n_shards)
        return self._file_pairs(shard, n_shards)

    def _skip(self, reason: str) -> None:
        skipped = self.stats["skipped"]
        skipped[reason] = skipped.get(reason, 0) + 1

    def _file_pairs(self, me: int, n: int) -> Iterator[tuple[int, str, str]]:
        src_name, tgt_name = str(self.src_path), str(self.tgt_path)
        src_lines, tgt_lines = _iter_lines(self.src_path), _iter_lines(self.tgt_path)
        try:
            for s, t in zip_longest(src_lines, tgt_lines):
                if s is None:
                    raise _mismatch_error(src_name, t.number - 1, tgt_name, _count_remaining(tgt_lines) or t.number)
                if t is None:
                    raise _mismatch_error(src_name, _count_remaining(src_lines) or s.number, tgt_name, s.number - 1)
                if (s.number - 1) % n != me:
                    continue
                self.stats["lines"] += 1
                if s.error is not None or t.error is not None:
                    bad = s if s.error is not None else t
                    problem = ("invalid_utf8", "src" if bad is s else "tgt", f"{bad.error}, {_SKIP_HINT}")
                else:
                    problem = _check_pair(s.text, t.text, s.number, src_name, tgt_name, self.max_length,
                                          self.max_length_ratio, self.min_length)
                if problem is None:
                    yield s.number, s.text, t.text
                    continue
                reason, side, message = problem
                if self.on_error == "skip":
                    self._skip(reason)
                    continue
                raise_pair_error(side, message, s.number, t.number, src_lines, tgt_lines, src_name, tgt_name)
        finally:
            src_lines.close()
            tgt_lines.close()

    def _tsv_pairs(self, me: int, n: int) -> Iterator[tuple[int, str, str]]:
        """The loop of :func:`~vectorseq.data.parallel.read_tsv`, restricted to this shard's rows."""
        name = str(self.tsv)
        sc, tc = self.src_column, self.tgt_column
        src_name, tgt_name = f"{name} (source column {sc})", f"{name} (target column {tc})"
        needed = max(sc, tc) + 1
        expected = self.n_columns
        expected_from = "n_columns" if expected is not None else None
        rows = _iter_lines(self.tsv, strip=False)
        try:
            for line in rows:
                if self.skip_header and line.number == 1:
                    continue
                mine = (line.number - 1) % n == me
                if not mine:
                    # Every shard must infer the same column count from the first non-blank row.
                    if expected is None and line.error is None and line.text.strip():
                        fields = line.text.split("\t")
                        if len(fields) < needed:
                            raise self._narrow_error(name, len(fields), line.number)
                        expected, expected_from = len(fields), f"line {line.number}"
                    continue
                self.stats["lines"] += 1
                if line.error is not None:
                    self._bad("invalid_utf8", DataError(f"{line.error}, {_SKIP_HINT}", name, line.number))
                    continue
                if not line.text.strip():
                    if self.min_length >= 1:
                        self._bad("empty", DataError(
                            f"line {line.number} is blank; remove it {_SKIP_HINT}", name, line.number))
                    else:
                        yield line.number, "", ""
                    continue
                fields = line.text.split("\t")
                if expected is None:
                    if len(fields) < needed:
                        raise self._narrow_error(name, len(fields), line.number)
                    expected, expected_from = len(fields), f"line {line.number}"
                if len(fields) != expected:
                    self._bad("bad_columns", DataError(
                        f"line {line.number} has {len(fields)} tab-separated columns but {expected_from} has "
                        f"{expected}; a tab inside a sentence or a missing field? fix the row {_SKIP_HINT}",
                        name, line.number))
                    continue
                s, t = fields[sc].strip(), fields[tc].strip()
                problem = _check_pair(s, t, line.number, src_name, tgt_name, self.max_length,
                                      self.max_length_ratio, self.min_length)
                if problem is not None:
                    self._bad(problem[0], DataError(problem[2], name, line.number))
                    continue
                yield line.number, s, t
        finally:
            rows.close()

    def _narrow_error(self, name: str, n_fields: int, line: int) -> DataError:
        return DataError(
            f"the first row has {n_fields} tab-separated column(s), but src_column={self.src_column} and "
            f"tgt_column={self.tgt_column} need at least {max(self.src_column, self.tgt_column) + 1}; check that "
            f"the file is tab-separated and the column indices (0-based) are right", name, line)

    def _bad(self, reason: str, error: DataError) -> None:
        if self.on_error == "raise":
            raise error
        self._skip(reason)


# --------------------------------------------------------------------------------------------------------
# The stream
# --------------------------------------------------------------------------------------------------------
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
            (:class:`StreamingDataset` fills them in).
        window: sentence pairs held at once for length bucketing (default 100,000): the memory bound.
            The window is per shard (per rank and worker).
        max_length, max_length_ratio, min_length, on_error: validation, as in
            :func:`~vectorseq.data.parallel.read_parallel`; ``on_error`` defaults to ``"skip"`` here
            (a long stream should not stop at one bad line). Skipped pairs are counted by reason in
            ``stats["skipped"]`` (this shard's lines only). Different line counts always raise.

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
    ) -> None:
        self._reader = _PairReader(src_path, tgt_path, tsv, src_column, tgt_column, n_columns, skip_header,
                                   max_length, max_length_ratio, min_length, on_error)
        for name, vec in (("src_vectorizer", src_vectorizer), ("tgt_vectorizer", tgt_vectorizer)):
            if vec is None or not hasattr(vec, "encode_many"):
                raise ConfigError(f"StreamingBatches needs {name}= (an adapted TextVectorizer)")
            if not getattr(vec, "is_adapted", True):
                raise VectorseqError(f"{name} has no vocabulary yet: adapt it first (e.g. adapt_on_sample)")
        self.batch_tokens = _check_int("batch_tokens", batch_tokens, 1)
        self.window = _check_int("window", window, 1)
        self.world = _check_int("world", world, 1)
        self.rank = _check_int("rank", rank, 0)
        self.num_workers = _check_int("num_workers", num_workers, 1)
        self.worker = _check_int("worker", worker, 0)
        if self.rank >= self.world:
            raise ConfigError(f"rank must be < world, got rank={rank}, world={world}")
        if self.worker >= self.num_workers:
            raise ConfigError(f"worker must be < num_workers, got worker={worker}, num_workers={num_workers}")
        self.seed = int(seed)
        self.epoch = _check_int("epoch", epoch, 0)
        self.src_vectorizer, self.tgt_vectorizer = src_vectorizer, tgt_vectorizer
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
        self.epoch = _check_int("epoch", epoch, 0)

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

        def encode_pending() -> None:
            if src_text:
                src_ids.extend(self.src_vectorizer.encode_many(src_text))
                tgt_ids.extend(self.tgt_vectorizer.encode_many(tgt_text))
                src_text.clear()
                tgt_text.clear()

        for _line, s, t in self.pairs():
            src_text.append(s)
            tgt_text.append(t)
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
            batch = collate(src_ids, tgt_ids, index)
            stats["batches"] += 1
            stats["src_tokens"] += batch.n_src_tokens
            stats["tgt_tokens"] += batch.n_tgt_tokens
            stats["held"] -= len(index)
            yield batch

    def __repr__(self) -> str:
        where = f"tsv={self.tsv!s}" if self.tsv is not None else f"{self.src_path!s} + {self.tgt_path!s}"
        return (f"StreamingBatches({where}, batch_tokens={self.batch_tokens}, window={self.window}, "
                f"seed={self.seed}, epoch={self.epoch}, shard {self.shard}/{self.n_shards})")


# --------------------------------------------------------------------------------------------------------
# torch DataLoader wrapper
# --------------------------------------------------------------------------------------------------------
def _vectorizer_state(vec: Any) -> Any:
    """A picklable form of a TextVectorizer: its saved files (word-mode vectorizers hold closures)."""
    from vectorseq.vectorizer import TextVectorizer

    if not isinstance(vec, TextVectorizer) or "callable" in (vec.standardize_name, vec.split_name):
        return ("object", vec)
    with tempfile.TemporaryDirectory(prefix="vectorseq-stream-") as tmp:
        vec.save(tmp)
        return ("files", {p.name: p.read_bytes() for p in Path(tmp).iterdir()})


def _vectorizer_from_state(state: Any) -> Any:
    kind, payload = state
    if kind == "object":
        return payload
    from vectorseq.vectorizer import TextVectorizer

    with tempfile.TemporaryDirectory(prefix="vectorseq-stream-") as tmp:
        for name, data in payload.items():
            (Path(tmp) / name).write_bytes(data)
        return TextVectorizer.load(tmp)


class StreamingDataset(IterableDataset):
    """:class:`StreamingBatches` as a ``torch.utils.data.IterableDataset`` (one item = one whole batch).

    Takes the arguments of :class:`StreamingBatches` except ``worker``/``num_workers``, which each
    DataLoader worker reads from ``get_worker_info()`` (worker 0 of 1 outside a DataLoader or with
    ``num_workers=0``). Use it with ``batch_size=None`` (the items are already batches)::

        loader = DataLoader(StreamingDataset(src, tgt, sv, tv, 4096, rank=r, world=w),
                            batch_size=None, num_workers=2, pin_memory=True)

    Call :meth:`set_epoch` before each epoch's ``iter(loader)`` (with ``persistent_workers=False``, the
    default, workers get a fresh copy of the dataset every epoch). The dataset pickles its vectorizers
    as their saved files, so it also works with the ``spawn`` / ``forkserver`` start methods.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        for key in ("worker", "num_workers"):
            if key in kwargs:
                raise ConfigError(f"StreamingDataset sets {key} from the DataLoader worker; do not pass it")
        self.stream = StreamingBatches(*args, **kwargs)  # validates the arguments now, in the main process

    def set_epoch(self, epoch: int) -> None:
        self.stream.set_epoch(epoch)

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        if info is None:
            return iter(self.stream)
        s = self.stream
        stream = StreamingBatches.__new__(StreamingBatches)
        stream.__dict__.update(s.__dict__)
        stream.worker, stream.num_workers = info.id, info.num_workers
        stream.stats = StreamingBatches._new_stats()
        return iter(stream)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        s = self.stream
        shared = s.src_vectorizer is s.tgt_vectorizer
        stream_state = dict(s.__dict__)
        stream_state["src_vectorizer"] = _vectorizer_state(s.src_vectorizer)
        stream_state["tgt_vectorizer"] = None if shared else _vectorizer_state(s.tgt_vectorizer)
        state["stream"] = stream_state
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        stream_state = dict(state.pop("stream"))
        src = _vectorizer_from_state(stream_state["src_vectorizer"])
        tgt_state = stream_state["tgt_vectorizer"]
        stream_state["src_vectorizer"] = src
        stream_state["tgt_vectorizer"] = src if tgt_state is None else _vectorizer_from_state(tgt_state)
        stream = StreamingBatches.__new__(StreamingBatches)
        stream.__dict__.update(stream_state)
        self.__dict__.update(state)
        self.stream = stream


# --------------------------------------------------------------------------------------------------------
# Keeping DDP ranks in step
# --------------------------------------------------------------------------------------------------------
def lockstep(batches: Iterable[Batch], accumulate: int = 1,
             any_exhausted: Callable[[bool], bool] | None = None) -> Iterator[list[Batch]]:
    """Group a rank's batches into updates of ``accumulate`` batches; stop all ranks at the same update.

    Before each update every rank calls ``any_exhausted(flag)``, where ``flag`` says that this rank
    could not fill the update; it must return the logical OR over all ranks (a collective, e.g. an
    all-reduce: in :mod:`vectorseq.training`, ``lambda f: _any_rank(dist, f)``). Every rank calls it
    the same number of times and stops at the same update, so DDP's gradient all-reduce never waits for
    a rank that has run out. ``any_exhausted=None`` is the single-process case (stop when this rank's
    batches end). A partial last update is dropped.
    """
    acc = _check_int("accumulate", accumulate, 1)
    agree = any_exhausted if any_exhausted is not None else (lambda flag: flag)
    it = iter(batches)
    while True:
        group: list[Batch] = []
        for batch in it:
            group.append(batch)
            if len(group) == acc:
                break
        if agree(len(group) < acc):
            return
        yield group


# --------------------------------------------------------------------------------------------------------
# Line counts and samples
# --------------------------------------------------------------------------------------------------------
def count_lines(src_path: PathLike, tgt_path: PathLike | None = None) -> int:
    """Count the lines of a file (plain or gzip) cheaply, without decoding them.

    With two files, also check that they are aligned: different counts raise the same
    :class:`~vectorseq.errors.DataError` as :func:`~vectorseq.data.parallel.read_parallel`. Use it before
    a streaming run to catch a misaligned corpus before training starts, or to estimate the epoch
    length (``pairs / (world * num_workers)`` pairs per shard).
    """

    def count(path: PathLike) -> int:
        n = 0
        last = b"\n"
        with _open_binary(path) as f:
            try:
                while True:
                    block = f.read(1 << 20)
                    if not block:
                        break
                    n += block.count(b"\n")
                    last = block[-1:]
            except (EOFError, OSError, zlib.error) as e:
                raise DataError(f"the gzip data is corrupt or truncated after line {n} ({e}); "
                                f"download or compress the file again", str(path), n + 1) from None
        return n + (last != b"\n")

    n_src = count(src_path)
    if tgt_path is not None:
        n_tgt = count(tgt_path)
        if n_src != n_tgt:
            raise _mismatch_error(str(src_path), n_src, str(tgt_path), n_tgt)
    return n_src


Source = Union[PathLike, tuple[PathLike, int]]


def _source_lines(source: Source) -> Iterator[str]:
    """Non-empty, valid lines of one source: a file, or ``(tsv_file, column)`` for one TSV column."""
    if isinstance(source, tuple):
        path, column = source
        _check_int("column", column, 0)
    else:
        path, column = source, None
    _open_binary(path).close()
    lines = _iter_lines(path, strip=column is None)
    try:
        for line in lines:
            if line.error is not None:  # a sample for a vocabulary: bad lines are simply left out
                continue
            text = line.text
            if column is not None:
                fields = text.split("\t")
                if column >= len(fields):
                    continue
                text = fields[column].strip()
            if text:
                yield text
    finally:
        lines.close()


def _reservoir(items: Iterable[Any], n: int, seed: int) -> tuple[list[Any], int]:
    """Algorithm R over ``items``: ``(sample in stream order, number of items seen)``."""
    rng = random.Random(seed)
    reservoir: list[tuple[int, Any]] = []
    i = 0
    for item in items:
        if i < n:
            reservoir.append((i, item))
        else:
            j = rng.randrange(i + 1)
            if j < n:
                reservoir[j] = (i, item)
        i += 1
    reservoir.sort(key=lambda x: x[0])
    return [item for _, item in reservoir], i


def sample_lines(sources: Source | Sequence[Source], n: int, seed: int = 0) -> list[str]:
    """A uniform random sample of ``n`` lines from one or more files, in one pass (Algorithm R).

    Reservoir sampling: the first ``n`` lines fill the reservoir; line ``i`` (0-based, ``i >= n``)
    replaces a random slot with probability ``n / (i + 1)``. Every line ends up in the sample with the
    same probability ``n / N`` whatever the stream length ``N``, memory is O(n) and the files are read
    once. With several sources the sample is drawn from their concatenation. Empty lines and lines that
    are not valid UTF-8 are left out (they are not text to learn a vocabulary from). Fewer than ``n``
    lines in all: every line is returned.

    Args:
        sources: a path (plain or gzip), a ``(tsv_path, column)`` pair for one column of a TSV file, or a
            list of them.
        n: sample size.
        seed: the sample depends only on ``seed`` and the stream (``random.Random(seed)``).

    Returns:
        The sampled lines, stripped, in stream order.
    """
    n = _check_int("n", n, 0)
    if isinstance(sources, (str, os.PathLike, tuple)):
        sources = [sources]
    lines = (text for source in sources for text in _source_lines(source))
    return _reservoir(lines, n, seed)[0]


def sample_pairs(
    src_path: PathLike | None = None,
    tgt_path: PathLike | None = None,
    n: int = DEFAULT_ADAPT_SAMPLE,
    seed: int = 0,
    *,
    tsv: PathLike | None = None,
    src_column: int = 0,
    tgt_column: int = 1,
    n_columns: int | None = None,
    skip_header: bool = False,
    max_length: int | None = None,
    max_length_ratio: float | None = None,
    min_length: int = 1,
    on_error: str = "skip",
) -> ParallelCorpus:
    """A uniform sample of ``n`` valid sentence *pairs* (Algorithm R, one pass, memory O(n)).

    The pass reads and validates every line exactly as :class:`StreamingBatches` does (same arguments,
    same DataErrors), so it doubles as a check of the whole corpus before training: a misaligned file or,
    with ``on_error="raise"``, a bad pair fails here. ``skipped`` of the result counts the bad pairs of the
    whole corpus. The sample (in file order) can stand in for the training set wherever a training run
    needs all of it in memory: adapting the vectorizers, token counts, IDF weights.
    """
    n = _check_int("n", n, 0)
    reader = _PairReader(src_path, tgt_path, tsv, src_column, tgt_column, n_columns, skip_header,
                         max_length, max_length_ratio, min_length, on_error, owner="sample_pairs")
    stats: dict[str, Any] = {"lines": 0, "skipped": {}}
    sample, total = _reservoir(((s, t) for _, s, t in reader.pairs(0, 1, stats)), n, seed)
    label = f"reservoir sample of {len(sample)} of {total} pairs, seed {seed}"
    return ParallelCorpus([s for s, _ in sample], [t for _, t in sample], dict(stats["skipped"]),
                          f"{reader.source} [{label}]")


def adapt_on_sample(vectorizer: Any, paths: Source | Sequence[Source], n: int | None = DEFAULT_ADAPT_SAMPLE,
                    seed: int = 0) -> Any:
    """Adapt ``vectorizer`` on a reservoir sample of ``n`` lines of ``paths``; returns the vectorizer.

    The default ``n`` is 1,000,000 lines (:data:`DEFAULT_ADAPT_SAMPLE`) in all (for a shared vocabulary
    pass both sides' files: the sample is drawn from their concatenation, so each side gets its share).
    ``n=None`` streams every line instead (exact counts; fine for word / character splits, whose memory
    grows with the vocabulary only, but SentencePiece would then train on the whole corpus in memory).
    """
    if n is None:
        if isinstance(paths, (str, os.PathLike, tuple)):
            paths = [paths]
        return vectorizer.adapt(text for source in paths for text in _source_lines(source))
    return vectorizer.adapt(sample_lines(paths, n, seed))
