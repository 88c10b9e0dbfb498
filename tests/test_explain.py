"""Translator.explain: the pieces and ids are the model's, the hypotheses are the translator's, attention rows
are distributions over the source, <unk> shows the input's word, rows from pretrained vectors are told
apart from learned ones, and count-based inputs show their weights."""
from __future__ import annotations

import json

import numpy as np
import pytest

from _tiny_training import quiet, tiny_config

from vectorseq.cli import main
from vectorseq.training import train
from vectorseq.translator import Translator
from vectorseq.vectorizer import EOS_ID, UNK_ID

WORDS = ["two", "thousand", "and", "the", "hundred", "one", "three", "March"]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("explain") / "tiny"
    train(tiny_config(), out, progress=False, evaluate_test=False, log=quiet)
    return out


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    return Translator.load(tiny_dir)


def test_explanation_matches_the_translator_and_the_vectorizer(tiny):
    text = "two thousand and forty-one"
    ex = tiny.explain(text, beam=2, n_best=2)
    assert [p.id for p in ex.source] == tiny.encode_sources([text])[0]
    assert ex.source[-1].id == EOS_ID and ex.source[-1].origin == "special"
    assert [p.text for p in ex.source[:-1]] == tiny.src_vectorizer.tokenize(text)
    assert [h.text for h in ex.hypotheses] == tiny.translate([text], beam=2, n_best=2)[0]
    hyps = tiny.translate_hypotheses([text], beam=2, n_best=2)[0]
    assert [[p.id for p in h.pieces] for h in ex.hypotheses] == [h.tokens for h in hyps]
    for h in ex.hypotheses:
        att = np.array(h.attention)
        assert att.shape == (len(h.pieces), len(ex.columns)) and len(ex.columns) == len(ex.source)
        np.testing.assert_allclose(att.sum(1), 1.0, atol=1e-3)
    assert {p.origin for p in ex.source[:-1]} == {"learned"}  # no vectors: every row learned
    d = json.loads(json.dumps(ex.to_dict()))  # JSON-able, as the server sends it
    assert d["translation"] == ex.hypotheses[0].text and d["vectorization"]["src"]["split"] == "word"


def test_unknown_words_are_marked_with_what_the_input_said(tiny):
    ex = tiny.explain("two zebras", beam=1)
    unk = [p for p in ex.source if p.unk]
    assert len(unk) == 1 and unk[0].id == UNK_ID and unk[0].text == "zebras"


def test_empty_text_is_not_decoded(tiny):
    ex = tiny.explain("   ")
    assert ex.translation == "" and [p.id for p in ex.source] == [EOS_ID]


def test_rows_from_pretrained_vectors_are_told_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("VECTORSEQ_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    vecs = tmp_path / "vecs.txt"
    vecs.write_text("".join(w + " " + " ".join(f"{x:.5f}" for x in rng.normal(size=8)) + "\n" for w in WORDS))
    out = tmp_path / "vec"
    cfg = tiny_config(embeddings={"src": {"vectors": str(vecs), "policy": "finetune"}},
                      model={"share_embeddings": False}, training={"max_steps": 2, "valid_every": 2})
    train(cfg, out, progress=False, evaluate_test=False, log=quiet)
    vecs.unlink()  # the folder alone must say which rows came from the file
    ex = Translator.load(out).explain("two thousand and forty-one", beam=1)
    origin = {p.text: p.origin for p in ex.source}
    assert origin["two"] == origin["thousand"] == origin["and"] == "pretrained"
    assert origin["forty"] == "learned"
    assert ex.vectorization["src"]["vectors"] == str(vecs) and ex.vectorization["src"]["type_coverage"] > 0


def test_count_based_inputs_show_their_weights(tmp_path):
    out = tmp_path / "tf"
    cfg = tiny_config(embeddings={"src": {"input": "token_features"}}, model={"share_embeddings": False},
                      training={"max_steps": 2, "valid_every": 2})
    train(cfg, out, progress=False, evaluate_test=False, log=quiet)
    tr = Translator.load(out)
    ex = tr.explain("two thousand and two", beam=1)
    w = [p.weight for p in ex.source]
    assert all(x is not None and x >= 0 for x in w)
    # the repeated word carries twice the term frequency of a word seen once with the same idf
    two = [p for p in ex.source if p.text == "two"]
    assert len(two) == 2 and two[0].weight == two[1].weight
    idf = tr.model.src_input.idf_weights()
    assert two[0].idf == pytest.approx(float(idf[two[0].id]), rel=1e-4)


def test_inspect_command_shows_the_same_view(tiny, tiny_dir, capsys):
    assert main(["inspect", str(tiny_dir), "two zebras", "--beam", "2"]) == 0
    out = capsys.readouterr().out
    ex = tiny.explain("two zebras", beam=2)
    assert "zebras  <unk>" in out and f"hypothesis 1: {ex.translation}" in out
    assert "cross-attention" in out and "columns: 0=two  1=zebras  2=</s>" in out
    assert main(["inspect", str(tiny_dir), "two zebras", "--beam", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(ex.to_dict()))
