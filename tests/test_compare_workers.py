"""Tests for vectorseq/compare/workers.py: `compare --workers N` trains runs in parallel processes with the
same results as one after another, records failures, and resumes without redoing finished runs."""
from __future__ import annotations

import json

import pytest
from _compare_grid import experiment, quiet

from vectorseq.compare import read_results, run_experiment
from vectorseq.errors import ConfigError

KEYS = ("strategy", "size", "seed", "status", "test_bleu", "test_chrf", "valid_loss", "valid_bleu", "steps",
        "config_hash")


def _grid(tmp_path, name: str, workers: int, log=quiet) -> list[dict]:
    exp = experiment(strategies={"word": {}, "char": {"vectorizer": {"src": {"split": "character"}}},
                                 "missing_vectors": {"embeddings": {"src": {"vectors": str(tmp_path / "no.vec")}}}},
                     sizes=[60], budget={"max_steps": 4})
    run_experiment(exp, output_dir=tmp_path / name, progress=False, log=log, workers=workers)
    return sorted(({k: r[k] for k in KEYS} for r in read_results(tmp_path / name)), key=lambda r: r["strategy"])


@pytest.mark.slow
def test_two_workers_give_the_same_results_as_one_and_record_failures(tmp_path):
    one, two = _grid(tmp_path, "one", 1), _grid(tmp_path, "two", 2)
    assert one == two
    assert [r["status"] for r in two] == ["ok", "failed", "ok"]  # char, missing_vectors, word
    assert all(r["test_bleu"] is not None for r in two if r["status"] == "ok")


@pytest.mark.slow
def test_an_interrupted_parallel_grid_resumes_without_redoing_finished_runs(tmp_path):
    first = _grid(tmp_path, "g", 2)
    out = tmp_path / "g"
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    word = next(i for i, line in enumerate(lines) if json.loads(line)["strategy"] == "word")
    # as if the grid was killed before the `word` run finished: its record and final metrics never written
    (out / "results.jsonl").write_text("\n".join(line for i, line in enumerate(lines) if i != word) + "\n")
    (out / json.loads(lines[word])["model_dir"] / "metrics.json").unlink()
    logged: list[str] = []
    again = _grid(tmp_path, "g", 2, log=lambda *a, **k: logged.append(" ".join(map(str, a))))
    new_lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()[len(lines) - 1:]
    # the finished `char` run is skipped; the failed run is tried again (as the sequential grid does)
    assert sorted(json.loads(line)["strategy"] for line in new_lines) == ["missing_vectors", "word"]
    assert any("1 finished runs skipped" in line for line in logged)
    latest = {r["strategy"]: r for r in again}
    assert {k: latest["word"][k] for k in KEYS} == {k: r[k] for r in first if r["strategy"] == "word" for k in KEYS}


def test_workers_must_be_a_positive_integer(tmp_path):
    with pytest.raises(ConfigError, match="workers must be a positive integer, got 0"):
        run_experiment(experiment(), output_dir=tmp_path / "x", progress=False, log=quiet, workers=0)
