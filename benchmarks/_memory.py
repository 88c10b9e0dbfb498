"""Peak-memory helpers shared by the benchmarks (Linux /proc; None elsewhere)."""
from __future__ import annotations

from pathlib import Path


def status_mb(field: str) -> float | None:
    """A /proc/self/status field in MB, e.g. VmRSS (current) or VmHWM (peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak() -> float | None:
    """Reset the kernel's peak-RSS mark (``echo 5 > /proc/self/clear_refs``); return the current RSS in MB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return status_mb("VmRSS")
