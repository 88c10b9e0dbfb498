"""Embedding policies through the real trainer: partial keeps pretrained rows bit-identical while the others
learn, frozen stays frozen, unfreeze_after switches at the right step, learning-rate multipliers apply, and a
model folder trained from vectors loads without the vectors file."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from vectorseq.config import config_from_dict, merge
from vectorseq.data.synthetic import builtin_splits
from vectorseq.training import param_groups, train
from vectorseq.translator import Translator

BASE = {
    "name": "policies",
    "data": {"dataset": "builtin", "builtin": {"n_train": 300, "n_val": 20, "n_test": 20, "seed": 4}},
    "vectorizer": {"shared": True, "src": {"split": "word", "standardize": "none", "max_tokens": None}},
    "model": {"type": "transformer", "d_model": 16, "ff_size": 32, "heads": 2, "encoder_layers": 1,
              "decoder_layers": 1, "dropout": 0.0, "tie_embeddings": True, "share_embeddings": False},
    "training": {"batch_tokens": 300, "lr": 0.01, "warmup_steps": 1, "max_steps": 4, "valid_every": 4,
                 "threads": 1},
    "decoding": {"beam_size": 1},
}
WORDS = ["two", "thousand", "and", "the", "hundred", "one", "three", "March", "fünf", "zwei", "und"]


@pytest.fixture()
def vectors(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("VECTORSEQ_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    path = tmp_path / "vecs.txt"  # GloVe text format, no header, 8-d (narrower than the model: projection)
    path.write_text("".join(w + " " + " ".join(f"{x:.5f}" for x in rng.normal(size=8)) + "\n" for w in WORDS))
    return path


def _file_vectors(path: Path) -> dict[str, np.ndarray]:
    out = {}
    for line in path.read_text().splitlines():
        w, *xs = line.split(" ")
        out[w] = np.array(xs, dtype=np.float32)
    return out


def _run(tmp_path: Path, name: str, **over) -> tuple[Path, dict[str, torch.Tensor]]:
    cfg = config_from_dict(merge(BASE, over))
    out = tmp_path / name
    train(cfg, out, progress=False, evaluate_test=False, log=lambda *a: None)
    return out, load_file(str(out / "checkpoints/last/model.safetensors"))


def _vocab(out: Path) -> list[str]:
    return json.loads((out / "vectorizer_shared/vectorizer.json").read_text())["vocabulary"]


def test_partial_freezes_exactly_the_pretrained_rows(tmp_path, vectors):
    out, w = _run(tmp_path, "partial", embeddings={"src": {"vectors": str(vectors), "policy": "partial"}})
    table = w["src_input.token_embedding.weight"].numpy()
    vocab = _vocab(out)
    file_vecs = _file_vectors(vectors)
    matched = [i for i, t in enumerate(vocab) if t in file_vecs]
    assert len(matched) >= 8
    for i in matched:  # bit-identical to the file after training steps
        assert np.array_equal(table[i], file_vecs[vocab[i]]), vocab[i]
    cov = json.loads((out / "coverage.json").read_text())["src"]
    assert cov["policy"] == "partial"
    # rows without a vector learned (those that occur in training batches change)
    start = _run(tmp_path, "partial0", embeddings={"src": {"vectors": str(vectors), "policy": "partial"}},
                 training={"max_steps": 1, "valid_every": 1, "lr": 0.0})[1]["src_input.token_embedding.weight"]
    changed = [i for i in range(len(vocab)) if not torch.equal(start[i], w["src_input.token_embedding.weight"][i])]
    assert changed and not set(changed) & set(matched)
    # the folder loads and translates without the vectors file
    vectors.unlink()
    assert len(Translator.load(out).translate(["two thousand"], beam=1)) == 1


def test_frozen_stays_frozen_and_unfreeze_after_switches(tmp_path, vectors):
    emb = {"src": {"vectors": str(vectors), "policy": "frozen"}}
    out0, w0 = _run(tmp_path, "f0", embeddings=emb, training={"max_steps": 1, "valid_every": 1, "lr": 0.0})
    _, w4 = _run(tmp_path, "f4", embeddings=emb)
    key = "src_input.token_embedding.weight"
    assert torch.equal(w0[key], w4[key]), "a frozen table changed"
    assert not torch.equal(w0["encoder.0.ff.0.weight"], w4["encoder.0.ff.0.weight"]), "nothing trained"
    emb_u = {"src": {"vectors": str(vectors), "policy": "frozen", "unfreeze_after": 3}}
    _, u3 = _run(tmp_path, "u3", embeddings=emb_u, training={"max_steps": 3, "valid_every": 3})
    _, u4 = _run(tmp_path, "u4", embeddings=emb_u, training={"max_steps": 4, "valid_every": 4})
    assert torch.equal(w0[key], u3[key]), "unfroze too early"
    assert not torch.equal(w0[key], u4[key]), "did not unfreeze after step 3"


def test_target_side_partial_with_tied_output(tmp_path, vectors):
    out, w = _run(tmp_path, "tgt", embeddings={"tgt": {"vectors": str(vectors), "policy": "partial"}})
    # tied: safetensors stores the shared tensor once, under one of its names
    key = next(k for k in ("tgt_input.token_embedding.weight", "output.tied.weight") if k in w)
    table = w[key].numpy()
    vocab = _vocab(out)
    file_vecs = _file_vectors(vectors)
    for i, t in enumerate(vocab):
        if t in file_vecs:
            assert np.array_equal(table[i], file_vecs[t]), t  # frozen although the output layer uses it


def test_lr_multiplier_goes_into_its_own_group(vectors):
    from vectorseq.models import build_model
    from vectorseq.vectorizer import TextVectorizer

    cfg = config_from_dict(merge(BASE, {"embeddings": {"src": {"lr_multiplier": 0.1}}}))
    vec = TextVectorizer(split="word", standardize=None).adapt(builtin_splits(50, 5, 5)["train"].src)
    model = build_model(cfg, vec, vec)
    groups = {g["name"]: g for g in param_groups(model, cfg)}
    assert groups["embeddings.src"]["lr_mult"] == 0.1 and groups["embeddings.src"]["weight_decay"] == 0.0
    assert groups["embeddings.tgt"]["lr_mult"] == 1.0
    ids = [id(p) for g in groups.values() for p in g["params"]]
    assert len(ids) == len(set(ids)) == len({id(p) for p in model.parameters()})


def test_projection_keeps_unit_scale_inputs_at_unit_scale():
    from vectorseq.embeddings.factory import EmbeddingInput

    torch.manual_seed(0)
    layer = EmbeddingInput(5000, d_model=128, dim=50)
    rng = np.random.default_rng(0)
    layer.load_pretrained(rng.normal(0, 0.4, size=(5000, 50)).astype(np.float32), np.ones(5000, dtype=bool))
    x, _ = layer(torch.randint(4, 5000, (64, 20)), None)
    assert 0.85 < float(x.detach().std()) < 1.15  # pretrained values scaled to unit size, projection preserves it
