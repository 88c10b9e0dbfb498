"""Guards of the whole test session.

Memory: the suite's process is given a data limit (``RLIMIT_DATA``, default 8 GiB; ``VECTORSEQ_TEST_MEMORY_GB``
sets it, 0 turns it off), which its subprocesses (DDP ranks, CLI runs) inherit. A test that allocates far beyond
what the suite needs (it peaks at about 1.5 GB) then fails on its own with MemoryError and a traceback naming
it, instead of the kernel killing the whole run: a CI run was once OOM-killed at 22.7 GB with no way to tell
which test had asked for it.
"""
from __future__ import annotations

import os
import resource


def pytest_configure(config):
    gb = float(os.environ.get("VECTORSEQ_TEST_MEMORY_GB", "8"))
    if gb <= 0:
        return
    limit = int(gb * 2**30)
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY and hard < limit:
        limit = hard  # never ask for more than the machine already allows
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
