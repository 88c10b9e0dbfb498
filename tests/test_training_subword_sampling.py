"""Subword sampling in training (vectorizer.<side>.sampling_alpha): only training batches are sampled, anew
each epoch; validation and translation use the deterministic segmentation; resume stays bitwise identical;
an RNN trains with it; 2 DDP processes equal 1 process with accumulate 2; bad settings are one-line errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from _ddp import assert_same_parameters, two_processes_and_one
from _tiny_training import quiet, tiny_config
from safetensors.torch import load_file

import vectorseq.training.pipeline as pipeline
import vectorseq.training.validation as validation
from vectorseq.data.batch_source import SampledSource
from vectorseq.data.splits import load_splits
from vectorseq.data.synthetic import builtin_splits
from vectorseq.errors import ConfigError
from vectorseq.modelfolder import load_vectorizers
from vectorseq.training import train
from vectorseq.translator import Translator
from vectorseq.vectorizer import TextVectorizer

UNIGRAM = {"split": "sentencepiece", "standardize": "none", "max_tokens": 120, "sentencepiece_model_type": "unigram",
           "sampling_alpha": 0.2, "sampling_nbest": -1}
BPE = {"split": "sentencepiece", "standardize": "none", "max_tokens": 120, "sampling_alpha": 0.1}


def _cfg(side: dict, **over):
    return tiny_config(vectorizer={"shared": True, "src": side}, **over)


def test_only_training_batches_are_sampled_and_anew_each_epoch(tmp_path, monkeypatch):
    seen: dict = {"valid": [], "source": None}
    real_fixed, real_build = validation.fixed_batches, pipeline.build_batch_source

    def record_fixed(src_ids, tgt_ids, budget):
        seen["valid"].append(([list(s) for s in src_ids], [list(t) for t in tgt_ids]))
        return real_fixed(src_ids, tgt_ids, budget)

    def record_source(*args, **kw):
        seen["source"] = real_build(*args, **kw)
        return seen["source"]

    monkeypatch.setattr(validation, "fixed_batches", record_fixed)
    monkeypatch.setattr(pipeline, "build_batch_source", record_source)
    cfg = _cfg(UNIGRAM)
    splits = load_splits(cfg.data, seed=cfg.training.seed)
    train(cfg, tmp_path / "m", splits=splits, progress=False, evaluate_test=False, log=quiet)

    vec, _ = load_vectorizers(tmp_path / "m", True)
    valid = splits["valid"]
    deterministic = (vec.encode_many(valid.src), vec.encode_many(valid.tgt))
    assert seen["valid"] and all(v == deterministic for v in seen["valid"])  # validation never sampled

    source = seen["source"]
    assert isinstance(source, SampledSource)
    det = [list(s) for s in source.src_ids]
    e0, e1 = ([list(s) for s in source.epoch_ids(e)[0]] for e in (0, 1))
    assert sum(a != b for a, b in zip(e0, det)) > len(det) // 10  # training batches are sampled
    assert sum(a != b for a, b in zip(e0, e1)) > len(det) // 10  # anew each epoch
    assert e0 == [list(s) for s in source.epoch_ids(0)[0]]
    # length bucketing follows the sampled lengths: the batches of an epoch are cut from its own ids
    batch = next(source.updates(1, 0, 0, 1, 1))[0]
    rows = [r[r != 0].tolist()[:-1] for r in batch.src.numpy()]  # without padding and EOS
    assert all(r in e1 for r in rows)

    saved = yaml.safe_load((tmp_path / "m/config.yaml").read_text())["vectorizer"]["src"]
    assert (saved["sampling_alpha"], saved["sampling_nbest"]) == (0.2, -1)  # the folder records the training
    tr = Translator.load(tmp_path / "m")
    assert tr.translate(["the second"], beam=1) == tr.translate(["the second"], beam=1)


def _weights(d: Path) -> dict[str, torch.Tensor]:
    return load_file(str(d / "checkpoints/last/model.safetensors"))


def test_resume_stays_bitwise_identical_with_sampling_on(tmp_path):
    # large batches: a few updates an epoch, so both halves span several epochs (several samples)
    over = {"training": {"max_steps": 16, "valid_every": 8, "batch_tokens": 3000}}
    full = train(_cfg(UNIGRAM, **over), tmp_path / "full", progress=False, evaluate_test=False, log=quiet)
    part = tmp_path / "part"
    train(_cfg(UNIGRAM, training={"max_steps": 8, "valid_every": 8, "batch_tokens": 3000}), part, progress=False,
          evaluate_test=False, log=quiet)
    resumed = train(_cfg(UNIGRAM, **over), part, progress=False, evaluate_test=False, log=quiet)
    assert full.epochs >= 2 and resumed.epochs == full.epochs
    key = [(h["step"], h["train_loss"], h["valid_loss"]) for h in full.history]
    assert key == [(h["step"], h["train_loss"], h["valid_loss"]) for h in resumed.history]
    wf, wr = _weights(tmp_path / "full"), _weights(part)
    for k in wf:
        assert torch.equal(wf[k], wr[k]), k


def test_an_rnn_trains_with_bpe_dropout(tmp_path):
    cfg = _cfg(BPE, model={"type": "rnn"}, training={"max_steps": 20, "valid_every": 10})
    result = train(cfg, tmp_path / "rnn", progress=False, evaluate_test=False, log=quiet)
    losses = [h["valid_loss"] for h in result.history]
    assert len(losses) == 2 and losses[-1] < losses[0]
    assert np.isfinite(losses).all()


@pytest.mark.parametrize("side, match", [
    ({"split": "word", "max_tokens": None, "sampling_alpha": 0.1}, r"vectorizer.src.sampling_alpha needs split: "
                                                                   r"sentencepiece"),
    ({**BPE, "sampling_alpha": 1.5}, r"vectorizer.src.sampling_alpha is BPE-dropout's drop probability"),
    ({**BPE, "sampling_nbest": 8}, r"vectorizer.src.sampling_nbest applies to unigram models only"),
    ({**UNIGRAM, "sampling_alpha": 0.0}, r"vectorizer.src.sampling_alpha is the unigram smoothing exponent and must be > 0"),
    ({**UNIGRAM, "sampling_alpha": None, "sampling_nbest": 4}, r"sampling_nbest is set but sampling_alpha is null"),
])
def test_bad_sampling_settings_are_one_line_config_errors(side, match):
    with pytest.raises(ConfigError, match=match):
        _cfg(side).check()


# --------------------------------------------------------------------------------------------------- DDP
DDP_CFG = {
    "name": "ddp-sampling",
    "data": {"dataset": "builtin", "builtin": {"n_train": 600, "n_val": 20, "n_test": 20, "seed": 2}},
    "vectorizer": {"shared": True, "src": UNIGRAM},
    "model": {"type": "transformer", "d_model": 32, "ff_size": 64, "heads": 2, "encoder_layers": 1,
              "decoder_layers": 1, "dropout": 0.0},
    "training": {"batch_tokens": 300, "lr": 0.003, "warmup_steps": 2, "max_steps": 6, "valid_every": 3,
                 "threads": 1, "seed": 5, "dist_timeout_s": 60},
    "decoding": {"beam_size": 1, "batch_size": 16},
}


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
def test_two_processes_with_sampling_match_one_process_with_accumulate_two(tmp_path):
    a, b = two_processes_and_one(DDP_CFG, tmp_path)
    assert_same_parameters(a, b)  # the README's 1e-5, as the DDP test without sampling


def test_a_streamed_training_set_is_sampled_too(tmp_path, monkeypatch):
    splits = builtin_splits(n_train=300, n_val=20, n_test=20, seed=1)
    files = {}
    for name, corpus in (("train", splits["train"]), ("valid", splits["val"])):
        for side in ("src", "tgt"):
            p = tmp_path / f"{name}.{side}"
            p.write_text("\n".join(getattr(corpus, side)) + "\n", encoding="utf-8")
            files.setdefault(name, {})[side] = str(p)
    sampled = []
    real = TextVectorizer.sample_many

    def record(self, texts, spec, **kw):
        sampled.append((len(texts), kw["epoch"]))
        return real(self, texts, spec, **kw)

    monkeypatch.setattr(TextVectorizer, "sample_many", record)
    cfg = _cfg(BPE, data={"dataset": "files", "streaming": True, "window": 100, "train": files["train"],
                          "valid": files["valid"]}, training={"max_steps": 8, "valid_every": 8})
    result = train(cfg, tmp_path / "m", progress=False, evaluate_test=False, log=quiet)
    assert result.steps == 8
    # the windows read so far (streaming is lazy) were sampled on both sides, in epoch 0
    assert sampled and {e for _, e in sampled} == {0} and sum(n for n, _ in sampled) >= 2 * 100
