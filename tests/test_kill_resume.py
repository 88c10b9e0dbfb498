"""Kill -9 at chosen moments, then resume: the fast part of benchmarks/kill_harness.py (the script kills at every
file write of a tiny training and a tiny comparison; see benchmarks/RESULTS.md, RELIABILITY).

The unit tests pin the three defects the harness found, each at its root; the last two tests run the harness
itself (one interpreter that forks each kill and re-run) at the moments those defects lived in.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vectorseq.jsonl import append_jsonl, read_jsonl
from vectorseq.training.state import recover_checkpoint
from vectorseq.training.validation import resumed_log

REPO = Path(__file__).resolve().parents[1]


def _checkpoint(d: Path, step: int, torn: bool = False) -> Path:
    d.mkdir(parents=True)
    (d / "model.safetensors").write_bytes(b"w")
    (d / "state.safetensors").write_bytes(b"s")
    text = json.dumps({"meta": {"step": step}})
    (d / "state.json").write_text(text[: len(text) // 2] if torn else text)
    return d


def test_a_torn_state_json_is_not_taken_for_a_complete_checkpoint(tmp_path):
    """Found by the harness: killed while the first checkpoint's state.json was written (no checkpoints/last yet),
    the re-run recovered the torn last.tmp and stopped with "the training state is damaged"."""
    ckpt = tmp_path / "checkpoints"
    _checkpoint(ckpt / "last.tmp", 3, torn=True)
    assert recover_checkpoint(ckpt / "last") is None and not (ckpt / "last").exists()  # a fresh start follows
    _checkpoint(ckpt / "last.old", 3)  # a complete older one is still taken
    assert recover_checkpoint(ckpt / "last") == "last.old"
    assert json.loads((ckpt / "last/state.json").read_text())["meta"]["step"] == 3


def test_resumed_log_drops_records_newer_than_the_checkpoint_and_torn_lines(tmp_path):
    """The record of a validation is logged before its checkpoint is committed (the other order lost it when a
    kill fell between the two); resuming from an older checkpoint drops the newer record, which is logged again."""
    log = tmp_path / "train_log.jsonl"
    log.write_text('{"step": 3, "valid_loss": 2.5}\n{"step": 6, "valid_loss": 2.1}\n{"step": 9, "val')
    assert resumed_log(log, 6) == [{"step": 3, "valid_loss": 2.5}, {"step": 6, "valid_loss": 2.1}]
    assert read_jsonl(log) == resumed_log(log, 6)  # the file itself was rewritten: no torn line is left
    assert [r["step"] for r in resumed_log(log, 3)] == [3]
    assert [r["step"] for r in read_jsonl(log)] == [3]


def test_an_append_after_a_torn_line_starts_a_new_line(tmp_path):
    """A record appended after a line cut short by a kill was glued to it and skipped with it: a finished
    comparison run's result was lost from results.jsonl."""
    path = tmp_path / "results.jsonl"
    path.write_text('{"run": 1}\n{"run": 2, "sta')
    append_jsonl(path, [{"run": 3}])
    assert read_jsonl(path, skip_broken=True) == [{"run": 1}, {"run": 3}]


def _harness(tmp_path: Path, only: str, picks: list[str]) -> dict:
    cmd = [sys.executable, str(REPO / "benchmarks/kill_harness.py"), "run", "--only", only, "--random", "0",
           "--keep", str(tmp_path / "work")]
    for p in picks:
        cmd += ["--pick", p]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert done.stdout, done.stderr[-3000:]
    return json.loads(done.stdout)[only]


@pytest.mark.slow
def test_training_killed_at_the_moments_that_lost_work_resumes_identically(tmp_path):
    picks = ["before-*-open-train_log.jsonl",  # checkpoint committed (old order), record not yet logged
             "tear-*-train_log.jsonl",  # a record cut in half
             "tear-*/state.json.tmp",  # the first checkpoint's state.json cut in half
             "before-*-replace-checkpoints/last.tmp"]  # between the two renames of the checkpoint swap
    report = _harness(tmp_path, "train", picks)
    assert report["moments"] >= 6 and report["killed"] == report["moments"]
    assert report["identical"] == report["moments"], report["failures"]


@pytest.mark.slow
def test_compare_killed_while_appending_a_result_loses_nothing(tmp_path):
    report = _harness(tmp_path, "compare", ["tear-*-results.jsonl", "before-*-open-results.jsonl",
                                            "tear-*/metrics.json.tmp"])
    assert report["moments"] >= 6 and report["killed"] == report["moments"]
    assert report["identical"] == report["moments"], report["failures"]
