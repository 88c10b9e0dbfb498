"""The command line: user mistakes get one clear line and exit status 2; translate and evaluate round-trip."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import sacrebleu
import yaml
from _tiny_training import quiet, tiny_config

from vectorseq.cli import main
from vectorseq.data.splits import load_splits
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
    # the file, the line where the parser gave up, and what it expected
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: {cfg}:2: not valid YAML (expected ',' or ']', but got '<stream end>')"
    cfg.write_text("training:\n  max_steps: 5\n   lr: 0.1\n")  # line 3 indented one space too far
    r = _cli("train", str(cfg))
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: {cfg}:3: not valid YAML (mapping values are not allowed here)"
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
    capsys.readouterr()
    hyps_file = tmp_path / "hyps.txt"
    assert main(["evaluate", str(tmp_path / "m"), "--beam", "1", "-o", str(hyps_file)]) == 0
    result = json.loads(capsys.readouterr().out)
    test = load_splits(tiny_config().data)["test"]
    hyps = hyps_file.read_text(encoding="utf-8").splitlines()
    # the written hypotheses are the model's greedy translations of the test split, in order
    assert hyps == Translator.load(tmp_path / "m").translate(test.src, beam=1) and len(hyps) == 30
    # and the printed scores are sacreBLEU's on exactly those lines
    assert result["bleu"] == round(sacrebleu.corpus_bleu(hyps, [test.tgt]).score, 2)
    assert result["bleu_lc"] == round(sacrebleu.corpus_bleu(hyps, [test.tgt], lowercase=True).score, 2)
    assert result["chrf"] == round(sacrebleu.corpus_chrf(hyps, [test.tgt]).score, 2)
    assert result["beam_size"] == 1 and result["sentences"] == 30
    assert result["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "m"
    train(tiny_config(training={"max_steps": 6}), out, progress=False, evaluate_test=False, log=quiet)
    return out


def test_blank_lines_keep_outputs_aligned(tiny_model, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("two thousand\n\n   \nthe second\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    assert main(["translate", str(tiny_model), "-i", str(src), "-o", str(out), "--beam", "1"]) == 0
    got = out.read_text(encoding="utf-8").split("\n")[:-1]
    want = Translator.load(tiny_model).translate(["two thousand", "the second"], beam=1)
    assert got == [want[0], "", "", want[1]]  # line i of the output is the translation of line i


def test_stdin_that_is_not_utf8_names_its_line(tiny_model):
    r = subprocess.run([sys.executable, "-m", "vectorseq", "translate", str(tiny_model)], input=b"ok\n\xff\xfe\n",
                       capture_output=True, timeout=120)
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    assert r.stderr.decode().strip() == "error: <stdin>:2: not valid UTF-8 (byte 0); convert the input to UTF-8, " \
                                        "e.g. with iconv"


@pytest.mark.parametrize("args, message", [
    (["--beam", "0"], "--beam must be a positive integer, got '0'"),
    (["--n-best", "0"], "--n-best must be a positive integer, got '0'"),
    (["--batch-size", "-1"], "--batch-size must be a positive integer, got '-1'"),
    (["--n-best", "5", "--beam", "2"], "--n-best 5 needs --beam of at least 5 (the beam is 2); add --beam 5"),
])
def test_bad_search_arguments_are_refused(tiny_model, args, message, capsys):
    assert main(["translate", str(tiny_model), *args]) == 2  # argparse's own usage errors too: a status, one line
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1 and err.startswith("error: ")


def test_usage_errors_are_one_line_and_say_how_to_pass_a_dash_value(capsys):
    """Found by the fuzzer (tests/test_fuzz_config.py): `--set -:` made argparse print a usage block and raise
    SystemExit out of main()."""
    assert main(["config", "x.yaml", "--set", "-:"]) == 2
    assert capsys.readouterr().err == ("error: vectorseq config: argument --set: expected one argument (a value that "
                                       "starts with '-' is written as --option=VALUE); see `vectorseq config "
                                       "--help`\n")
    assert main(["nosuchcommand"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: vectorseq: argument command: invalid choice: 'nosuchcommand'") and \
        len(err.splitlines()) == 1
    assert main(["--help"]) == 0 and "usage: vectorseq" in capsys.readouterr().out


def test_output_that_is_a_directory_is_refused(tiny_model, tmp_path, capsys):
    assert main(["evaluate", str(tiny_model), "-o", str(tmp_path)]) == 2
    assert f"--output {tmp_path} is a directory" in capsys.readouterr().err



def _folder_with_test_files(tiny_model, tmp_path, src: str, tgt: str):
    """A copy of the tiny model folder whose config names test files ``src`` and ``tgt`` (as written)."""
    m = tmp_path / "shared"
    shutil.copytree(tiny_model, m)
    cfg = yaml.safe_load((m / "config.yaml").read_text())
    cfg["data"].update(dataset="files", train={"src": "train.en", "tgt": "train.de"}, test={"src": src, "tgt": tgt})
    (m / "config.yaml").write_text(yaml.safe_dump(cfg))
    return m


def test_evaluate_reads_a_split_only_inside_the_model_folder(tiny_model, tmp_path, capsys):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for name, text in (("t.en", "two thousand\nthe second\n"), ("t.de", "zweitausend\nder zweite\n")):
        (outside / name).write_text(text, encoding="utf-8")
    m = _folder_with_test_files(tiny_model, tmp_path, str(outside / "t.en"), str(outside / "t.de"))
    assert main(["evaluate", str(m), "--beam", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {m / 'config.yaml'}: data.test.src ({outside / 't.en'}) lies outside the model folder, "
                   "and evaluate reads a split's files only inside it; pass the files explicitly: --src FILE "
                   "--ref FILE")
    # explicitly given, the same files are read
    assert main(["evaluate", str(m), "--beam", "1", "--src", str(outside / "t.en"), "--ref",
                 str(outside / "t.de")]) == 0
    explicit = json.loads(capsys.readouterr().out)
    # a relative path is taken from the model folder
    for name in ("t.en", "t.de"):
        shutil.copy(outside / name, m / name)
    cfg = yaml.safe_load((m / "config.yaml").read_text())
    cfg["data"]["test"] = {"src": "t.en", "tgt": "t.de"}
    (m / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["evaluate", str(m), "--beam", "1"]) == 0
    inside = json.loads(capsys.readouterr().out)
    assert inside["sentences"] == 2 and inside["bleu"] == explicit["bleu"] and inside["chrf"] == explicit["chrf"]


@pytest.mark.parametrize("escape", ["../elsewhere/t.en", "link.en"])
def test_evaluate_refuses_a_relative_path_or_symlink_leaving_the_folder(tiny_model, tmp_path, capsys, escape):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/t.en").write_text("secret\n", encoding="utf-8")
    m = _folder_with_test_files(tiny_model, tmp_path, escape, "t.de")
    (m / "link.en").symlink_to(tmp_path / "elsewhere/t.en")
    (m / "t.de").write_text("geheim\n", encoding="utf-8")
    assert main(["evaluate", str(m)]) == 2
    assert f"data.test.src ({escape}) lies outside the model folder" in capsys.readouterr().err


def test_compare_part_of_a_grid_that_matches_nothing_is_one_line(tmp_path, capsys):
    """`compare --strategies`: a pattern naming no strategy of the experiment stops before any data is read."""
    exp = tmp_path / "exp.yaml"
    strategies = {"word": {}, "subword_1k": {"vectorizer": {"src": {"split": "character"}}}}
    exp.write_text(yaml.safe_dump({"base": tiny_config().to_dict(), "strategies": strategies, "sizes": ["all"],
                                   "seeds": [1]}), encoding="utf-8")
    assert main(["compare", str(exp), "-o", str(tmp_path / "out"), "--strategies", "subword_*,glove*"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {exp}: --strategies 'glove*' matches none of the experiment's strategies (subword_1k, word)"
    assert not (tmp_path / "out" / "results.jsonl").exists()
