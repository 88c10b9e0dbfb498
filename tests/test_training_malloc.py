"""training/malloc.py: glibc's thresholds are raised once per process, and a user's own settings win."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHECK = ("import vectorseq.training.malloc as m; first = m.keep_freed_memory(); "
         "print(first, m.keep_freed_memory())")


def _run(env_extra: dict) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    r = subprocess.run([sys.executable, "-c", CHECK], env={**env, **env_extra}, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_thresholds_are_raised_unless_the_user_set_malloc_options():
    assert _run({}) == "True True"  # raised, and the second call is a no-op that reports it
    assert _run({"MALLOC_ARENA_MAX": "2"}) == "False False"
    assert _run({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"}) == "False False"


def test_cpu_training_raises_them(monkeypatch, tmp_path):
    """start_run calls it for a CPU run (and it is what the A/B benchmark measures)."""
    from _tiny_training import quiet, tiny_config

    from vectorseq.training import run as run_mod

    calls = []
    monkeypatch.setattr(run_mod, "keep_freed_memory", lambda: calls.append(1) or True)
    r = run_mod.start_run(tiny_config(), tmp_path / "m", quiet)
    r.release()
    assert calls == [1]
