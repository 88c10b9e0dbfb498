"""User-facing errors.

Everything a user can get wrong (a missing file, a bad config value, a malformed line) raises a
:class:`VectorseqError`. The CLI prints its message as one line and exits with status 2; ``--debug``
shows the traceback. Messages name the file, the line (when there is one) and the fix.
"""
from __future__ import annotations

import difflib
from typing import Iterable


class VectorseqError(Exception):
    """A mistake in the user's input, reported as one clear line."""


class ConfigError(VectorseqError):
    """An unknown key, a missing key or a bad value in a config."""


class DataError(VectorseqError):
    """A problem with a data file: names the file and, where it applies, the line."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


def did_you_mean(value: object, options: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The option closest to ``value`` (:mod:`difflib`), or None; every "did you mean" hint uses this."""
    close = difflib.get_close_matches(str(value), list(options), n=1, cutoff=cutoff)
    return close[0] if close else None
