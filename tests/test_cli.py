"""The command line: user mistakes get one clear line and exit status 2; translate and evaluate round-trip."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _tiny_training import quiet, tiny_config

from vectorseq.cli import main
from vectorseq.training import train
from vectorseq.translator import Translator


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
    train(tiny_config(), tmp_path / "m", progress=False, evaluate_test=False, log=quiet)
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
