"""Cross-request batching: sentences of concurrent requests are decoded together.

A request's sentences go into one :class:`asyncio.Queue` as :class:`Job` s. One collector task takes them
out, waits at most ``max_wait_ms`` (counted from the oldest waiting sentence's arrival) for more to join,
and hands a batch to the single decode thread: sentences with the same decoding key (model, beam, n_best),
oldest first, up to ``max_batch_tokens`` source ids. Inside a batch the decoder sorts sentences by length
(:func:`vectorseq.decoding.translate_ids`), so little padding is computed. While the thread decodes, new
sentences queue up; the next batch starts as soon as the thread is free, at once when the queue already
fills it. (CTranslate2's C++ ``BufferedTranslationWrapper`` follows the same rule: flush when full or on
timeout, re-sort by length.)

Failures stay with their request: when a batch fails, each request in it is decoded again on its own, and
only the requests that fail again get the error. With ``batching=False`` the collector takes one request's
sentences at a time and never waits (per-request batching only: the baseline the benchmark compares with).

All decoding (and :meth:`Batcher.run_exclusive`, used for /explain) runs on one thread, so a model is
never used by two threads at once.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .limits import ServeError

#: decode(key, id lists) -> one result per id list, in order
DecodeFn = Callable[[Hashable, list[list[int]]], list[Any]]


@dataclass
class Job:
    ids: list[int]
    key: Hashable  # sentences decode together only when their keys are equal
    request: int  # which request the sentence belongs to (failure isolation, batching off)
    future: asyncio.Future
    arrived: float = field(default_factory=time.monotonic)


class Batcher:
    def __init__(self, decode: DecodeFn, max_batch_tokens: int = 2048, max_wait_ms: float = 5.0,
                 max_queue: int = 1024, batching: bool = True):
        self.decode = decode
        self.max_batch_tokens, self.max_wait = max_batch_tokens, max_wait_ms / 1000.0
        self.max_queue, self.batching = max_queue, batching
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.waiting: list[Job] = []  # taken from the queue, not yet batched
        self.pending = 0  # sentences accepted and not yet answered
        self.batches = 0  # decoded batches (GET /health shows them)
        self.draining = False  # set at shutdown: flush without waiting for company
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vectorseq-decode")
        self._requests = 0
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------------------------- public
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._collect())

    def drain(self) -> None:
        """From now on flush without waiting for company; wakes a collector that is waiting (event loop thread)."""
        self.draining = True
        self.queue.put_nowait(None)  # type: ignore[arg-type]  # a wake-up, not a job

    def drain_threadsafe(self) -> None:
        """:meth:`drain` from a signal handler or another thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.drain)

    async def stop(self) -> None:
        """Answer everything accepted, then stop the collector and the decode thread."""
        self.drain()
        while self.pending:
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
        self.executor.shutdown(wait=True)

    async def submit(self, key: Hashable, ids: list[list[int]]) -> list[Any]:
        """Queue one request's sentences; their results in order (an exception if the request failed)."""
        if self.pending + len(ids) > self.max_queue:
            raise ServeError(429, "queue_full", f"the server has {self.pending} sentences queued and this request "
                             f"adds {len(ids)}; the limit is {self.max_queue}: retry later",
                             limit="max_queue", value=self.max_queue)
        loop = asyncio.get_running_loop()
        self._requests += 1
        jobs = [Job(x, key, self._requests, loop.create_future()) for x in ids]
        self.pending += len(jobs)
        for j in jobs:
            self.queue.put_nowait(j)
        try:
            return list(await asyncio.gather(*(j.future for j in jobs)))
        finally:
            self.pending -= len(jobs)

    async def run_exclusive(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the decode thread (between batches)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn)

    # ------------------------------------------------------------------------------------- collector
    def _add(self, job: Job | None) -> None:
        if job is not None:  # None: drain()'s wake-up
            self.waiting.append(job)

    def _drain_queue(self) -> None:
        while not self.queue.empty():
            self._add(self.queue.get_nowait())

    def _tokens(self, key: Hashable) -> int:
        return sum(len(j.ids) for j in self.waiting if j.key == key)

    async def _gather(self) -> None:
        """Wait for company for the oldest waiting sentence: until its key fills a batch, the oldest has
        waited ``max_wait``, or shutdown."""
        first = self.waiting[0]
        while self.batching and not self.draining and self._tokens(first.key) < self.max_batch_tokens:
            left = first.arrived + self.max_wait - time.monotonic()
            if left <= 0:
                return
            try:
                self._add(await asyncio.wait_for(self.queue.get(), left))
            except asyncio.TimeoutError:
                return
            self._drain_queue()

    def _take(self) -> list[Job]:
        """The next batch: the oldest sentence's key, oldest first, within the token budget (batching off:
        the oldest sentence's request)."""
        self.waiting = [j for j in self.waiting if not j.future.done()]  # their clients went away
        if not self.waiting:
            return []
        first = self.waiting[0]
        if not self.batching:
            batch = [j for j in self.waiting if j.request == first.request]
        else:
            batch, tokens = [], 0
            for j in self.waiting:
                if j.key == first.key and (not batch or tokens + len(j.ids) <= self.max_batch_tokens):
                    batch.append(j)
                    tokens += len(j.ids)
        taken = set(map(id, batch))
        self.waiting = [j for j in self.waiting if id(j) not in taken]
        return batch

    async def _collect(self) -> None:
        while True:
            if not self.waiting:
                self._add(await self.queue.get())
            self._drain_queue()
            if not self.waiting:
                continue
            await self._gather()
            batch = self._take()
            if batch:
                await self._run(batch)

    async def _run(self, batch: list[Job]) -> None:
        try:
            results = await self.run_exclusive(lambda: self.decode(batch[0].key, [j.ids for j in batch]))
        except Exception as exc:
            requests = sorted({j.request for j in batch})
            if len(requests) > 1:  # decode each request alone: only those that fail again get the error
                for req in requests:
                    await self._run([j for j in batch if j.request == req])
                return
            for j in batch:
                if not j.future.done():
                    j.future.set_exception(exc)
            return
        self.batches += 1
        for j, r in zip(batch, results):
            if not j.future.done():
                j.future.set_result(r)
