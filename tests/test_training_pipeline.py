"""train() end to end: on the built-in corpus the model folder is self-contained and pickle-free (by content);
the user's own files (plain, .gz, TSV) train; a streamed training set trains (with DataLoader workers too)
and resumes through the same loop."""
from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import pytest
import sentencepiece as spm
import torch
import yaml
from _tiny_training import TINY, quiet, tiny_config
from PIL import Image
from safetensors import safe_open

import vectorseq
from vectorseq.config import config_from_dict, merge
from vectorseq.data.synthetic import builtin_splits
from vectorseq.training import TrainResult, train
from vectorseq.translator import Translator


def _parse(path: Path) -> None:
    """Parse ``path`` as the safe format its name promises (raises if its content is anything else)."""
    name = path.name
    if name.endswith((".yaml", ".yml")):
        yaml.safe_load(path.read_text(encoding="utf-8"))  # safe_load: no python tags
    elif name.endswith(".jsonl"):
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    elif name.endswith(".json"):
        json.loads(path.read_text(encoding="utf-8"))
    elif name.endswith(".safetensors"):
        with safe_open(str(path), "pt") as f:  # a JSON header and raw tensor bytes
            [f.get_tensor(k) for k in f.keys()]
    elif name.endswith(".png"):
        with Image.open(path) as im:
            assert im.format == "PNG"
            im.load()
    elif name.endswith(".model"):
        assert spm.SentencePieceProcessor(model_file=str(path)).get_piece_size() > 0  # a protobuf
    else:
        raise AssertionError(f"{path}: a file of no known safe format")


def test_model_folder_is_self_contained_and_pickle_free(tmp_path, monkeypatch):
    res = train(tiny_config(), tmp_path / "m", progress=False, log=quiet)
    d = res.model_dir
    for name in ("config.yaml", "model.safetensors", "train_log.jsonl", "metrics.json", "training_curve.png",
                 "vectorizer_shared/vectorizer.json"):
        assert (d / name).is_file(), name
    files = [p for p in d.rglob("*") if p.is_file()]
    for p in files:  # by content: every file parses as JSON, YAML, safetensors, PNG or a SentencePiece model
        _parse(p)
        head = p.read_bytes()[:4]
        assert not head.startswith(b"\x80") and head != b"PK\x03\x04", f"{p}: a pickle or a torch.save zip"
    assert {p.relative_to(d).as_posix() for p in files} >= {"checkpoints/last/state.json",
                                                            "checkpoints/last/state.safetensors"}
    metrics = json.loads((d / "metrics.json").read_text())
    assert metrics["steps"] == 12 and "bleu" in metrics["test"] and "bleu_lc" in metrics["test"]
    log = [json.loads(line) for line in (d / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [6, 12]
    assert {"valid_loss", "valid_ppl", "valid_bleu", "valid_chrf", "tokens_per_s"} <= set(log[0])

    # loading, translating and resuming never unpickle: pickle and torch.load are never called
    def refuse(*args, **kwargs):
        raise AssertionError("unpickling was attempted")

    for owner, attr in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")):
        monkeypatch.setattr(owner, attr, refuse)
    tr = Translator.load(d)
    texts = ["two thousand and forty-one", "the second", "March 2, 2021"]
    out = tr.translate(texts, beam=2)
    assert len(out) == 3 and all(isinstance(s, str) for s in out)
    assert tr.translate(texts, beam=2) == out  # deterministic
    nbest = tr.translate(texts[:1], beam=2, n_best=2)
    assert len(nbest[0]) == 2
    assert train(tiny_config(training={"max_steps": 14, "valid_every": 7}), d, progress=False, evaluate_test=False,
                 log=quiet).steps == 14


def test_train_is_importable_from_the_package_root():
    assert vectorseq.train is train and isinstance(TrainResult, type)


def _write_split(folder: Path, name: str, corpus, form: str) -> dict[str, str]:
    """One split as the user would give it: two aligned files, two gzipped files, or one TSV file."""
    if form == "tsv":
        p = folder / f"{name}.tsv"
        p.write_text("".join(f"{s}\t{t}\n" for s, t in zip(corpus.src, corpus.tgt)), encoding="utf-8")
        return {"tsv": str(p)}
    paths = {}
    for side, lines in (("src", corpus.src), ("tgt", corpus.tgt)):
        p = folder / (f"{name}.{side}" + (".gz" if form == "gz" else ""))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        p.write_bytes(gzip.compress(data) if form == "gz" else data)
        paths[side] = str(p)
    return paths


@pytest.mark.parametrize("forms", [("plain", "gz", "tsv"), ("gz", "tsv", "plain"), ("tsv", "plain", "gz")])
def test_training_on_the_users_own_files(tmp_path, forms):
    """data.dataset: files with train/valid/test each plain, gzipped or TSV: the model learns the files' words
    (a word only they hold is in the vocabulary) and is validated and tested on their pairs."""
    s = builtin_splits(n_train=400, n_val=30, n_test=20, seed=1)
    s["train"].src[0] += " zebrafish"  # a word no built-in sentence has
    data = {"dataset": "files", **{name: _write_split(tmp_path, name, corpus, form)
                                   for (name, corpus), form in zip((("train", s["train"]), ("valid", s["val"]),
                                                                    ("test", s["test"])), forms)}}
    res = train(config_from_dict(merge(TINY, {"data": data})), tmp_path / "m", progress=False, log=quiet)
    assert res.steps == 12 and [h["step"] for h in res.history] == [6, 12]
    assert res.metrics["test"]["sentences"] == 20
    assert [x["ref"] for x in res.metrics["test_samples"]] == s["test"].tgt[:5]
    tr = Translator.load(tmp_path / "m")
    assert "zebrafish" in tr.src_vectorizer.get_vocabulary()
    assert len(tr.translate(s["test"].src[:3], beam=1)) == 3


def _streaming_config(tmp_path, workers: int = 0, **training):
    s = builtin_splits(n_train=400, n_val=30, n_test=30, seed=1)
    for name, split in (("train", s["train"]), ("valid", s["val"])):
        (tmp_path / f"{name}.en").write_text("\n".join(split.src) + "\n")
        (tmp_path / f"{name}.de").write_text("\n".join(split.tgt) + "\n")
    data = {"dataset": "files", "streaming": True, "window": 100, "num_workers": workers,
            "train": {"src": str(tmp_path / "train.en"), "tgt": str(tmp_path / "train.de")},
            "valid": {"src": str(tmp_path / "valid.en"), "tgt": str(tmp_path / "valid.de")}}
    return config_from_dict(merge(TINY, {"data": data, "training": {"max_steps": 16, "valid_every": 4,
                                                                    "accumulate": 2, **training}}))


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_training_crosses_epochs_and_resumes_mid_epoch_with_identical_validations(tmp_path, workers):
    """Streamed from the files (in the training process, or by 2 DataLoader workers): the run crosses epochs,
    and a run stopped at update 6 (mid-epoch) resumes to the uninterrupted run's validations."""
    full = train(_streaming_config(tmp_path, workers), tmp_path / "full", progress=False, log=quiet)
    assert full.steps == 16 and full.epochs >= 2  # 400 pairs give a few updates per epoch
    assert [h["step"] for h in full.history] == [4, 8, 12, 16]
    part = tmp_path / "part"
    train(_streaming_config(tmp_path, workers, max_steps=6), part, progress=False, evaluate_test=False, log=quiet)
    resumed = train(_streaming_config(tmp_path, workers), part, progress=False, evaluate_test=False, log=quiet)
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
