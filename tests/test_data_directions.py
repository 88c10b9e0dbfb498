"""Directions: parsing, the plan of a config, the config's checks, and where a tag goes."""
from __future__ import annotations

import pytest

from vectorseq.config import config_from_dict
from vectorseq.data.directions import Direction, direction_plan
from vectorseq.errors import ConfigError, VectorseqError
from vectorseq.vectorizer import TextVectorizer


def _cfg(**data):
    return config_from_dict({"training": {"max_steps": 1}, "data": data})


def test_plan_of_a_bilingual_and_a_multilingual_config():
    plan = direction_plan(_cfg(src_lang="en", tgt_lang="fr").data)
    assert plan.trained == (Direction("en", "fr"),) and not plan.tagged
    assert not direction_plan(_cfg(directions=["en-de"]).data).tagged  # one direction in a list: bilingual
    plan = direction_plan(_cfg(directions=["en-de", "de-en"], tag_placement="decoder", sampling_temperature=5).data)
    assert plan.tagged and plan.placement == "decoder" and plan.temperature == 5.0
    assert plan.languages == ["de", "en"] and plan.target_languages == ["de", "en"]


@pytest.mark.parametrize("data,message", [
    ({"directions": ["en-de", "en-de"]}, "repeats a direction"),
    ({"directions": ["en-en"]}, "into itself"),
    ({"directions": ["ende"]}, "SRC-TGT"),
    ({"zero_shot": ["de-fr"]}, "needs data.directions"),
    ({"directions": ["en-de", "en-fr"], "zero_shot": ["de-cs"]}, "trained target languages"),
    ({"directions": ["en-de"], "zero_shot": ["en-de"]}, "none of them also"),
    ({"directions": ["en-de", "en-fr"], "dataset": "files", "train": {"src": "a", "tgt": "b"}},
     r"data.train.src: a names one file for all of data.directions; write the languages as \{src\} and \{tgt\}"),
    ({"directions": ["en-de", "en-fr"], "dataset": "files", "train": {"src": "a.{src}", "tgt": "b.{tgt}"},
      "valid": {"tsv": "valid.tsv"}}, "data.valid.tsv: valid.tsv names one file"),
    ({"directions": ["en-de", "en-fr"], "sampling_temperature": 0}, "out of range"),
])
def test_bad_directions_are_one_line_config_errors(data, message):
    with pytest.raises(ConfigError, match=message) as err:
        _cfg(**data)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("over, message", [
    ({"vectorizer": {"per_language": True}}, "vectorizer.per_language needs data.directions"),
    ({"data": {"directions": ["en-de", "en-fr"]}, "vectorizer": {"per_language": True},
      "embeddings": {"src": {"input": "bag"}}}, "embeddings.src.input: bag reads one vocabulary"),
    ({"data": {"directions": ["en-de", "en-fr"]}, "embeddings": {"src": {"vectors": {"en": "glove-6b-50d"}}}},
     "maps languages to files, which needs vectorizer.per_language: true"),
    ({"data": {"directions": ["en-de", "en-fr"]}, "vectorizer": {"per_language": True},
      "embeddings": {"src": {"vectors": {"es": "x.vec"}}}}, "es is not a language of data.directions"),
])
def test_per_language_config_errors(over, message):
    with pytest.raises(ConfigError, match=message) as err:
        config_from_dict({"training": {"max_steps": 1}, **over})
    assert "\n" not in str(err.value)


def test_tagging_by_target_language():
    vec = TextVectorizer(split="word", reserved_tokens=["<2de>", "<2fr>"]).adapt(["a b c"])
    plan = direction_plan(_cfg(directions=["en-de", "en-fr"], zero_shot=["de-fr"]).data)
    assert plan.tagging("fr", vec, vec).src_prefix == vec.reserved_id("<2fr>")
    with pytest.raises(VectorseqError, match="say which"):
        plan.tagging(None, vec, vec)
    with pytest.raises(VectorseqError, match="does not translate into 'es'"):
        plan.tagging("es", vec, vec)
    bilingual = direction_plan(_cfg().data)
    assert bilingual.tagging(None, vec, vec) is None and bilingual.tagging("de", vec, vec) is None
