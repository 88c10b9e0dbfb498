"""Small files for the data-stage tests: text or raw bytes, plain or gzip."""
from __future__ import annotations

import gzip
from pathlib import Path


def write(path: Path, data: str | bytes, gz: bool = False) -> Path:
    """Write text (UTF-8) or raw bytes to ``path``, gzip-compressed if ``gz``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def pair_files(tmp_path: Path, src: str | bytes, tgt: str | bytes) -> tuple[Path, Path]:
    return write(tmp_path / "src.txt", src), write(tmp_path / "tgt.txt", tgt)
