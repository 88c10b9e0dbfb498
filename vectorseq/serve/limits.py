"""What the server accepts: the limits, the request bodies, and the one error shape every refusal uses.

Every error a client can cause is a :class:`ServeError`: an HTTP status and a JSON body

    {"error": {"code": "too_many_texts", "message": "...", "limit": "max_texts", "value": 64}}

(``limit``/``value`` for a limit that was exceeded, ``field`` for a bad field). Statuses: 401 a missing or
wrong API key; 404 an unknown model; 413 a text, a request or a body over its limit; 422 malformed JSON,
invalid UTF-8, a wrong type, an unknown target language, a search setting out of range; 429 the queue is
full; 503 the server is shutting down.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError


@dataclass(frozen=True)
class Limits:
    """The server's limits (``vectorseq serve --max-chars ...``)."""

    max_chars: int = 2000  # characters per text (data.max_chars' default: what training accepts)
    max_texts: int = 64  # texts per /translate request
    max_queue: int = 1024  # sentences accepted but not yet translated, over all requests
    max_beam: int = 16
    max_batch_tokens: int = 2048  # source ids per decoded batch (cross-request batching)
    max_wait_ms: float = 5.0  # how long the oldest queued sentence may wait for company
    batching: bool = True  # False: each request is decoded alone (the baseline of benchmarks/bench_serve.py)

    @property
    def max_body_bytes(self) -> int:
        """A body that cannot hold ``max_texts`` texts of ``max_chars`` (4 UTF-8 bytes or a 12-byte JSON
        escape pair each) is refused before it is parsed."""
        return self.max_texts * (self.max_chars * 12 + 8) + 4096

    def to_dict(self) -> dict:
        return {**asdict(self), "max_body_bytes": self.max_body_bytes}


class ServeError(Exception):
    """A refusal the client caused (or a failure it must be told about), as one JSON error."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.extra = status, code, extra

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": str(self), **self.extra}}


class TranslateRequest(BaseModel):
    """``POST /translate``."""

    model_config = ConfigDict(extra="forbid")
    texts: list[StrictStr] = Field(description="Raw source texts; an empty text translates to an empty text.")
    beam: StrictInt | None = Field(None, description="Beam size (1 = greedy); null: the model's config.")
    n_best: StrictInt = Field(1, description="Hypotheses per text (at most beam); >1 adds `n_best` to the answer.")
    tgt_lang: StrictStr | None = Field(None, description="Target language; picks a model that produces it.")
    model: StrictStr | None = Field(None, description="Model name (GET /models); null: the first that fits.")


class ExplainRequest(BaseModel):
    """``POST /explain``: one text, its translation and how it was vectorized (what the page at / shows)."""

    model_config = ConfigDict(extra="forbid")
    text: StrictStr
    beam: StrictInt | None = None
    n_best: StrictInt = 1
    tgt_lang: StrictStr | None = None
    model: StrictStr | None = None
    layer: StrictInt | None = Field(None, description="One decoder layer's attention; null: the layers' average.")


def _field(loc: tuple) -> str:
    """``("texts", 2)`` -> ``texts[2]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def parse_body(body: bytes, model: type[BaseModel], limits: Limits) -> Any:
    """The request model from raw body bytes, or a :class:`ServeError` naming what is wrong and where."""
    if len(body) > limits.max_body_bytes:
        raise ServeError(413, "body_too_large", f"the request body has {len(body)} bytes; the limit is "
                         f"{limits.max_body_bytes}", limit="max_body_bytes", value=limits.max_body_bytes)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ServeError(422, "invalid_utf8", f"the request body is not valid UTF-8 (byte {e.start}); send "
                         "UTF-8 JSON", field="body") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ServeError(422, "invalid_json", f"the request body is not JSON: {e.msg} at line {e.lineno} "
                         f"column {e.colno}", field="body") from None
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = _field(tuple(first["loc"]))
        raise ServeError(422, "invalid_field", f"{field}: {first['msg']}", field=field) from None


def check_text(text: str, field: str, limits: Limits) -> None:
    """A text over ``max_chars`` is 413; one that cannot be UTF-8 (a lone surrogate sent as a JSON escape)
    is 422."""
    if len(text) > limits.max_chars:
        raise ServeError(413, "text_too_long", f"{field} has {len(text)} characters; the limit is "
                         f"{limits.max_chars} (split the text into sentences)", limit="max_chars",
                         value=limits.max_chars, field=field)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ServeError(422, "invalid_unicode", f"{field} is not valid Unicode (a lone surrogate at "
                         f"character {e.start})", field=field) from None


def check_search(beam: int, n_best: int, limits: Limits) -> None:
    if not 1 <= beam <= limits.max_beam:
        raise ServeError(422, "invalid_field", f"beam must be between 1 and {limits.max_beam}, got {beam}",
                         field="beam", limit="max_beam", value=limits.max_beam)
    if not 1 <= n_best <= beam:
        raise ServeError(422, "invalid_field", f"n_best must be between 1 and the beam ({beam}), got {n_best}",
                         field="n_best")


def check_translate(req: TranslateRequest, limits: Limits) -> None:
    if len(req.texts) > limits.max_texts:
        raise ServeError(413, "too_many_texts", f"the request has {len(req.texts)} texts; the limit is "
                         f"{limits.max_texts} per request", limit="max_texts", value=limits.max_texts)
    for i, t in enumerate(req.texts):
        check_text(t, f"texts[{i}]", limits)
