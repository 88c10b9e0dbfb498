"""The batcher on its own (no HTTP, a recording decoder): concurrent requests share batches within the token
budget, keys never mix, one request's failure fails only that request, a full queue is a 429, batching off
decodes one request per batch, and stop() answers everything accepted."""
from __future__ import annotations

import asyncio

import pytest

from vectorseq.serve.batching import Batcher
from vectorseq.serve.limits import ServeError


class Recorder:
    """decode(key, ids) -> the sum of each id list (with the key), remembering every batch."""

    def __init__(self, fail_on: int | None = None):
        self.batches: list[tuple] = []
        self.fail_on = fail_on

    def __call__(self, key, ids):
        self.batches.append((key, [list(x) for x in ids]))
        if self.fail_on is not None and any(self.fail_on in x for x in ids):
            raise ValueError("poisoned sentence")
        return [(key, sum(x)) for x in ids]


def _run(batcher: Batcher, requests: list[tuple]) -> list:
    async def main():
        batcher.start()
        out = await asyncio.gather(*(batcher.submit(k, ids) for k, ids in requests), return_exceptions=True)
        await batcher.stop()
        return out
    return asyncio.run(main())


def test_concurrent_requests_share_batches_within_the_token_budget():
    rec = Recorder()
    requests = [("m", [[i, 1], [i, 2, 3]]) for i in range(20)]  # 5 tokens per request
    out = _run(Batcher(rec, max_batch_tokens=30, max_wait_ms=200), requests)
    assert out == [[("m", i + 1), ("m", i + 5)] for i in range(20)]
    assert len(rec.batches) < 20 and all(sum(map(len, ids)) <= 30 for _, ids in rec.batches)
    assert sum(len(ids) for _, ids in rec.batches) == 40  # every sentence decoded once


def test_sentences_with_different_keys_never_share_a_batch():
    rec = Recorder()
    out = _run(Batcher(rec, max_wait_ms=100), [("a", [[1]]), ("b", [[2]]), ("a", [[3]]), ("b", [[4]])])
    assert out == [[("a", 1)], [("b", 2)], [("a", 3)], [("b", 4)]]
    assert sorted((k, sorted(sum(ids, []))) for k, ids in rec.batches) == [("a", [1, 3]), ("b", [2, 4])]


def test_a_failing_request_fails_alone():
    rec = Recorder(fail_on=666)
    out = _run(Batcher(rec, max_wait_ms=200), [("m", [[1]]), ("m", [[666], [2]]), ("m", [[3]])])
    assert out[0] == [("m", 1)] and out[2] == [("m", 3)]
    assert isinstance(out[1], ValueError)
    assert len(rec.batches[0][1]) == 4  # they were batched together first, then retried one request at a time


def test_a_full_queue_is_refused_with_429():
    async def main():
        b = Batcher(Recorder(), max_wait_ms=300, max_queue=3)
        b.start()
        first = asyncio.create_task(b.submit("m", [[1], [2], [3]]))
        await asyncio.sleep(0.05)
        with pytest.raises(ServeError) as e:
            await b.submit("m", [[4]])
        assert e.value.status == 429 and e.value.extra["limit"] == "max_queue"
        assert await first == [("m", 1), ("m", 2), ("m", 3)]
        await b.stop()
    asyncio.run(main())


def test_batching_off_decodes_one_request_per_batch():
    rec = Recorder()
    requests = [("m", [[i], [i, 1]]) for i in range(6)]
    out = _run(Batcher(rec, max_wait_ms=200, batching=False), requests)
    assert out == [[("m", i), ("m", i + 1)] for i in range(6)]
    assert [len(ids) for _, ids in rec.batches] == [2] * 6


def test_stop_answers_what_was_accepted_without_waiting_out_max_wait():
    async def main():
        b = Batcher(Recorder(), max_wait_ms=60_000)
        b.start()
        task = asyncio.create_task(b.submit("m", [[5]]))
        await asyncio.sleep(0.05)
        await asyncio.wait_for(b.stop(), 5)  # draining flushes at once
        return await task
    assert asyncio.run(main()) == [("m", 5)]
