"""The splits of every direction: the built-in corpus and Multi30k are multi-parallel."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from vectorseq.config import config_from_dict
from vectorseq.data.directions import Direction, direction_plan
from vectorseq.data.language_balance import balanced_text
from vectorseq.data.multilingual import load_direction_splits
from vectorseq.data.synthetic import builtin_splits, multilingual_splits


def _data(**data):
    return config_from_dict({"training": {"max_steps": 1}, "data": data}).data


def test_builtin_directions_are_multi_parallel_and_zero_shot_has_no_training_data():
    data = _data(directions=["en-de", "en-fr", "fr-en"], zero_shot=["de-fr"],
                 builtin={"n_train": 40, "n_val": 6, "n_test": 6, "seed": 2}, subset=30)
    splits = load_direction_splits(data, direction_plan(data), seed=0)
    de, fr, fr_en, de_fr = (splits[Direction(*d.split("-"))] for d in ("en-de", "en-fr", "fr-en", "de-fr"))
    assert de["valid"].src == fr["valid"].src == fr_en["valid"].tgt  # the same English sentences
    assert de_fr["test"].src == de["test"].tgt and de_fr["test"].tgt == fr["test"].tgt
    assert de_fr["train"] is None and len(de["train"]) == 30 and de["train"].src == fr["train"].src
    assert "Januar" in " ".join(de["valid"].tgt) and "janvier" in " ".join(fr["valid"].tgt)


def test_one_target_language_renders_as_the_bilingual_corpus():
    columns = multilingual_splits(["de"], n_train=20, n_val=5, n_test=5, seed=3)
    bilingual = builtin_splits(n_train=20, n_val=5, n_test=5, seed=3, tgt_lang="de")
    assert columns["train"]["en"] == bilingual["train"].src and columns["train"]["de"] == bilingual["train"].tgt


# the tests' usual place for Multi30k: $VECTORSEQ_MULTI30K, else ../shared/data/multi30k beside the checkout
MULTI30K_DIR = Path(os.environ.get("VECTORSEQ_MULTI30K") or Path(__file__).resolve().parents[2] / "shared/data/multi30k")


@pytest.mark.skipif(not (MULTI30K_DIR / "train.fr.gz").is_file(), reason=f"Multi30k not found in {MULTI30K_DIR}")
def test_multi30k_any_pair_of_its_languages():
    data = _data(dataset="multi30k", data_dir=str(MULTI30K_DIR), subset=50,
                 directions=["en-de", "en-fr"], zero_shot=["de-fr"])
    splits = load_direction_splits(data, direction_plan(data), seed=0)
    ende, enfr, defr = (splits[Direction(*d.split("-"))] for d in ("en-de", "en-fr", "de-fr"))
    assert ende["test"].src == enfr["test"].src and defr["test"].src == ende["test"].tgt
    assert defr["test"].tgt == enfr["test"].tgt and defr["train"] is None and len(ende["train"]) == 50


def test_the_adapt_text_gives_every_language_as_many_sentences():
    data = _data(directions=["en-de", "de-en", "en-fr"], builtin={"n_train": 60, "n_val": 2, "n_test": 2})
    splits = load_direction_splits(data, direction_plan(data), seed=0)
    train = {d: s["train"] for d, s in splits.items()}
    train[Direction("en", "fr")] = train[Direction("en", "fr")].subset(10, mode="first")  # a small language
    text = balanced_text(train, seed=0)
    sizes = {lang: len(texts) for lang, texts in text.by_language.items()}
    assert sizes == {"de": 60, "en": 60, "fr": 60}
    assert set(text.by_language["fr"]) == set(train[Direction("en", "fr")].tgt)  # repeated, nothing invented
    assert text.src_langs == ["de", "en"] and text.tgt_langs == ["de", "en", "fr"]
