"""Shared helpers of the server tests (tests/test_serve_*.py): one tiny model trained per test session, and
the real server started as a subprocess on a free loopback port."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from _tiny_training import quiet, tiny_config

from vectorseq.training import train

ROOT = Path(__file__).resolve().parents[1]
#: sentences of the built-in corpus's kind (numbers and dates), of varied lengths
SENTENCES = ["two thousand and one", "three hundred", "the 5th of March 1999", "forty-two", "seven",
             "nine hundred and ninety-nine thousand", "the 1st of January 2020", "sixty", "eleven", "one",
             "eight thousand four hundred and twelve", "twenty-three"]


def served_model(tmp_path_factory) -> Path:
    """A tiny model that translates the sentences above into something non-empty (300 updates, ~15 s),
    trained once per session (the base temp folder is the session's)."""
    out = tmp_path_factory.getbasetemp() / "serve-tiny"
    if not (out / "metrics.json").is_file():
        cfg = tiny_config(training={"max_steps": 300, "valid_every": 300, "lr": 0.005})
        train(cfg, out, progress=False, evaluate_test=False, log=quiet)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``vectorseq serve`` in a subprocess; its stderr goes to ``log_path``."""

    def __init__(self, model_dirs: list[Path], log_path: Path, *args: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        cmd = [sys.executable, "-m", "vectorseq", "serve", *map(str, model_dirs), "--port", str(self.port),
               "--threads", "1", *args]
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not start within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
