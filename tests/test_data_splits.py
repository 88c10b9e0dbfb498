"""Tests for vectorseq/data/splits.py: the one loader of the train / valid / test splits a config names."""
from __future__ import annotations

import pytest

from _data_files import write
from vectorseq.config import BuiltinConfig, DataConfig, FilesConfig
from vectorseq.data import load_split, load_splits
from vectorseq.errors import ConfigError, DataError


def files_config(tmp_path, **kw) -> DataConfig:
    train_src = write(tmp_path / "train.en", "a b\nc d e f\ng\n")
    train_tgt = write(tmp_path / "train.de", "A B\nC D\nG\n")
    valid = write(tmp_path / "valid.tsv", "x y\tX Y\nz\tZ\n")
    return DataConfig(dataset="files", train=FilesConfig(src=str(train_src), tgt=str(train_tgt)),
                      valid=FilesConfig(tsv=str(valid)), **kw)


def test_files_dataset_reads_each_split_with_the_data_options(tmp_path):
    splits = load_splits(files_config(tmp_path, max_length=3, on_error="skip"))
    assert splits["train"].pairs() == [("a b", "A B"), ("g", "G")]
    assert splits["train"].skipped == {"too_long": 1}
    assert splits["valid"].pairs() == [("x y", "X Y"), ("z", "Z")]
    assert splits["test"] is None  # optional
    with pytest.raises(DataError, match=r"train\.en:2: .*max_length=3"):
        load_splits(files_config(tmp_path, max_length=3, on_error="raise"))


def test_load_split_reads_one_split_or_says_what_is_missing(tmp_path):
    data = files_config(tmp_path)
    assert len(load_split(data.valid, data, "valid")) == 2
    assert load_split(data.test, data, "test", required=False) is None
    with pytest.raises(ConfigError, match=r"data\.test: give src and tgt files \(or tsv\)"):
        load_split(data.test, data, "test", required=True)


def test_builtin_dataset_and_a_seeded_subset():
    data = DataConfig(dataset="builtin", builtin=BuiltinConfig(n_train=50, n_val=5, n_test=5), max_length=None)
    splits = load_splits(data)
    assert [len(splits[k]) for k in ("train", "valid", "test")] == [50, 5, 5]
    data.subset = 20
    a, b = load_splits(data, seed=1)["train"], load_splits(data, seed=1)["train"]
    assert len(a) == 20 and a.pairs() == b.pairs()
    assert set(a.pairs()) <= set(splits["train"].pairs())
    assert a.pairs() != load_splits(data, seed=2)["train"].pairs()


def test_multi30k_dataset_limits_only_the_training_length(tmp_path):
    for split, en, de in (("train", "a b c\nd\n", "A B C\nD\n"), ("val", "e f g\n", "E F G\n"),
                          ("test_2016_flickr", "h i j\n", "H I J\n")):
        write(tmp_path / f"{split}.en.gz", en, gz=True)
        write(tmp_path / f"{split}.de.gz", de, gz=True)
    data = DataConfig(dataset="multi30k", data_dir=str(tmp_path), max_length=2)
    splits = load_splits(data)
    assert splits["train"].pairs() == [("d", "D")]
    assert splits["valid"].pairs() == [("e f g", "E F G")] and splits["test"].pairs() == [("h i j", "H I J")]


def test_unknown_dataset_suggests_the_closest():
    data = DataConfig()
    data.dataset = "file"  # the config would refuse it; a hand-made DataConfig reaches the loader
    with pytest.raises(ConfigError, match="unknown dataset 'file'; did you mean 'files'"):
        load_splits(data)
