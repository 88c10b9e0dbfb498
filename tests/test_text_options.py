"""Tests for vectorseq.text.options: the one set of vectorizer defaults and the settings checks."""
from __future__ import annotations

import inspect

import pytest

from vectorseq.config import config_from_dict
from vectorseq.errors import VectorseqError
from vectorseq.text.options import DEFAULTS, TRANSLATION_DEFAULTS, Options, choose_option
from vectorseq.vectorizer import TextVectorizer


def test_constructor_defaults_are_the_defaults_mapping():
    params = inspect.signature(TextVectorizer).parameters
    assert {name: p.default for name, p in params.items()} == dict(DEFAULTS)
    config = TextVectorizer().get_config()
    assert all(config[key] == DEFAULTS[key] for key in config if key not in ("standardize", "tfidf_norm"))


def test_config_defaults_are_the_translation_defaults():
    side = config_from_dict({"training": {"max_steps": 1}}).vectorizer.src
    for key in ("standardize", "split", "max_tokens", "min_freq", "sentencepiece_model_type"):
        assert getattr(side, key) == TRANSLATION_DEFAULTS[key]
    # only the keys a translation model needs otherwise differ, and they are named in options.py
    differ = {k for k in DEFAULTS if DEFAULTS[k] != TRANSLATION_DEFAULTS[k]}
    assert differ == {"standardize", "split", "max_tokens"}


def test_config_drops_the_retired_output_mode_key():
    raw = {"training": {"max_steps": 1}, "vectorizer": {"src": {"split": "word", "output_mode": "int"},
                                                       "tgt": {"output_mode": "int"}}}
    cfg = config_from_dict(raw)
    assert cfg.vectorizer.src.split == "word" and "output_mode" not in cfg.to_dict()["vectorizer"]["src"]
    assert raw["vectorizer"]["src"]["output_mode"] == "int"  # the caller's dict is left alone


def test_options_checked_and_stored():
    opts = Options.checked(**{k: v for k, v in DEFAULTS.items() if k not in ("standardize", "split", "vocabulary",
                                                                             "idf_weights")} | {"ngrams": 2})
    assert opts.ngrams == (1, 2) and opts.to_config()["ngrams"] == [1, 2]
    assert choose_option("split option", "WORD", ("word",)) == "word"
    with pytest.raises(VectorseqError, match=r"did you mean 'word'\?"):
        choose_option("split option", "wrod", ("whitespace", "word"))
    v = TextVectorizer(max_tokens=10, output_mode="count")
    assert (v.max_tokens, v.output_mode) == (10, "count")  # the checked settings read as attributes
    with pytest.raises(AttributeError):
        v.no_such_setting
