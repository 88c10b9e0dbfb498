"""Running the application: load the model folders, then uvicorn with a graceful SIGTERM.

On SIGTERM (or Ctrl-C) the service starts draining at once: requests that arrive on open connections get a
503, uvicorn stops accepting connections, lets every request already accepted finish (no time limit: a
queued sentence is never dropped), and only then does the batcher stop. Binds to 127.0.0.1 unless told
otherwise; ``--api-key`` (or ``$VECTORSEQ_API_KEY``) protects every route but ``/health`` and the page.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import uvicorn

from ..errors import VectorseqError
from .app import build_app, log
from .engines import load_engine
from .limits import Limits

API_KEY_ENV = "VECTORSEQ_API_KEY"


@dataclass
class ServeOptions:
    model_dirs: Sequence[str]
    host: str = "127.0.0.1"
    port: int = 8000
    engine: str = "pytorch"
    compute_type: str = "default"
    device: str = "cpu"
    threads: int | None = None  # torch / CTranslate2 threads of the decode thread (None: the library's default)
    api_key: str | None = None
    limits: Limits = field(default_factory=Limits)


def model_names(dirs: Sequence[str]) -> list[str]:
    """Each folder's name, made unique with -2, -3, ... (two runs/*/best folders must not collide)."""
    names: list[str] = []
    for d in dirs:
        base = Path(d).resolve().name or "model"
        name, k = base, 2
        while name in names:
            name, k = f"{base}-{k}", k + 1
        names.append(name)
    return names


class _DrainingServer(uvicorn.Server):
    """uvicorn's server, which first marks the service as draining when a stop signal arrives."""

    def __init__(self, config: uvicorn.Config, service: Any):
        super().__init__(config)
        self.service = service

    def handle_exit(self, sig: int, frame: Any) -> None:
        if not self.service.draining:
            log.info("signal %d: answering the %d queued sentence(s), refusing new requests", sig,
                     self.service.batcher.pending)
        self.service.draining = True
        self.service.batcher.drain_threadsafe()
        super().handle_exit(sig, frame)


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def run_server(opts: ServeOptions) -> None:
    """Load every model folder, then serve until SIGTERM / Ctrl-C."""
    if not opts.model_dirs:
        raise VectorseqError("serve: give at least one model folder")
    if opts.threads:
        torch.set_num_threads(opts.threads)
    intra = {"intra_threads": opts.threads} if opts.threads and opts.engine == "ctranslate2" else {}
    engines = {}
    for name, d in zip(model_names(opts.model_dirs), opts.model_dirs):
        engines[name] = load_engine(d, opts.engine, opts.device, opts.compute_type, **intra)
    _setup_logging()
    key = opts.api_key or os.environ.get(API_KEY_ENV) or None
    app = build_app(engines, opts.limits, key)
    log.info("serving %s (%s) on http://%s:%d/%s", ", ".join(engines), opts.engine, opts.host, opts.port,
             " with an API key" if key else "")
    config = uvicorn.Config(app, host=opts.host, port=opts.port, log_level="info", access_log=False,
                            timeout_graceful_shutdown=None, lifespan="on")
    _DrainingServer(config, app.state.service).run()
