"""Training end to end on the built-in corpus: resume equals an uninterrupted run, the model folder is
self-contained and pickle-free, and user mistakes get one clear line and exit status 2."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from vectorseq.cli import main
from vectorseq.config import config_from_dict, load_config, reference_markdown
from vectorseq.errors import ConfigError
from vectorseq.training import train
from vectorseq.translator import Translator

TINY = {
    "name": "tiny",
    "data": {"dataset": "builtin", "builtin": {"n_train": 400, "n_val": 30, "n_test": 30, "seed": 1}},
    "vectorizer": {"shared": True, "src": {"split": "word", "standardize": "none", "max_tokens": None}},
    "model": {"type": "transformer", "d_model": 32, "ff_size": 64, "heads": 2, "encoder_layers": 1,
              "decoder_layers": 1, "dropout": 0.2},
    "training": {"batch_tokens": 400, "lr": 0.003, "warmup_steps": 5, "max_steps": 12, "valid_every": 6,
                 "threads": 1, "seed": 3},
    "decoding": {"beam_size": 2, "batch_size": 16},
}


def _cfg(**over):
    from vectorseq.config import merge

    return config_from_dict(merge(TINY, over))


def _weights(d: Path) -> dict[str, torch.Tensor]:
    return load_file(str(d / "checkpoints/last/model.safetensors"))


def test_resume_continues_with_identical_losses(tmp_path):
    full = train(_cfg(), tmp_path / "full", progress=False, evaluate_test=False, log=lambda *a: None)
    part = tmp_path / "part"
    first = train(_cfg(training={"max_steps": 6}), part, progress=False, evaluate_test=False, log=lambda *a: None)
    assert first.steps == 6
    resumed = train(_cfg(), part, progress=False, evaluate_test=False, log=lambda *a: None)
    assert resumed.steps == 12
    losses_full = [(h["step"], h["train_loss"], h["valid_loss"]) for h in full.history]
    losses_resumed = [(h["step"], h["train_loss"], h["valid_loss"]) for h in resumed.history]
    assert losses_full == losses_resumed
    wf, wr = _weights(tmp_path / "full"), _weights(part)
    assert wf.keys() == wr.keys()
    for k in wf:
        assert torch.equal(wf[k], wr[k]), k


def test_model_folder_is_self_contained_and_pickle_free(tmp_path):
    res = train(_cfg(), tmp_path / "m", progress=False, log=lambda *a: None)
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


def test_patience_stops_early(tmp_path):
    res = train(_cfg(training={"max_steps": 1000, "valid_every": 2, "patience": 1, "lr": 0.0,
                               "early_stopping_metric": "loss"}),
                tmp_path / "p", progress=False, evaluate_test=False, log=lambda *a: None)
    assert res.metrics["stop_reason"] == "patience=1"
    assert res.steps == 4  # the first validation sets the best; the second (lr 0: no change) is not better


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


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vectorseq", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["train", "nope.yaml"], "error: nope.yaml: config file not found; check the path"),
    (["translate", "no_such_dir"], "error: no_such_dir: not a vectorseq model folder"),
])
def test_cli_user_errors_are_one_line_exit_2(args, message):
    r = _cli(*args)
    assert r.returncode == 2
    assert r.stderr.strip().startswith(message), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_cli_bad_key_and_value_and_debug(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("training:\n  max_steps: 5\n  learning_rate: 0.1\n")
    r = _cli("train", str(cfg))
    assert r.returncode == 2
    assert "unknown config key 'training.learning_rate'" in r.stderr
    cfg.write_text("training:\n  max_steps: five\n")
    r = _cli("train", str(cfg))
    assert r.returncode == 2 and "training.max_steps: 'five' is not valid" in r.stderr
    cfg.write_text("training: [unclosed\n")
    r = _cli("train", str(cfg))
    assert r.returncode == 2 and "not valid YAML" in r.stderr and ":" in r.stderr
    r = _cli("--debug", "train", "nope.yaml")
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_cli_missing_data_file_names_it(tmp_path):
    src = tmp_path / "train.en"
    src.write_text("a b\nc d\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data:\n  dataset: files\n  train: {{src: {src}, tgt: {tmp_path}/missing.de}}\n"
                   f"  valid: {{src: {src}, tgt: {src}}}\ntraining: {{max_steps: 1}}\n")
    r = _cli("train", str(cfg), "--output", str(tmp_path / "out"))
    assert r.returncode == 2
    assert "missing.de" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_cli_translate_and_evaluate_roundtrip(tmp_path, capsys):
    train(_cfg(), tmp_path / "m", progress=False, evaluate_test=False, log=lambda *a: None)
    inp = tmp_path / "in.txt"
    inp.write_text("two thousand and forty-one\nthe second\n")
    out = tmp_path / "out.txt"
    assert main(["translate", str(tmp_path / "m"), "-i", str(inp), "-o", str(out), "--beam", "2"]) == 0
    lines = out.read_text().splitlines()
    assert lines == Translator.load(tmp_path / "m").translate(inp.read_text().splitlines(), beam=2)
    assert main(["evaluate", str(tmp_path / "m"), "--beam", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"bleu", "chrf", "bleu_lc", "bleu_signature", "sentences_per_s"} <= set(result)
    assert result["sentences"] == 30
