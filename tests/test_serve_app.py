"""The real server over HTTP (`vectorseq serve` in a subprocess on a free loopback port): translations equal
Translator.translate, 64 concurrent requests are all answered correctly (and batched together), every
bad-input class gets its status and JSON error with one log line and no traceback, the API key, the queue
limit, and SIGTERM during a burst loses no accepted request."""
from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from _serve import SENTENCES, Server, served_model

from vectorseq.translator import Translator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return served_model(tmp_path_factory)


@pytest.fixture(scope="module")
def translator(model_dir):
    return Translator.load(model_dir)


@pytest.fixture(scope="module")
def server(model_dir, tmp_path_factory):
    with Server([model_dir], tmp_path_factory.mktemp("srv") / "server.log", "--max-texts", "16",
                "--max-chars", "200") as s:
        yield s


def _post(server, body, path="/translate", **kw):
    return httpx.post(server.url + path, json=body, timeout=60, **kw)


def test_translations_equal_the_python_api(server, translator):
    expected = translator.translate(SENTENCES)
    assert sum(bool(t) for t in expected) >= len(SENTENCES) // 2, "the tiny model should produce real outputs"
    r = _post(server, {"texts": SENTENCES})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["translations"] == expected and body["model"] == server_name(server)
    assert body["elapsed_ms"] > 0 and "n_best" not in body
    greedy = _post(server, {"texts": SENTENCES, "beam": 1}).json()["translations"]
    assert greedy == translator.translate(SENTENCES, beam=1)


def server_name(server) -> str:
    return httpx.get(server.url + "/health").json()["models"][0]


def test_n_best_lists_and_empty_texts(server, translator):
    texts = ["three hundred", "", "   ", "forty-two"]
    r = _post(server, {"texts": texts, "beam": 3, "n_best": 3}).json()
    want = translator.translate(["three hundred", "forty-two"], beam=3, n_best=3)
    assert [[h["text"] for h in r["n_best"][i]] for i in (0, 3)] == want
    assert r["translations"] == [want[0][0], "", "", want[1][0]]
    scores = [h["score"] for h in r["n_best"][0]]
    assert scores == sorted(scores, reverse=True) and all(s < 0 for s in scores)
    assert r["n_best"][1] == [{"text": "", "score": 0.0}] * 3


def test_64_concurrent_requests_are_all_answered_correctly_and_batched_together(server, translator):
    requests = [[SENTENCES[(i + k) % len(SENTENCES)] for k in range(1 + i % 3)] for i in range(64)]
    expected = dict(zip(SENTENCES, translator.translate(SENTENCES)))
    before = httpx.get(server.url + "/health").json()["batches"]

    async def burst():
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as client:
            return await asyncio.gather(*(client.post("/translate", json={"texts": t}) for t in requests))
    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200] * 64
    for texts, r in zip(requests, responses):
        assert r.json()["translations"] == [expected[t] for t in texts]
    batches = httpx.get(server.url + "/health").json()["batches"] - before
    assert 1 <= batches < 64, f"{batches} batches for 64 concurrent requests: no cross-request batching"


BAD = [  # (name, raw body or JSON, status, code, field or limit)
    ("malformed JSON", b'{"texts": [', 422, "invalid_json", ("field", "body")),
    ("invalid UTF-8", b'{"texts": ["caf\xe9"]}', 422, "invalid_utf8", ("field", "body")),
    ("lone surrogate", b'{"texts": ["\\ud800"]}', 422, "invalid_unicode", ("field", "texts[0]")),
    ("texts not a list", {"texts": "two"}, 422, "invalid_field", ("field", "texts")),
    ("a number as text", {"texts": ["two", 3]}, 422, "invalid_field", ("field", "texts[1]")),
    ("missing texts", {"beam": 2}, 422, "invalid_field", ("field", "texts")),
    ("unknown field", {"texts": ["two"], "bem": 2}, 422, "invalid_field", ("field", "bem")),
    ("beam as string", {"texts": ["two"], "beam": "5"}, 422, "invalid_field", ("field", "beam")),
    ("beam 0", {"texts": ["two"], "beam": 0}, 422, "invalid_field", ("field", "beam")),
    ("beam over limit", {"texts": ["two"], "beam": 17}, 422, "invalid_field", ("limit", "max_beam")),
    ("n_best over beam", {"texts": ["two"], "beam": 2, "n_best": 3}, 422, "invalid_field", ("field", "n_best")),
    ("unknown model", {"texts": ["two"], "model": "nope"}, 404, "unknown_model", ("field", "model")),
    ("unknown language", {"texts": ["two"], "tgt_lang": "xx"}, 422, "unknown_language", ("field", "tgt_lang")),
    ("text too long", {"texts": ["two " * 51]}, 413, "text_too_long", ("limit", "max_chars")),
    ("too many texts", {"texts": ["two"] * 17}, 413, "too_many_texts", ("limit", "max_texts")),
    ("body too large", b'{"texts": ["' + b"x" * 60000 + b'"]}', 413, "body_too_large", ("limit", "max_body_bytes")),
]


@pytest.mark.parametrize("name,body,status,code,where", BAD, ids=[b[0] for b in BAD])
def test_bad_input_gets_its_status_and_a_json_error(server, name, body, status, code, where):
    n_lines = len(server.log().splitlines())
    if isinstance(body, bytes):
        r = httpx.post(server.url + "/translate", content=body, headers={"content-type": "application/json"})
    else:
        r = _post(server, body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err[where[0]] == where[1] and err["message"]
    assert "Traceback" not in r.text
    time.sleep(0.2)  # the log line is written before the answer; give the pipe a moment
    new = server.log().splitlines()[n_lines:]
    assert len([line for line in new if f"-> {status} {code}" in line]) == 1, new
    assert not any("Traceback" in line for line in new)


def test_explain_and_models(server, translator):
    ex = _post(server, {"text": "two thousand and one", "n_best": 2, "beam": 2}, "/explain").json()
    local = translator.explain("two thousand and one", beam=2, n_best=2).to_dict()
    assert ex["translation"] == local["translation"] and ex["source"] == local["source"]
    assert [h["pieces"] for h in ex["hypotheses"]] == [h["pieces"] for h in local["hypotheses"]]
    assert len(ex["hypotheses"][0]["attention"][0]) == len(ex["columns"])
    m = httpx.get(server.url + "/models").json()["models"][0]
    assert m["languages"] == {"src": "en", "tgt": "de"} and m["parameters"] == translator.model.num_parameters()
    assert m["vectorization"]["src"]["split"] == "word" and m["engine"] == "pytorch"
    assert httpx.get(server.url + "/openapi.json").json()["paths"]["/translate"]["post"]["requestBody"]
    bad = _post(server, {"text": "two", "layer": 5}, "/explain")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "layer"


def test_api_key_and_a_full_queue(model_dir, tmp_path):
    args = ["--max-queue", "4", "--max-wait-ms", "3000", "--max-batch-tokens", "100000"]
    with Server([model_dir], tmp_path / "key.log", *args, env={"VECTORSEQ_API_KEY": "s3cret"}) as s:
        assert httpx.get(s.url + "/health").status_code == 200  # health needs no key
        r = _post(s, {"texts": ["two"]})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert _post(s, {"texts": ["two"]}, headers={"Authorization": "Bearer wrong"}).status_code == 401
        key = {"Authorization": "Bearer s3cret"}

        async def fill_then_overflow():
            async with httpx.AsyncClient(base_url=s.url, timeout=60, headers=key) as c:
                first = asyncio.create_task(c.post("/translate", json={"texts": SENTENCES[:4]}))
                while (await c.get("/health")).json()["queued"] < 4:  # the first request waits 3 s for company
                    await asyncio.sleep(0.05)
                second = await c.post("/translate", json={"texts": ["seven"]})
                return await first, second
        first, second = asyncio.run(fill_then_overflow())
        assert first.status_code == 200
        assert second.status_code == 429
        assert second.json()["error"]["limit"] == "max_queue" and second.json()["error"]["value"] == 4
        assert _post(s, {"texts": ["two"]}, headers={"X-API-Key": "s3cret"}).status_code == 200


def test_sigterm_during_a_burst_answers_every_accepted_request(model_dir, translator, tmp_path):
    s = Server([model_dir], tmp_path / "term.log", "--max-wait-ms", "1500", "--max-batch-tokens", "100000")
    requests = [[SENTENCES[i % len(SENTENCES)], SENTENCES[(i + 5) % len(SENTENCES)]] for i in range(24)]
    expected = dict(zip(SENTENCES, translator.translate(SENTENCES)))

    async def burst():
        async with httpx.AsyncClient(base_url=s.url, timeout=60, limits=httpx.Limits(max_connections=32)) as c:
            tasks = [asyncio.create_task(c.post("/translate", json={"texts": t})) for t in requests]
            while (await c.get("/health")).json()["queued"] < 2 * len(requests):
                await asyncio.sleep(0.02)  # every request is accepted and queued (waiting 1.5 s for company)
            s.terminate()
            await asyncio.sleep(0.3)
            try:  # after the signal: refused (connection refused, or 503 on a still-open connection)
                late = await httpx.AsyncClient(timeout=10).post(s.url + "/translate", json={"texts": ["one"]})
                late_status = late.status_code
            except httpx.TransportError:
                late_status = "refused"
            return await asyncio.gather(*tasks), late_status
    responses, late_status = asyncio.run(burst())
    rc = s.stop()
    assert [r.status_code for r in responses] == [200] * len(requests), s.log()
    for texts, r in zip(requests, responses):
        assert r.json()["translations"] == [expected[t] for t in texts]
    assert late_status in ("refused", 503)
    assert rc in (0, -15), s.log()
    assert "answering the 48 queued sentence(s)" in s.log()


def test_ctranslate2_engine_equals_its_python_api(model_dir, tmp_path):
    pytest.importorskip("ctranslate2")
    from vectorseq.export import CT2Translator, export_model
    ct2_dir = export_model(model_dir, tmp_path / "ct2")
    for compute_type in ("int8", "float32"):
        tr = CT2Translator.load(ct2_dir, compute_type=compute_type)
        with Server([ct2_dir], tmp_path / f"ct2-{compute_type}.log", "--engine", "ctranslate2",
                    "--compute-type", compute_type) as s:
            r = _post(s, {"texts": SENTENCES, "beam": 1})
            assert r.status_code == 200 and r.json()["translations"] == tr.translate(SENTENCES, beam=1)
            m = httpx.get(s.url + "/models").json()["models"][0]
            assert m["engine"] == "ctranslate2" and m["compute_type"] == compute_type
            ex = _post(s, {"text": SENTENCES[0], "beam": 2}, "/explain").json()
            assert ex["translation"] and len(ex["hypotheses"][0]["attention"][0]) == len(ex["columns"])
            assert json.dumps(ex)
