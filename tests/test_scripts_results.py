"""Tests for scripts/restore_results.sh: a committed study back as its output folder on a fresh clone."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _restore(root: Path, name: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(root / "scripts" / "restore_results.sh"), name], capture_output=True,
                          text=True)


def test_restore_puts_the_committed_study_back_and_never_overwrites_results(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "restore_results.sh", tmp_path / "scripts")
    study = tmp_path / "docs" / "results" / "s"
    (study / "archive" / "runs" / "w" / "n10_s1").mkdir(parents=True)
    (study / "results.jsonl").write_text('{"strategy": "w"}\n', encoding="utf-8")
    (study / "significance.json").write_text("[]", encoding="utf-8")
    (study / "experiment.yaml").write_text("name: s\n", encoding="utf-8")
    (study / "archive" / "runs" / "w" / "n10_s1" / "hyps.txt").write_text("ein Hund\n", encoding="utf-8")
    (study / "report.md").write_text("# report\n", encoding="utf-8")
    done = _restore(tmp_path, "s")
    assert done.returncode == 0 and "(1 records)" in done.stdout
    out = tmp_path / "runs" / "compare" / "s"
    assert (out / "archive/runs/w/n10_s1/hyps.txt").read_text(encoding="utf-8") == "ein Hund\n"
    assert sorted(p.name for p in out.iterdir()) == ["archive", "experiment.yaml", "results.jsonl",
                                                   "significance.json"]  # the report is rebuilt, not copied
    (out / "results.jsonl").write_text('{"strategy": "w"}\n{"strategy": "newer"}\n', encoding="utf-8")
    again = _restore(tmp_path, "s")
    assert again.returncode == 2 and "not overwriting a folder with results" in again.stderr
    assert "newer" in (out / "results.jsonl").read_text(encoding="utf-8")
    missing = _restore(tmp_path, "nothing")
    assert missing.returncode == 2 and "nothing committed to restore" in missing.stderr
