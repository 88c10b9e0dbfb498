"""The test session's own guards (tests/conftest.py)."""
from __future__ import annotations

import os
import resource

import pytest
import torch


@pytest.mark.skipif(float(os.environ.get("VECTORSEQ_TEST_MEMORY_GB", "8")) <= 0, reason="memory guard turned off")
def test_a_test_asking_for_far_too_much_memory_fails_alone_instead_of_killing_the_run():
    soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
    assert soft != resource.RLIM_INFINITY and soft <= 8 * 2**30
    with pytest.raises(RuntimeError, match="can't allocate memory"):
        torch.empty(soft // 4 + 2**28)  # just over the limit (pages untouched: without the guard this succeeds)
