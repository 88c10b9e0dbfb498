"""embeddings.src.input: gbst — learned segmentation (Charformer's GBST) over a byte source."""
from __future__ import annotations

import math

import pytest
import torch
from _ddp import train_cli
from _tiny_training import quiet, tiny_config
from safetensors.torch import load_file

from vectorseq import Translator
from vectorseq.config import ConfigError
from vectorseq.embeddings.gbst import GBSTInput, masked_block_mean
from vectorseq.embeddings.segmentation import segmentation_table, segmentation_weights
from vectorseq.models import build_model
from vectorseq.training import train
from vectorseq.vectorizer import TextVectorizer

BYTES = TextVectorizer(split="byte", standardize="none")


def _layer(max_block: int = 4, downsample: int = 2, seed: int = 0, calibrate: bool = False) -> GBSTInput:
    torch.manual_seed(seed)
    return GBSTInput(260, 16, max_block=max_block, downsample=downsample, calibrate=calibrate).eval()


def _batch(texts: list[str]):
    b = BYTES.encode_batch(texts, add_eos=True)
    return b.ids, b.mask


@pytest.mark.parametrize("T", [1, 2, 3, 7, 8, 13])
@pytest.mark.parametrize("downsample", [1, 2, 3, 4])
def test_output_length_is_ceil_of_t_over_downsample(T, downsample):
    layer = _layer(downsample=downsample)
    ids = torch.randint(4, 260, (2, T))
    mask = torch.ones(2, T, dtype=torch.bool)
    mask[1, T // 2 + 1:] = False
    x, out_mask = layer(ids, mask)
    assert x.shape == (2, math.ceil(T / downsample), 16)
    assert out_mask.shape == (2, math.ceil(T / downsample))
    # a pooled position is real when any of its inputs is
    want = torch.tensor([mask[1, i:i + downsample].any() for i in range(0, T, downsample)])
    assert torch.equal(out_mask[1], want) and bool(out_mask[0].all())


@pytest.mark.parametrize("calibrate", [False, True])
def test_masked_positions_do_not_change_the_output(calibrate):
    layer = _layer(max_block=4, downsample=3, calibrate=calibrate)
    ids, mask = _batch(["a tiny cat", "a much longer sentence with more bytes"])
    x, m = layer(ids, mask)
    noisy = ids.clone()
    noisy[~mask] = torch.randint(4, 260, (int((~mask).sum()),))  # junk under the padding
    x2, m2 = layer(noisy, mask)
    assert torch.equal(m, m2)
    assert torch.equal(x[m], x2[m])
    # and the amount of padding does not matter either: the short sentence alone gives the same vectors
    alone, alone_mask = layer(*_batch(["a tiny cat"]))
    n = int(alone_mask.sum())
    assert torch.allclose(alone[0, :n], x[0, :n], atol=1e-6)


def test_block_means_count_only_real_positions():
    x = torch.tensor([[[1.0], [3.0], [100.0]]])
    means, real = masked_block_mean(x, torch.tensor([[True, True, False]]), 2)
    assert means.squeeze(-1).tolist() == [[2.0, 0.0]] and real.tolist() == [[True, False]]


@pytest.mark.parametrize("calibrate", [False, True])
def test_weights_are_a_distribution_over_block_sizes(calibrate):
    w = _layer(max_block=3, calibrate=calibrate).block_weights(*_batch(["héllo"]))
    assert w.shape == (1, len("héllo".encode()) + 1, 3)
    assert torch.allclose(w.sum(-1), torch.ones(w.shape[:2]))


@pytest.mark.parametrize("model, calibrate", [("transformer", False), ("rnn", False), ("transformer", True)])
def test_gradient_reaches_the_block_scorer(model, calibrate):
    cfg = tiny_config(vectorizer={"src": {"split": "byte", "max_tokens": None}},
                      embeddings={"src": {"input": "gbst", "gbst_calibrate": calibrate}}, model={"type": model})
    m = build_model(cfg, BYTES, BYTES)
    src, src_mask = _batch(["ein hund", "zwei katzen laufen"])
    tgt = src[:, :5]
    logits = m(src, src_mask, tgt[:, :-1])
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt[:, 1:].reshape(-1))
    loss.backward()
    g = m.src_input.scorer.weight.grad
    assert g is not None and float(g.abs().sum()) > 0
    assert float(m.src_input.conv.weight.grad.abs().sum()) > 0


@pytest.mark.parametrize("over, match", [
    ({"embeddings": {"src": {"input": "gbst"}}}, "vectorizer.src.split to byte"),
    ({"vectorizer": {"src": {"split": "byte"}}, "embeddings": {"src": {"input": "gbst", "gbst_max_block": 0}}},
     "gbst_max_block"),
    ({"vectorizer": {"src": {"split": "byte"}}, "embeddings": {"src": {"input": "gbst", "gbst_downsample": 17}}},
     "gbst_downsample"),
    ({"vectorizer": {"src": {"split": "byte"}}, "embeddings": {"tgt": {"input": "gbst"}}}, "source side only"),
])
def test_config_refuses_what_makes_no_sense(over, match):
    with pytest.raises(ConfigError, match=match):
        tiny_config(**over)


def _gbst_config(model: str, **training):
    over = {"vectorizer": {"shared": False, "src": {"split": "byte", "max_tokens": None},
                           "tgt": {"split": "word", "standardize": "none", "max_tokens": None}},
            "embeddings": {"src": {"input": "gbst", "gbst_max_block": 3, "gbst_downsample": 2}},
            "model": {"type": model}, "training": {"max_steps": 6, "valid_every": 3, **training}}
    return tiny_config(**over)


@pytest.mark.parametrize("model", ["transformer", "rnn"])
def test_a_gbst_model_folder_trains_loads_translates_and_shows_its_segmentation(tmp_path, model):
    result = train(_gbst_config(model), tmp_path, progress=False, evaluate_test=False, log=quiet)
    assert result.steps == 6
    tr = Translator.load(tmp_path)
    assert isinstance(tr.model.src_input, GBSTInput)
    out = tr.translate(["a dog runs in the park", "Ünïcödé 🙂"], beam=2)
    assert len(out) == 2 and all(isinstance(s, str) for s in out)
    tokens, weights = segmentation_weights(tr, "a dog")
    assert tokens[:3] == ["a", "<0x20>", "d"] and weights.shape == (len(tokens), 3)
    table = segmentation_table(tokens, weights)
    assert "b=1" in table and "b=3" in table and "d" in table.splitlines()[4]


def test_resume_is_bitwise_identical(tmp_path):
    full = train(_gbst_config("transformer"), tmp_path / "full", progress=False, evaluate_test=False, log=quiet)
    part = tmp_path / "part"
    train(_gbst_config("transformer", max_steps=3), part, progress=False, evaluate_test=False, log=quiet)
    resumed = train(_gbst_config("transformer"), part, progress=False, evaluate_test=False, log=quiet)
    assert [h["train_loss"] for h in full.history] == [h["train_loss"] for h in resumed.history]
    wf = load_file(str(tmp_path / "full/checkpoints/last/model.safetensors"))
    wr = load_file(str(part / "checkpoints/last/model.safetensors"))
    assert wf.keys() == wr.keys() and all(torch.equal(wf[k], wr[k]) for k in wf)


def test_cli_inspect_segmentation_prints_the_table_and_draws_the_figure(tmp_path, capsys):
    from vectorseq.cli import main

    train(_gbst_config("transformer", max_steps=2, valid_every=2), tmp_path / "m", progress=False,
          evaluate_test=False, log=quiet)
    assert main(["inspect-segmentation", str(tmp_path / "m"), "a cat", "--figure", str(tmp_path / "seg.png")]) == 0
    out = capsys.readouterr().out
    assert "b=1" in out and "</s>" in out and (tmp_path / "seg.png").stat().st_size > 0


def test_inspecting_a_model_without_gbst_is_a_clear_error(tmp_path):
    from vectorseq.errors import VectorseqError

    train(tiny_config(training={"max_steps": 2, "valid_every": 2}), tmp_path, progress=False,
          evaluate_test=False, log=quiet)
    with pytest.raises(VectorseqError, match="not gbst"):
        segmentation_weights(Translator.load(tmp_path), "a cat")


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
def test_two_process_ddp_trains_a_gbst_model(tmp_path):
    cfg = _gbst_config("transformer", max_steps=4, valid_every=2, dist_timeout_s=60).to_dict()
    train_cli(cfg, tmp_path / "ddp", nproc=2)
    tr = Translator.load(tmp_path / "ddp")
    assert isinstance(tr.model.src_input, GBSTInput) and len(tr.translate(["a dog"])) == 1


def test_gbst_over_a_character_vectorizer():
    chars = TextVectorizer(split="character", standardize="none").adapt(["a dog runs", "ein Hund läuft"])
    cfg = tiny_config(vectorizer={"shared": False, "src": {"split": "character", "max_tokens": None}},
                      embeddings={"src": {"input": "gbst", "gbst_downsample": 3}})
    m = build_model(cfg, chars, BYTES)
    b = chars.encode_batch(["a dog", "ein Hund läuft"], add_eos=True)
    memory = m.encode(b.ids, b.mask)
    assert memory.memory.shape[1] == math.ceil(b.ids.shape[1] / 3)
    assert int(memory.memory_mask[0].sum()) == math.ceil((len("a dog") + 1) / 3)  # + 1: the </s>


def test_calibration_changes_the_weights():
    batch = _batch(["a dog runs in the park"])
    plain, calibrated = _layer(calibrate=False).block_weights(*batch), _layer(calibrate=True).block_weights(*batch)
    assert not torch.allclose(plain, calibrated)
