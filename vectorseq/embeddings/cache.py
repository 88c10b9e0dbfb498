"""The on-disk cache of built pretrained matrices (``KEY.npy`` + ``KEY.json``; never pickle).

The cache lives in ``cache_dir`` (default ``$VECTORSEQ_CACHE/vectors``, or ``~/.cache/vectorseq/vectors``
when the variable is unset). ``KEY`` hashes the vectors file's absolute path, size and mtime (and those of
the word list / index), the requested format, the vocabulary and every option of
:func:`vectorseq.embeddings.matrix.build_matrix`, so a hit never opens the vectors file at all.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .vectors_io import NAMED_SOURCES, named_files

__all__ = ["cache_key", "default_cache_dir", "load_cached", "save_cached"]

_CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """``$VECTORSEQ_CACHE/vectors``, or ``~/.cache/vectorseq/vectors`` when the variable is unset."""
    root = os.environ.get("VECTORSEQ_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "vectorseq"
    return base / "vectors"


def _stat(path: str | None) -> list | None:
    if path is None:
        return None
    st = os.stat(path)
    return [str(Path(path).resolve()), st.st_size, st.st_mtime_ns]


def _source_files(source: str, format: str, words: str | os.PathLike | None) -> list:
    """Path, size and mtime of every file the matrix is read from (raises OSError for a missing file)."""
    if source in NAMED_SOURCES and not Path(source).exists() or format == "glove-6b-50d":
        return [_stat(p) for p in named_files(source if source in NAMED_SOURCES else "glove-6b-50d")]
    path = str(Path(source).expanduser().resolve())
    files = [_stat(path)]
    if words is not None:
        files.append(_stat(str(words)))
    else:
        base = path[:-4] if path.endswith(".npy") else path
        files += [_stat(base + ext) for ext in (".vocab", ".txt") if Path(base + ext).is_file()]
    return files


def cache_key(source: str, format: str, words: str | os.PathLike | None, vocabulary: list[str],
              options: dict) -> str:
    """The cache key of a matrix: its source files (path, size, mtime), format, vocabulary and options."""
    files = _source_files(source, format, words)
    vocab_hash = hashlib.sha256(json.dumps(vocabulary, ensure_ascii=False).encode("utf-8")).hexdigest()
    payload = {"v": _CACHE_VERSION, "files": files, "format": format, "vocab": vocab_hash, "options": options}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:40]


def load_cached(directory: Path, key: str, n_rows: int) -> tuple[np.ndarray, dict] | None:
    """``(matrix, meta)`` of a cached matrix of ``n_rows`` rows, or None (a miss, or an unusable entry)."""
    meta_path, npy_path = directory / f"{key}.json", directory / f"{key}.npy"
    if not meta_path.is_file() or not npy_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        matrix = np.load(npy_path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    how = meta.get("how")
    if matrix.dtype != np.float32 or matrix.shape != (n_rows, meta.get("dim")) or len(how) != n_rows:
        return None
    return matrix, meta


def save_cached(directory: Path, key: str, matrix: np.ndarray, meta: dict) -> None:
    """Write a matrix and its JSON meta atomically; a cache that cannot be written is a warning."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for suffix, write in ((".npy", lambda f: np.save(f, matrix, allow_pickle=False)),
                              (".json", lambda f: f.write(json.dumps(meta).encode("utf-8")))):
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{key}", suffix=suffix)
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, directory / f"{key}{suffix}")
    except OSError as e:
        warnings.warn(f"vectorseq: cannot write the vectors cache in {directory} ({e}); "
                      "set VECTORSEQ_CACHE or cache_dir=, or cache_dir=False", stacklevel=3)
