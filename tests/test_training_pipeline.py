"""train() end to end on the built-in corpus: the model folder is self-contained and pickle-free, and a
streamed training set trains (and resumes) through the same loop."""
from __future__ import annotations

import pytest

import json

from _tiny_training import TINY, quiet, tiny_config

import vectorseq
from vectorseq.config import config_from_dict, merge
from vectorseq.data.synthetic import builtin_splits
from vectorseq.training import TrainResult, train
from vectorseq.translator import Translator


def test_model_folder_is_self_contained_and_pickle_free(tmp_path):
    res = train(tiny_config(), tmp_path / "m", progress=False, log=quiet)
    d = res.model_dir
    for name in ("config.yaml", "model.safetensors", "train_log.jsonl", "metrics.json", "training_curve.png",
                 "vectorizer_shared/vectorizer.json"):
        assert (d / name).is_file(), name
    suffixes = {p.suffix for p in d.rglob("*") if p.is_file()}
    assert suffixes <= {".yaml", ".json", ".jsonl", ".safetensors", ".png", ".model"}, suffixes
    metrics = json.loads((d / "metrics.json").read_text())
    assert metrics["steps"] == 12 and "bleu" in metrics["test"] and "bleu_lc" in metrics["test"]
    log = [json.loads(line) for line in (d / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [6, 12]
    assert {"valid_loss", "valid_ppl", "valid_bleu", "valid_chrf", "tokens_per_s"} <= set(log[0])

    tr = Translator.load(d)
    texts = ["two thousand and forty-one", "the second", "March 2, 2021"]
    out = tr.translate(texts, beam=2)
    assert len(out) == 3 and all(isinstance(s, str) for s in out)
    assert tr.translate(texts, beam=2) == out  # deterministic
    nbest = tr.translate(texts[:1], beam=2, n_best=2)
    assert len(nbest[0]) == 2


def test_train_is_importable_from_the_package_root():
    assert vectorseq.train is train and isinstance(TrainResult, type)


def _streaming_config(tmp_path, **training):
    s = builtin_splits(n_train=400, n_val=30, n_test=30, seed=1)
    for name, split in (("train", s["train"]), ("valid", s["val"])):
        (tmp_path / f"{name}.en").write_text("\n".join(split.src) + "\n")
        (tmp_path / f"{name}.de").write_text("\n".join(split.tgt) + "\n")
    data = {"dataset": "files", "streaming": True, "window": 100,
            "train": {"src": str(tmp_path / "train.en"), "tgt": str(tmp_path / "train.de")},
            "valid": {"src": str(tmp_path / "valid.en"), "tgt": str(tmp_path / "valid.de")}}
    return config_from_dict(merge(TINY, {"data": data, "training": {"max_steps": 16, "valid_every": 4,
                                                                    "accumulate": 2, **training}}))


def test_streamed_training_crosses_epochs_and_resumes_mid_epoch_with_identical_validations(tmp_path):
    full = train(_streaming_config(tmp_path), tmp_path / "full", progress=False, log=quiet)
    assert full.steps == 16 and full.epochs >= 2  # 400 pairs give a few updates per epoch
    part = tmp_path / "part"
    train(_streaming_config(tmp_path, max_steps=6), part, progress=False, evaluate_test=False, log=quiet)
    resumed = train(_streaming_config(tmp_path), part, progress=False, evaluate_test=False, log=quiet)
    assert resumed.steps == 16
    by_step = {h["step"]: (h["epoch"], h["valid_loss"], h["valid_bleu"]) for h in resumed.history}
    for h in full.history:  # the resumed run validates at the same steps with the same results
        assert by_step[h["step"]] == (h["epoch"], h["valid_loss"], h["valid_bleu"])


def test_empty_validation_split_is_named_at_training_start(tmp_path):
    # issue 17 item 9: an empty validation set stopped deep in training; now a one-line error naming the files
    from vectorseq.config import config_from_dict
    from vectorseq.errors import VectorseqError
    from vectorseq.training import train
    for name, text in (("s", "a b\nc d\n"), ("g", "x y\nz w\n"), ("vs", ""), ("vg", "")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    cfg = config_from_dict({
        "data": {"dataset": "files", "train": {"src": str(tmp_path / "s"), "tgt": str(tmp_path / "g")},
                 "valid": {"src": str(tmp_path / "vs"), "tgt": str(tmp_path / "vg")}},
        "training": {"max_steps": 1, "device": "cpu"},
        "model": {"d_model": 8, "ff_size": 8, "heads": 2, "encoder_layers": 1, "decoder_layers": 1}})
    with pytest.raises(VectorseqError, match=r"the validation split \(.*vs \+ .*vg\) is empty"):
        train(cfg, tmp_path / "out", progress=False, log=lambda *a: None)


def test_pairs_over_max_ids_after_vectorization_are_dropped_with_their_text():
    # issue 17 item 6: data.max_length counts whitespace tokens; a character/subword split can still make one
    # "token" thousands of ids. drop_long_ids cuts ids and text alike.
    from types import SimpleNamespace

    import numpy as np

    from vectorseq.data.corpus import ParallelCorpus
    from vectorseq.errors import VectorseqError
    from vectorseq.training.prepare import drop_long_ids
    said = []
    run = SimpleNamespace(cfg=config_from_dict({"data": {"max_ids": 3}, "training": {"max_steps": 1}}), say=said.append)
    corpus = ParallelCorpus(["a", "bbbbbbbb", "c"], ["A", "B", "C"])
    ids = ([np.arange(2), np.arange(8), np.arange(3)], [np.arange(1), np.arange(1), np.arange(3)])
    src, tgt = drop_long_ids(run, corpus, ids)
    assert [len(x) for x in src] == [2, 3] and corpus.src == ["a", "c"] and corpus.tgt == ["A", "C"]
    assert corpus.skipped == {"too_long": 1} and "data.max_ids=3" in said[0]
    with pytest.raises(VectorseqError, match="every training pair has more than data.max_ids=3"):
        drop_long_ids(run, ParallelCorpus(["x"], ["y"]), ([np.arange(9)], [np.arange(1)]))
