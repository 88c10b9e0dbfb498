"""Checks of the data stage's arguments: a wrong value raises a :class:`~vectorseq.errors.ConfigError` at once.

The readers, the streaming classes and the samplers take the same options (``on_error``, length limits,
TSV columns, counts); they are checked here, once, with the same messages everywhere.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from vectorseq.errors import ConfigError

__all__ = ["check_int", "check_read_options", "check_columns"]


def _is_int(value: Any) -> bool:
    """An integer, numpy integers included; not a bool (``True`` is an ``int`` to Python)."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int if it is an integer ``>= minimum``, else a ConfigError naming ``name``."""
    if not _is_int(value) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_read_options(on_error: str, max_length: int | None, max_length_ratio: float | None, min_length: int) -> None:
    """The validation options every pair reader takes (see :mod:`vectorseq.data.pairs`)."""
    if on_error not in ("raise", "skip"):
        raise ConfigError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1):
        raise ConfigError(f"max_length must be a positive integer or None, got {max_length!r}")
    if max_length_ratio is not None and (
        isinstance(max_length_ratio, bool) or not isinstance(max_length_ratio, (int, float)) or max_length_ratio < 1
    ):
        raise ConfigError(f"max_length_ratio must be a number >= 1 or None, got {max_length_ratio!r}")
    if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 0:
        raise ConfigError(f"min_length must be a non-negative integer, got {min_length!r}")
    if max_length is not None and min_length > max_length:
        raise ConfigError(f"min_length ({min_length}) is larger than max_length ({max_length})")


def check_columns(src_column: int, tgt_column: int, n_columns: int | None) -> None:
    """The column options of a TSV file: two different 0-based indices, and a row width that holds both.

    (Numpy integers are accepted, as the streaming reader always did.)"""
    for name, col in (("src_column", src_column), ("tgt_column", tgt_column)):
        if not _is_int(col) or col < 0:
            raise ConfigError(f"{name} must be a non-negative integer (0-based column index), got {col!r}")
    if src_column == tgt_column:
        raise ConfigError(f"src_column and tgt_column are both {src_column}; they must name different columns")
    needed = max(src_column, tgt_column) + 1
    if n_columns is not None and (not _is_int(n_columns) or n_columns < needed):
        raise ConfigError(
            f"n_columns must be an integer >= {needed} for columns {src_column} and {tgt_column}, got {n_columns!r}"
        )
