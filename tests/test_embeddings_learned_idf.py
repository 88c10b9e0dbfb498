"""Learned IDF (embeddings.src.idf: learned): starts from the corpus IDF, is trained by the translation loss,
is saved and restored exactly, resumes bit for bit, and `embeddings inspect MODEL_DIR` lists what moved."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from _ddp import assert_same_parameters, two_processes_and_one
from _tiny_training import quiet, tiny_config
from safetensors.torch import load_file

from vectorseq.cli import main
from vectorseq.config import config_from_dict
from vectorseq.data.splits import load_splits
from vectorseq.embeddings.countbased import SentenceVectorInput, TokenFeaturesInput, compute_idf
from vectorseq.embeddings.idf_report import idf_changes
from vectorseq.errors import ConfigError
from vectorseq.models import build_model
from vectorseq.text.vocabulary import EOS_ID, PAD_ID
from vectorseq.training import encode_corpus, param_groups, train
from vectorseq.translator import Translator
from vectorseq.vectorizer import TextVectorizer

IDS = [np.array([4, 5, 6]), np.array([4, 7]), np.array([4, 5, 8, 8]), np.array([9])]


def _learned(kind=SentenceVectorInput, **kw):
    layer = kind(12, 16, idf_mode="learned", **kw)
    layer.fit_idf(IDS)
    return layer


def test_learned_idf_starts_from_the_corpus_idf_and_pad_stays_zero():
    layer = _learned()
    want = compute_idf(IDS, 12)
    np.testing.assert_allclose(layer.idf.numpy(), want, rtol=1e-6)  # the buffer keeps the corpus IDF
    np.testing.assert_allclose(layer.idf_weights().detach().numpy(), want, rtol=1e-6)  # and training starts there
    assert layer.idf_weights()[PAD_ID].item() == 0.0
    assert layer.idf_weights()[EOS_ID].item() == pytest.approx(1.0)


def test_gradient_reaches_log_idf_but_not_pad():
    layer = _learned(TokenFeaturesInput)
    ids = torch.tensor([[4, 5, 5, EOS_ID, PAD_ID], [9, 7, EOS_ID, PAD_ID, PAD_ID]])
    x, mask = layer(ids, ids != PAD_ID)
    (x * mask[..., None]).square().sum().backward()
    g = layer.log_idf.grad
    assert g[PAD_ID].item() == 0.0
    assert bool((g[[4, 5, 9, 7]] != 0).all())
    assert bool((g[[6, 8, 10, 11]] == 0).all())  # ids not in the batch get no gradient


def test_fixed_idf_has_no_parameter_and_learned_has_its_own_group():
    fixed = SentenceVectorInput(12, 16)
    assert "log_idf" not in dict(fixed.named_parameters()) and len(fixed.parameter_groups()) == 1
    cfg = tiny_config(embeddings={"src": {"input": "sentence_vector", "idf": "learned", "idf_lr_multiplier": 4.0}})
    vec = TextVectorizer(split="whitespace", standardize=None).adapt(["a b c", "d e"])
    model = build_model(cfg, vec, vec)
    groups = {g["name"]: g for g in param_groups(model, cfg)}
    g = groups["embeddings.src.idf"]
    assert g["params"] == [model.src_input.log_idf] and g["weight_decay"] == 0.0 and g["lr_mult"] == 4.0
    assert all(model.src_input.log_idf is not p for n, gr in groups.items() if n != "embeddings.src.idf"
               for p in gr["params"])


@pytest.mark.parametrize("side_input", ["embedding", "one_hot"])
def test_learned_idf_needs_a_count_based_input(side_input):
    with pytest.raises(ConfigError, match=r"^embeddings\.src\.idf: learned needs a count-based input") as e:
        config_from_dict({"training": {"max_steps": 1},
                          "embeddings": {"src": {"input": side_input, "idf": "learned"}}})
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="idf_lr_multiplier must be > 0"):
        config_from_dict({"training": {"max_steps": 1},
                          "embeddings": {"src": {"input": "bag", "idf": "learned", "idf_lr_multiplier": 0}}})


# ---------------------------------------------------------------------------------------------- training
def _train(tmp_path, name, model_type="transformer", kind="sentence_vector", idf="learned", **training):
    cfg = tiny_config(model={"type": model_type}, embeddings={"src": {"input": kind, "idf": idf}},
                      training={"lr": 0.01, **training})
    out = tmp_path / name
    result = train(cfg, out, progress=False, log=quiet)
    return out, result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A sentence_vector Transformer with learned IDF, and the same with a fixed IDF."""
    tmp = tmp_path_factory.mktemp("idf")
    return {idf: _train(tmp, idf, idf=idf) for idf in ("learned", "fixed")}


def test_learned_idf_changes_during_training_and_fixed_does_not(trained):
    for idf, (out, _) in trained.items():
        w = load_file(str(out / "model.safetensors"))
        tr = Translator.load(out)
        corpus = compute_idf(encode_corpus(tr.src_vectorizer, _train_sources()), tr.src_vectorizer.vocabulary_size())
        np.testing.assert_allclose(w["src_input.idf"].numpy(), corpus, rtol=1e-6)  # the corpus IDF, in both
        if idf == "fixed":
            assert "src_input.log_idf" not in w
        else:
            moved = (w["src_input.log_idf"] - torch.log(w["src_input.idf"].clamp_min(1e-30)))[1:]
            assert float(moved.abs().max()) > 1e-3, "learned IDF did not move"
            assert w["src_input.log_idf"][PAD_ID].item() == 0.0  # <pad> never trained


def _train_sources():
    """The built-in training sources of the tiny config (the corpus the IDF was fitted on)."""
    return load_splits(tiny_config().data)["train"].src


def test_learned_idf_is_restored_exactly_on_load(trained):
    out, result = trained["learned"]
    w = load_file(str(out / "model.safetensors"))
    tr = Translator.load(out)
    assert tr.model.src_input.idf_mode == "learned"
    assert torch.equal(tr.model.src_input.log_idf.detach(), w["src_input.log_idf"])
    again = Translator.load(out)
    assert torch.equal(again.model.src_input.idf_weights(), tr.model.src_input.idf_weights())
    samples = result.metrics["test_samples"]
    assert tr.translate([x["src"] for x in samples]) == [x["hyp"] for x in samples]


def test_inspect_lists_the_moved_words(trained, capsys):
    out, _ = trained["learned"]
    assert main(["embeddings", "inspect", str(out), "--top", "5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["input"] == "SentenceVectorInput" and report["moved"] > 0
    assert len(report["up"]) == 5 and len(report["down"]) == 5
    assert report["up"][0]["log_ratio"] >= report["up"][-1]["log_ratio"] > report["down"][0]["log_ratio"]
    for r in report["up"] + report["down"]:
        assert r["log_ratio"] == pytest.approx(np.log(r["learned_idf"] / r["corpus_idf"]), abs=1e-5)
        assert r["word"] != "<pad>"
    assert main(["embeddings", "inspect", str(out), "--format", "table", "--top", "3"]) == 0
    table = capsys.readouterr().out
    assert "moved up:" in table and report["up"][0]["word"][:24] in table
    # a model folder without a learned IDF: one clear line, exit 2
    assert main(["embeddings", "inspect", str(trained["fixed"][0])]) == 2
    assert "embeddings.src.idf: learned" in capsys.readouterr().err


def test_idf_changes_refuses_a_layer_without_learned_idf():
    with pytest.raises(ConfigError, match="no learned IDF"):
        idf_changes(SentenceVectorInput(12, 16), ["w"] * 12)


@pytest.mark.parametrize("kind", ["token_features", "bag"])
def test_rnn_with_learned_idf_trains_and_resumes_bit_for_bit(tmp_path, kind):
    full, rf = _train(tmp_path, "full", model_type="rnn", kind=kind)
    part, _ = _train(tmp_path, "part", model_type="rnn", kind=kind, max_steps=6)
    part, rr = _train(tmp_path, "part", model_type="rnn", kind=kind)
    assert rr.steps == rf.steps == 12
    assert [h["train_loss"] for h in rf.history] == [h["train_loss"] for h in rr.history]
    wf = load_file(str(full / "checkpoints/last/model.safetensors"))
    wr = load_file(str(part / "checkpoints/last/model.safetensors"))
    assert wf.keys() == wr.keys() and "src_input.log_idf" in wf
    for k in wf:
        assert torch.equal(wf[k], wr[k]), k
    assert not torch.equal(wf["src_input.log_idf"][1:], torch.log(wf["src_input.idf"][1:]))  # it trained


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
def test_two_process_ddp_trains_the_learned_idf_like_one_process(tmp_path):
    cfg = tiny_config(embeddings={"src": {"input": "sentence_vector", "idf": "learned"}},
                      training={"max_steps": 4, "valid_every": 4, "lr": 0.01},
                      model={"dropout": 0.0}).to_dict()
    ddp, one = two_processes_and_one(cfg, tmp_path)
    assert_same_parameters(ddp, one)  # every parameter, the learned IDF included, within the README's 1e-5
    a = ddp["src_input.log_idf"]
    assert float((a[1:] - torch.log(ddp["src_input.idf"][1:])).abs().max()) > 1e-3  # it trained
