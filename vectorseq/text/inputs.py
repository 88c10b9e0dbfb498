"""Checks on what callers hand the vectorizer: texts, a text, id sequences; each failure is a clear error."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..errors import VectorseqError


def iter_texts(texts: Iterable[str], method: str) -> Iterator[str]:
    """Yield the texts, checking that each is a ``str`` (and that ``texts`` is not a single string)."""
    if isinstance(texts, (str, bytes)):
        raise VectorseqError(
            f"{method}() expects an iterable of strings, got a single {type(texts).__name__}; "
            f"wrap it in a list: {method}([text])"
        )
    try:
        iterator = iter(texts)
    except TypeError:
        raise VectorseqError(f"{method}() expects an iterable of strings, got {type(texts).__name__}") from None
    for i, text in enumerate(iterator):
        if not isinstance(text, str):
            raise VectorseqError(
                f"{method}(): text #{i} is {type(text).__name__}, expected str"
                + (" (decode bytes with .decode('utf-8') first)" if isinstance(text, bytes) else "")
            )
        yield text


def check_text(text: Any, method: str) -> str:
    """``text`` if it is a str."""
    if not isinstance(text, str):
        raise VectorseqError(f"{method}() expects a str, got {type(text).__name__}")
    return text


def to_id_list(ids: Any) -> list[int]:
    """Accept a list / tuple / numpy array / torch tensor of ints (1-D) and return a list of ints."""
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if isinstance(ids, int):
        raise VectorseqError("expected a sequence of ids, got a single int; wrap it in a list")
    try:
        return [int(i) for i in ids]
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float among the ids
        raise VectorseqError(f"expected a 1-D sequence of integer ids, got {ids!r:.80}") from None
