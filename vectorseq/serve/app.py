"""The HTTP application (FastAPI): routes, API key, errors as JSON, and the page at ``/``.

Routes: ``POST /translate``, ``POST /explain``, ``GET /models``, ``GET /health``, ``GET /`` (the page; its
files under ``/static``), and FastAPI's own ``/docs`` and ``/openapi.json``. Bodies are read and checked here
(:func:`vectorseq.serve.limits.parse_body`) rather than by FastAPI's body parameters so that every refusal,
invalid UTF-8 included, is the one JSON error shape with the field or limit it concerns; the OpenAPI schema
still documents them (``openapi_extra``).

No traceback reaches a client: :class:`ServeError` becomes its JSON error, anything unexpected a 500 with
``internal_error``; each is one line in the server log (logger ``vectorseq.serve``).
"""
from __future__ import annotations

import hmac
import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import VectorseqError
from .batching import Batcher
from .engines import CT2Engine, TorchEngine, describe
from .limits import (ExplainRequest, Limits, ServeError, TranslateRequest, check_search, check_text,
                     check_translate, parse_body)

log = logging.getLogger("vectorseq.serve")
STATIC = Path(__file__).parent / "static"
Engine = TorchEngine | CT2Engine


class Registry:
    """The served models by name, and which one a request means."""

    def __init__(self, engines: dict[str, Engine]):
        self.engines = engines

    def resolve(self, model: str | None, tgt_lang: str | None) -> tuple[str, Engine]:
        if model is not None and model not in self.engines:
            raise ServeError(404, "unknown_model", f"no model named {model!r}; this server has "
                             f"{', '.join(self.engines)} (GET /models)", field="model", available=list(self.engines))
        names = [model] if model is not None else list(self.engines)
        if tgt_lang is None:
            return names[0], self.engines[names[0]]
        for n in names:
            if self.engines[n].config.data.tgt_lang == tgt_lang:
                return n, self.engines[n]
        langs = sorted({self.engines[n].config.data.tgt_lang for n in names})
        raise ServeError(422, "unknown_language", f"no model {'named ' + repr(model) + ' ' if model else ''}"
                         f"translates into {tgt_lang!r}; target languages: {', '.join(langs)}", field="tgt_lang")


async def _read_body(request: Request, limits: Limits) -> bytes:
    """The body, refused with 413 as soon as it is longer than ``max_body_bytes`` (before it is all read)."""
    over = ServeError(413, "body_too_large", f"the request body is over {limits.max_body_bytes} bytes",
                      limit="max_body_bytes", value=limits.max_body_bytes)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise over
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise over
        chunks.append(chunk)
    return b"".join(chunks)


def _schema(model: type[BaseModel]) -> dict:
    """``openapi_extra`` documenting a JSON body that the route reads itself."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def _error_response(request: Request, err: ServeError) -> JSONResponse:
    log.warning("%s %s -> %d %s: %s", request.method, request.url.path, err.status, err.code, err)
    return JSONResponse(err.body(), status_code=err.status)


class ErrorGuard:
    """Pure ASGI middleware: an exception nothing else handled becomes a JSON 500 and one log line (Starlette's
    own error middleware would print a traceback)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        started = False

        async def tracking_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)
        try:
            await self.app(scope, receive, tracking_send)
        except Exception as e:  # noqa: BLE001 - the last line of defence: log one line, answer JSON
            log.error("%s %s -> 500 internal_error: %s: %s", scope.get("method", ""), scope.get("path", ""),
                      type(e).__name__, str(e).splitlines()[0][:200] if str(e) else "")
            if scope["type"] == "http" and not started:
                body = ServeError(500, "internal_error", "the server failed on this request; its log has one line "
                                  "about it").body()
                await JSONResponse(body, status_code=500)(scope, receive, send)


def _search(engine: Engine, beam: int | None, n_best: int, limits: Limits) -> int:
    beam = engine.config.decoding.beam_size if beam is None else beam
    check_search(beam, n_best, limits)
    return beam


def _encode(engine: Engine, texts: list[str]) -> list[list[int]]:
    try:
        return engine.encode(texts)
    except VectorseqError as e:
        raise ServeError(422, "invalid_text", f"a text could not be vectorized: {e}", field="texts") from None


class Service:
    """What the routes share: the models, the batcher, the limits, the key, and whether it is draining."""

    def __init__(self, engines: dict[str, Engine], limits: Limits, api_key: str | None):
        self.registry, self.limits, self.api_key = Registry(engines), limits, api_key
        self.batcher = Batcher(self._decode, limits.max_batch_tokens, limits.max_wait_ms, limits.max_queue,
                               limits.batching)
        self.draining = False

    def _decode(self, key: tuple, ids: list[list[int]]) -> list[Any]:
        name, beam, n_best = key
        return self.registry.engines[name].decode(ids, beam, n_best)

    def admit(self, request: Request, post: bool = True) -> None:
        """Refuse a request without the API key (401) or, for work, one that arrives while shutting down (503)."""
        if self.api_key is not None:
            auth = request.headers.get("authorization", "")
            given = auth[7:] if auth.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
            if not hmac.compare_digest(given.encode(), self.api_key.encode()):
                raise ServeError(401, "unauthorized", "this server needs an API key: send 'Authorization: Bearer "
                                 "KEY' or 'X-API-Key: KEY'")
        if post and self.draining:
            raise ServeError(503, "shutting_down", "the server is shutting down and accepts no new requests")

    async def translate(self, request: Request) -> dict:
        t0 = time.perf_counter()
        self.admit(request)
        req = parse_body(await _read_body(request, self.limits), TranslateRequest, self.limits)
        check_translate(req, self.limits)
        name, engine = self.registry.resolve(req.model, req.tgt_lang)
        beam = _search(engine, req.beam, req.n_best, self.limits)
        keep = [i for i, t in enumerate(req.texts) if t.strip()]  # an empty text translates to an empty text
        ids = _encode(engine, [req.texts[i] for i in keep]) if keep else []
        results = await self._submit((name, beam, req.n_best), ids)
        hyps: list[list[tuple[str, float | None]]] = [[("", 0.0)] * req.n_best for _ in req.texts]
        for i, r in zip(keep, results):
            hyps[i] = r
        out: dict[str, Any] = {"translations": [h[0][0] for h in hyps], "model": name}
        if req.n_best > 1:
            out["n_best"] = [[{"text": t, "score": s} for t, s in h] for h in hyps]
        out["elapsed_ms"] = round(1000 * (time.perf_counter() - t0), 2)
        return out

    async def _submit(self, key: tuple, ids: list[list[int]]) -> list[Any]:
        if not ids:
            return []
        try:
            return await self.batcher.submit(key, ids)
        except ServeError:
            raise
        except Exception as e:  # the decoder failed on this request (and, alone, again): one line, a 500
            log.error("decoding failed for model %s: %s: %s", key[0], type(e).__name__, str(e)[:200])
            raise ServeError(500, "translation_failed", "the model failed on this request; the server log "
                             "has one line about it") from None

    async def explain(self, request: Request) -> dict:
        t0 = time.perf_counter()
        self.admit(request)
        req = parse_body(await _read_body(request, self.limits), ExplainRequest, self.limits)
        check_text(req.text, "text", self.limits)
        name, engine = self.registry.resolve(req.model, req.tgt_lang)
        beam = _search(engine, req.beam, req.n_best, self.limits)
        layers = engine.config.model.decoder_layers if engine.config.model.type == "transformer" else 1
        if req.layer is not None and not -layers <= req.layer < layers:
            raise ServeError(422, "invalid_field", f"layer must be in [-{layers}, {layers - 1}] for model {name}",
                             field="layer")
        _encode(engine, [req.text])
        out = await self.batcher.run_exclusive(lambda: engine.explain(req.text, beam, req.n_best, req.layer))
        return {**out, "model": name, "engine": engine.kind,
                "elapsed_ms": round(1000 * (time.perf_counter() - t0), 2)}

    def health(self) -> dict:
        return {"status": "draining" if self.draining else "ok", "models": list(self.registry.engines),
                "queued": self.batcher.pending, "batches": self.batcher.batches}


def build_app(engines: dict[str, Engine], limits: Limits = Limits(), api_key: str | None = None) -> FastAPI:
    """The application serving ``engines`` (name -> engine); ``app.state.service`` holds its state."""
    service = Service(engines, limits, api_key)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.batcher.start()
        yield
        await service.batcher.stop()  # uvicorn has let every open request finish first

    app = FastAPI(title="vectorseq", summary="Translation with the vectorizer inside: raw text in, raw text out",
                  lifespan=lifespan)
    app.state.service = service
    app.add_middleware(ErrorGuard)
    app.add_exception_handler(ServeError, _error_response)

    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error_response(request, ServeError(exc.status_code, code, str(exc.detail)))
    app.add_exception_handler(StarletteHTTPException, http_error)
    _routes(app, service)
    return app


def _routes(app: FastAPI, service: Service) -> None:
    @app.post("/translate", openapi_extra=_schema(TranslateRequest), summary="Translate raw texts")
    async def translate(request: Request) -> dict:
        return await service.translate(request)

    @app.post("/explain", openapi_extra=_schema(ExplainRequest),
              summary="Translate one text and show how it was vectorized (pieces, ids, rows, attention)")
    async def explain(request: Request) -> dict:
        return await service.explain(request)

    @app.get("/models", summary="The served models: languages, vectorization, parameters")
    async def models(request: Request) -> dict:
        service.admit(request, post=False)
        return {"models": [describe(n, e) for n, e in service.registry.engines.items()],
                "limits": service.limits.to_dict()}

    @app.get("/health", summary="Liveness, queue length and batches decoded (no API key needed)")
    async def health() -> dict:
        return service.health()

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
