"""Shared by the fuzz tests (tests/test_fuzz_*.py): the one rule every hostile input must obey.

A call on generated input may succeed, or raise a :class:`vectorseq.errors.VectorseqError` whose message is one
line (the CLI prints it as ``error: ...`` without a traceback). Any other exception is a bug, and so is a call
that hangs: :func:`outcome` stops it after ``seconds`` with SIGALRM and fails.
"""
from __future__ import annotations

import contextlib
import os
import signal
from typing import Any, Callable, Iterator

from hypothesis import HealthCheck, event, settings
from hypothesis.control import currently_in_test_context

from vectorseq.errors import VectorseqError

#: examples per fuzz test: 60 in CI; VECTORSEQ_HYPOTHESIS_EXAMPLES=2000 makes a long, fuzz-style run of the same tests
EXAMPLES = int(os.environ.get("VECTORSEQ_HYPOTHESIS_EXAMPLES", "60"))
#: the profile every fuzz test uses (CI runs them): a bounded number of examples, no per-example deadline (a
#: loaded CI machine must not turn a slow example into a failure), fixtures shared between examples
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])


class Hang(Exception):
    """A call on fuzzed input ran past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def fire(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _count(what: str) -> None:
    """--hypothesis-show-statistics shows how often each outcome came up (events exist inside @given only)."""
    if currently_in_test_context():
        event(what)


def outcome(fn: Callable[[], Any], seconds: float = 30.0) -> tuple[str, Any]:
    """``("ok", result)`` or ``("error", the VectorseqError)``; anything else propagates (the test fails)."""
    try:
        with time_limit(seconds):
            result = fn()
        _count("outcome: ok")
        return "ok", result
    except VectorseqError as e:
        _count(f"outcome: {type(e).__name__}")
        message = str(e)
        assert message.strip(), f"{type(e).__name__} with an empty message"
        assert "\n" not in message, f"a {type(e).__name__} of more than one line: {message!r}"
        assert "Traceback" not in message, message
        return "error", e
