"""The config: did-you-mean for unknown keys, one-line messages for bad values, a reference for every key."""
from __future__ import annotations

from pathlib import Path

import pytest

from vectorseq.config import config_from_dict, load_config, reference_markdown
from vectorseq.errors import ConfigError


def test_config_unknown_key_has_did_you_mean():
    with pytest.raises(ConfigError, match=r"unknown config key 'training.max_setps'; did you mean 'max_steps'\?"):
        config_from_dict({"training": {"max_setps": 3}})
    with pytest.raises(ConfigError, match=r"model.type: 'lstm' is not valid; expected one of 'transformer', 'rnn'"):
        config_from_dict({"model": {"type": "lstm"}, "training": {"max_steps": 1}})
    with pytest.raises(ConfigError, match="at least one of max_steps"):
        config_from_dict({})
    with pytest.raises(ConfigError, match="must not be negative"):
        config_from_dict({"training": {"max_steps": -1}})


def test_config_reference_documents_every_key():
    ref = reference_markdown()
    cfg = load_config(None, ["training.max_steps=1"])
    for section, value in cfg.to_dict().items():
        if isinstance(value, dict):
            for key, sub in value.items():
                if not isinstance(sub, dict):
                    assert f"`{section}.{key}`" in ref, f"{section}.{key} undocumented"
    assert Path("docs/config.md").read_text() == ref + "\n", "docs/config.md is stale: vectorseq config --reference"
