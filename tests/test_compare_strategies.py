"""Tests for vectorseq/compare/strategies.py: the named strategy library and `from:` in experiment files."""
from __future__ import annotations

import pytest
from _compare_grid import experiment

from vectorseq.compare import load_experiment
from vectorseq.compare.strategies import LIBRARY, library_entry
from vectorseq.errors import ConfigError


def test_a_list_of_library_names_takes_their_partial_configs():
    exp = load_experiment(experiment(strategies=["learned_word", "tfidf_sentence_vector"]))
    assert exp.strategies == {"learned_word": {}, "tfidf_sentence_vector": {"embeddings": {"src": {"input":
                                                                                                    "sentence_vector"}}}}


def test_from_starts_at_a_library_entry_and_overrides_it():
    exp = load_experiment(experiment(strategies={"subword_2k": {"from": "learned_subword",
                                                                "vectorizer": {"src": {"max_tokens": 2000}}}}))
    got = exp.strategies["subword_2k"]
    assert got["vectorizer"]["src"] == {"standardize": "none", "split": "sentencepiece", "max_tokens": 2000}
    assert got["model"] == {"share_embeddings": True} and "from" not in got
    assert LIBRARY["learned_subword"][1]["vectorizer"]["src"]["max_tokens"] == 8000  # the library is not changed


def test_unknown_library_names_get_one_line_errors():
    with pytest.raises(ConfigError, match=r"'learned_wrod' is not in the strategy library \(did you mean "
                                          r"'learned_word'\?\)"):
        load_experiment(experiment(strategies=["learned_wrod"]))
    with pytest.raises(ConfigError, match=r"x: from: expected the name of a library strategy"):
        load_experiment(experiment(strategies={"x": {"from": 3}}))


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_every_library_entry_makes_a_valid_config(name):
    assert isinstance(library_entry(name), dict)
    load_experiment(experiment(strategies=[name]))
