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
    with pytest.raises(ConfigError, match=r"model.norm: 'postnorm' is not valid; expected one of 'pre', 'post'"):
        config_from_dict({"model": {"norm": "postnorm"}, "training": {"max_steps": 1}})
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


# ---- issue 17 item 9: every bad value is a one-line ConfigError at load time, naming the key and the fix
@pytest.mark.parametrize("section,key,value,match", [
    ("model", "dropout", 1.5, r"model.dropout: 1.5 is out of range; it must be in \[0, 1\)"),
    ("model", "attention_dropout", float("nan"), r"model.attention_dropout: nan is not a finite number"),
    ("training", "label_smoothing", 3, r"training.label_smoothing: 3 is out of range"),
    ("training", "betas", [0.9, 1.0], r"training.betas: \[0.9, 1.0\] is out of range; it must be in \[0, 1\)"),
    ("training", "lr", float("nan"), r"training.lr: nan is not a finite number"),
    ("training", "lr", -0.1, r"training.lr: -0.1 must not be negative; it must be >= 0"),
    ("training", "lr", float("inf"), r"training.lr: inf is not a finite number"),
    ("training", "max_minutes", float("nan"), r"training.max_minutes: nan is not a finite number"),
    ("training", "max_epochs", 0, r"training.max_epochs: 0 is out of range; it must be >= 1"),
    ("training", "warmup_steps", -1, r"training.warmup_steps: -1 must not be negative"),
    ("model", "d_model", 0, r"model.d_model: 0 is out of range; it must be >= 1"),
    ("model", "heads", 0, r"model.heads: 0 is out of range; it must be >= 1"),
    ("model", "encoder_layers", 0, r"model.encoder_layers: 0 is out of range"),
    ("training", "device", "tpu", r"training.device: 'tpu' is not valid; expected auto, cpu, cuda, cuda:N or mps"),
])
def test_out_of_range_values_are_one_line_errors(section, key, value, match):
    raw = {"training": {"max_steps": 1}}
    raw.setdefault(section, {})[key] = value
    with pytest.raises(ConfigError, match=match):
        config_from_dict(raw)


def test_heads_zero_is_an_error_not_zero_division_in_vectorseq_config(tmp_path):
    import subprocess
    import sys
    p = tmp_path / "c.yaml"
    p.write_text("model:\n  heads: 0\ntraining:\n  max_steps: 1\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "vectorseq", "config", str(p)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "model.heads: 0 is out of range" in r.stderr


def test_yaml_1_1_exponent_strings_are_numbers(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("training:\n  lr: 1e-4\n  max_steps: 1\n", encoding="utf-8")
    assert load_config(p).training.lr == 1e-4
    p.write_text("training:\n  lr: fast\n  max_steps: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="training.lr: 'fast' is not valid; expected float"):
        load_config(p)


def test_duplicate_yaml_keys_are_refused_with_file_and_line(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("training:\n  max_steps: 1\n  lr: 0.1\n  lr: 0.2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.yaml:4: not valid YAML \(duplicate key 'lr' \(first at line 3\)"):
        load_config(p)


def test_loader_refuses_broken_files_and_overrides(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_bytes(b"name: caf\xe9\ntraining:\n  max_steps: 1\n")
    with pytest.raises(ConfigError, match=r"c.yaml: config file is not UTF-8 text \(byte 9\); save it as UTF-8"):
        load_config(p)
    p.write_text("training:\n  max_steps: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"--set 'training.lr': expected KEY.PATH=VALUE"):
        load_config(p, ["training.lr"])
    with pytest.raises(ConfigError, match=r"--set 'a.b=\[1,': the value is not valid YAML"):
        load_config(p, ["a.b=[1,"])
    with pytest.raises(ConfigError, match=r"--set '\.=1': '\.' is not a key path"):
        load_config(p, [".=1"])
    p.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="a config file is a mapping of sections"):
        load_config(p, ["training.max_steps=3"])


def test_device_that_does_not_exist_is_a_one_line_error(monkeypatch):
    import torch

    from vectorseq.errors import VectorseqError
    from vectorseq.translator import resolve_device
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(VectorseqError, match="no CUDA GPU is available"):
        resolve_device("cuda:7")
    with pytest.raises(VectorseqError, match="'tpu' is not a device name|'tpu' is not supported"):
        resolve_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(VectorseqError, match=r"has 1 CUDA GPU\(s\)"):
        resolve_device("cuda:7")
