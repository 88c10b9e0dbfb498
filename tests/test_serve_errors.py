"""Failures inside the server (in-process, FastAPI's TestClient, an engine made to fail): a decoder error is a
JSON 500 for that request only, an unexpected exception anywhere is a JSON 500 too, neither shows a
traceback to the client, and each leaves exactly one line in the log."""
from __future__ import annotations

import concurrent.futures as cf
import logging
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from vectorseq.serve.app import build_app
from vectorseq.serve.limits import Limits


class FlakyEngine:
    """Translates a text to its upper case; decoding 'boom' raises, encoding 'crash' raises a non-user error."""

    kind = "fake"
    config = SimpleNamespace(decoding=SimpleNamespace(beam_size=1), data=SimpleNamespace(tgt_lang="de"),
                             model=SimpleNamespace(type="transformer", decoder_layers=1))

    def encode(self, texts):
        if "crash" in texts:
            raise RuntimeError("an unexpected bug\nwith a second line")
        return [[ord(c) for c in t] for t in texts]

    def decode(self, ids, beam, n_best):
        texts = ["".join(map(chr, x)) for x in ids]
        if "boom" in texts:
            raise ValueError("the decoder exploded")
        return [[(t.upper(), -1.0)] * n_best for t in texts]


@pytest.fixture()
def client():
    app = build_app({"fake": FlakyEngine()}, Limits(max_wait_ms=50))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_a_decoder_failure_is_a_json_500_for_that_request_only(client, caplog):
    with caplog.at_level(logging.WARNING, logger="vectorseq.serve"):
        with cf.ThreadPoolExecutor(3) as pool:  # concurrent: the three are batched together first
            good1, bad, good2 = pool.map(lambda t: client.post("/translate", json={"texts": [t]}),
                                         ["one", "boom", "two"])
    assert good1.json()["translations"] == ["ONE"] and good2.json()["translations"] == ["TWO"]
    assert bad.status_code == 500 and bad.json()["error"]["code"] == "translation_failed"
    assert "exploded" not in bad.text and "Traceback" not in bad.text
    lines = [r for r in caplog.records if r.name == "vectorseq.serve"]
    assert len([r for r in lines if "decoding failed" in r.getMessage()]) == 1
    assert len([r for r in lines if "-> 500 translation_failed" in r.getMessage()]) == 1
    assert all(r.exc_info is None for r in lines)


def test_an_unexpected_exception_is_a_json_500_and_one_log_line(client, caplog):
    with caplog.at_level(logging.WARNING, logger="vectorseq.serve"):
        r = client.post("/translate", json={"texts": ["crash"]})
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert "bug" not in r.text and "Traceback" not in r.text
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "vectorseq.serve"]
    assert lines == ["POST /translate -> 500 internal_error: RuntimeError: an unexpected bug"]
    assert client.post("/translate", json={"texts": ["fine"]}).json()["translations"] == ["FINE"]


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and 'id="heatmap"' in page.text and "/static/app.js" in page.text
    assert "https://" not in page.text  # nothing is fetched from elsewhere (the SVG namespace is only a name)
    for name in ("app.js", "style.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and "https://" not in r.text
