"""Keep freed memory mapped on Linux (glibc), so that each training step reuses the pages of the last one.

glibc's malloc serves a request above its mmap threshold (which its dynamic rule raises to 32 MB at most) with
fresh pages from ``mmap`` and unmaps them when the block is freed. A CPU training step allocates and frees the
same large tensors every step (Transformer-tiny: the [tokens, 8,000] logits, 80 MB, and the tensors around
them), and the first touch of every fresh 4 KB page is a page fault: ~6% of a step (benchmarks/RESULTS.md,
"malloc thresholds"). Raising the mmap and trim thresholds keeps such blocks in the heap for the next step.

The setting is process-wide; what it costs is that memory freed at the top of the heap is not given back to
the system, so the process keeps the resident size it peaked at, which a training process reaches every step
anyway. Arithmetic is unchanged. A user's own ``MALLOC_*`` or ``GLIBC_TUNABLES`` settings win (nothing is
changed then); off glibc it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

#: mallopt's parameter numbers (glibc's malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: blocks below this come from the heap and are reused; 1 GiB covers the logits of a 32k vocabulary at 8k tokens
THRESHOLD = 1 << 30
_done = False


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if they are (or already were) raised."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or _user_set():
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    _done = bool(mallopt(_M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, THRESHOLD))
    return _done


def _user_set() -> bool:
    return any(k.startswith("MALLOC_") for k in os.environ) or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", "")
