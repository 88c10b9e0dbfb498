"""Tests for vectorseq/compare/report.py: report.md, the self-contained report.html, figures, significance."""
from __future__ import annotations

import json
import random
import re
import shutil

import pytest

from _compare_grid import experiment, grid  # noqa: F401  (a fixture)

from vectorseq.compare import experiment as experiment_mod
from vectorseq.compare import load_experiment, read_results, write_report
from vectorseq.compare.results import (ARCHIVE_DIR, TEST_REF_FILE, TEST_SRC_FILE, append_result, new_record,
                                       read_history, read_hypotheses, write_lines)
from vectorseq.evaluation import score
from vectorseq.modelfolder import HYPOTHESES_FILE, LOG_FILE


def test_report_contains_every_run_and_figures(grid):
    out = grid["out"]
    md = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    for r in read_results(out):
        assert r["model_dir"] in md and r["model_dir"] in html
    for section in ("## Results", "## Learning curve", "## Training curves", "## Significance",
                    "## Sample translations", "## Failed runs", "## All runs"):
        assert section in md
    assert "simulated failure inside training" in md
    for stem in ("learning_curve", "training_curves", "significance"):
        for ext in ("png", "svg"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 1000
    # self-contained HTML: figures embedded, nothing fetched from elsewhere
    assert html.count("data:image/png;base64,") == 3  # the learning curve, training curves, significance heatmap
    assert 'src="figures/' not in html and "<link" not in html and "http" not in html.split("<body>")[1]
    # side-by-side samples: the same test sentences with every finished strategy's output
    src = (out / "test.src.txt").read_text(encoding="utf-8").split("\n")
    assert src[0] in md and "| **word** |" in md and "| **char** |" in md
    sig = json.loads((out / "significance.json").read_text())
    assert {(s["name_a"], s["name_b"]) in {("word", "char"), ("char", "word")} for s in sig} == {True}
    assert len(sig) == 2 and all(s["verdict"] in md for s in sig)


def test_report_only_rebuilds_from_results(grid, monkeypatch):
    out = grid["out"]
    (out / "report.md").unlink()
    (out / "report.html").unlink()

    def no_training(*a, **k):
        raise AssertionError("--report-only must not train")

    monkeypatch.setattr(experiment_mod, "train", no_training)
    # from the output folder alone (it keeps experiment.yaml), through the CLI
    from vectorseq.cli import main

    assert main(["compare", str(out), "--report-only", "--quiet"]) == 0
    assert "## All runs" in (out / "report.md").read_text(encoding="utf-8")
    assert (out / "report.html").is_file()


def test_capped_runs_are_flagged_in_results_and_report(grid):
    """The tiny grid trains 6 updates without patience: every finished run hit its cap."""
    out = grid["out"]
    ok = [r for r in read_results(out) if r["status"] == "ok"]
    assert ok and {(r["stop_class"], r["stop_reason"]) for r in ok} == {("capped", "max_steps=6")}
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| capped† |" in md and "capped† (max_steps=6)" in md
    assert f"† Not converged: {len(ok)} of {len(ok)} runs hit the budget cap (capped)" in md
    assert "| 60 | max 6 updates | transformer, d_model 32, 1+1 layers" in md


def test_records_written_before_stop_class_existed_are_flagged_from_their_stop_reason(grid):
    out = grid["out"]
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    (out / "results.jsonl").write_text("".join(json.dumps({k: v for k, v in r.items() if k != "stop_class"}) + "\n"
                                               for r in lines), encoding="utf-8")
    write_report(load_experiment(experiment(), output_dir=out), out)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| capped† |" in md and "capped† (max_steps=6)" in md and "runs hit the budget cap (capped)" in md


def test_a_grid_split_between_devices_says_so(grid):
    """Runs merged from a GPU machine: the report counts the runs per device (older records count as cpu) and
    warns that minutes and tokens/s compare within one device only; a one-device grid says nothing."""
    out = grid["out"]
    assert "trained on:" not in (out / "report.md").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    first_ok = next(i for i, r in enumerate(lines) if r["status"] == "ok")
    lines[first_ok]["device"] = "cuda (NVIDIA H200)"
    for r in lines[first_ok + 1:]:
        r.pop("device", None)
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    write_report(load_experiment(experiment(), output_dir=out), out)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "- trained on: 3 runs cpu, 1 runs cuda (NVIDIA H200); train min and tokens/s compare runs of one " \
           "device only" in md


def test_cut_cells_are_not_trained_and_the_report_gives_their_reason(grid, monkeypatch):
    """A resumed compare retries a failed run, unless the experiment cuts it: then nothing trains, and the
    report lists the cut cells with their reason instead of the failure."""
    out = grid["out"]
    calls = []
    monkeypatch.setattr(experiment_mod, "train", lambda cfg, *a, **k: calls.append(cfg.name))
    cut = [{"strategies": ["broken"], "reason": "it fails on purpose"}]
    lines = []
    experiment_mod.run_experiment(experiment(cut=cut), output_dir=out, progress=False, log=lines.append)
    assert calls == []
    assert lines[0].endswith("= 6 runs, 2 cut (reasons in the report): 4 runs -> " + str(out))
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Failed runs" not in md and "## Cut from the grid" in md
    assert "runs: 4 finished, 0 failed (of 4); 2 cells of the stated grid cut" in md
    assert "| broken | 60, all | 1 | 2 | it fails on purpose |" in md


def _drop(refs: list[str], keep: float, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(w for w in r.split() if rng.random() < keep) for r in refs]


def test_winner_and_significance_matrix_over_seeds_from_synthetic_outputs(tmp_path):
    """3 strategies x 2 sizes x 3 seeds of made-up translations, no training: at 50 pairs `good` is clearly
    better and `same_a`/`same_b` are identical; at 100 pairs all three are identical (a tie)."""
    rng = random.Random(0)
    words = "the a cat dog sat ran on under mat house red big small quickly today".split()
    refs = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 12))) for _ in range(150)]
    exp = load_experiment(experiment(strategies={"same_a": {}, "good": {}, "same_b": {}}, sizes=[50, 100],
                                     seeds=[1, 2, 3]), output_dir=tmp_path)
    write_lines(tmp_path / TEST_REF_FILE, refs)
    write_lines(tmp_path / TEST_SRC_FILE, refs)
    for run in exp.runs():
        if run.size == 50:
            hyps = _drop(refs, 0.9, run.seed) if run.strategy == "good" else _drop(refs, 0.5, 100 + run.seed)
        else:
            hyps = _drop(refs, 0.7, 200 + run.seed)
        (tmp_path / run.dirname).mkdir(parents=True)
        write_lines(tmp_path / run.dirname / HYPOTHESES_FILE, hyps)
        rec = new_record(exp.name, run, run.size, "h")
        capped = (run.strategy, run.size, run.seed) == ("good", 50, 2)
        rec.update(test_bleu=score(hyps, refs)["bleu"], stop_class="capped" if capped else "converged",
                   stop_reason="max_steps=6" if capped else "patience=3")
        append_result(tmp_path, rec)
    md = write_report(exp, tmp_path).read_text(encoding="utf-8")
    sig = {(s["size"], s["name_a"], s["name_b"]): s for s in json.loads((tmp_path / "significance.json").read_text())}
    assert len(sig) == 6 and all(s["seeds"] == 3 and s["seed_numbers"] == [1, 2, 3] for s in sig.values())
    # identical systems: no significant difference; the clearly better one wins at 50 pairs
    same = sig.get((50, "same_a", "same_b"))
    assert same["p_value"] == 1.0 and same["delta"] == 0 and not same["significant"]
    assert sig[(50, "good", "same_a")]["significant"] and sig[(50, "good", "same_a")]["delta"] > 10
    assert "- at 50 pairs: **good** wins (good beats same_a by" in md
    assert "- at 100 pairs: tied between same_a, good, same_b (no significant difference" in md
    assert "### Significance matrix" in md and "| 50 pairs | good | same_a | same_b |" in md
    d = sig[(50, "good", "same_a")]["delta"]
    assert f"| **good** | · | {d:+.1f}* | {d:+.1f}* |" in md and f"| **same_a** | {-d:+.1f}* | · | +0.0 |" in md
    assert (tmp_path / "figures" / "significance.png").stat().st_size > 1000
    assert "significance matrix heatmap" in md
    # mean ± std over seeds in the results table, the capped run flagged
    assert re.search(r"\| good \| 50 \| 3/3 \| 1 capped†, 2 converged \| \*\*\d+\.\d ± \d+\.\d\*\* \|", md)
    assert "† Not converged: 1 of 18 runs hit the budget cap (capped)" in md
    # one verdict line per pair is gone: the matrix replaces it
    assert md.count("no significant difference between") == 1


def _synthetic_grid(tmp_path, seeds=(1, 2)):
    """Two strategies x one size of made-up translations (`good` clearly better), no training; returns
    (experiment, refs)."""
    rng = random.Random(1)
    words = "the a cat dog sat ran on under mat house red big small".split()
    refs = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 12))) for _ in range(120)]
    exp = load_experiment(experiment(strategies={"good": {}, "poor": {}}, sizes=[50], seeds=list(seeds)),
                          output_dir=tmp_path)
    write_lines(tmp_path / TEST_REF_FILE, refs)
    write_lines(tmp_path / TEST_SRC_FILE, refs)
    return exp, refs


def _finish(exp, out, refs, run):
    hyps = _drop(refs, 0.9 if run.strategy == "good" else 0.5, run.seed)
    (out / run.dirname).mkdir(parents=True)
    write_lines(out / run.dirname / HYPOTHESES_FILE, hyps)
    (out / run.dirname / LOG_FILE).write_text(
        "".join(json.dumps({"step": s, "valid_bleu": s / 10, "valid_loss": 5 - s / 10}) + "\n" for s in (2, 4, 6)),
        encoding="utf-8")
    rec = new_record(exp.name, run, run.size, "h")
    rec.update(test_bleu=score(hyps, refs)["bleu"], stop_class="converged", stop_reason="patience=3", steps=6)
    append_result(out, rec)


def test_the_report_rebuilds_from_the_archive_without_model_folders(tmp_path):
    """The committed form of a study: results.jsonl beside archive/ (each run's translations and training log,
    as plain text), without runs/: the rebuilt report has the same tests and the same training curves."""
    exp, refs = _synthetic_grid(tmp_path)
    for run in exp.runs():
        _finish(exp, tmp_path, refs, run)
    md = write_report(exp, tmp_path).read_text(encoding="utf-8")
    sig = (tmp_path / "significance.json").read_text()
    curves = (tmp_path / "figures" / "training_curves.svg").stat().st_size
    archived = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / ARCHIVE_DIR).rglob("*.*"))
    assert archived == [f"archive/runs/{s}/n50_s{sd}/{f}" for s in ("good", "poor") for sd in (1, 2)
                        for f in sorted((HYPOTHESES_FILE, LOG_FILE))]
    shutil.rmtree(tmp_path / "runs")
    (tmp_path / "significance.json").unlink()  # nothing carried: every test is computed again from the archive
    md2 = write_report(exp, tmp_path).read_text(encoding="utf-8")
    assert (tmp_path / "significance.json").read_text() == sig and "carried" not in sig
    assert (tmp_path / "figures" / "training_curves.svg").stat().st_size == curves
    assert md2.split("Generated by")[0] == md.split("Generated by")[0]
    assert read_hypotheses(tmp_path, "runs/good/n50_s1") == _drop(refs, 0.9, 1)
    assert [h["step"] for h in read_history(tmp_path, "runs/poor/n50_s2")] == [2, 4, 6]


def test_tests_of_runs_whose_translations_are_lost_are_carried_not_dropped(tmp_path):
    """Runs finished on a machine that kept no archive: their earlier tests stay in significance.json (marked
    carried, the report says so); once a pair has a new seed, it is tested again on the seeds it can test."""
    exp, refs = _synthetic_grid(tmp_path, seeds=(1, 2))
    for run in exp.runs():
        if run.seed == 1:
            _finish(exp, tmp_path, refs, run)
    write_report(exp, tmp_path)
    before = json.loads((tmp_path / "significance.json").read_text())
    assert [(t["name_a"], t["seed_numbers"], t["significant"]) for t in before] == [("good", [1], True)]
    shutil.rmtree(tmp_path / "runs")
    shutil.rmtree(tmp_path / ARCHIVE_DIR)  # lost with the machine
    md = write_report(exp, tmp_path).read_text(encoding="utf-8")
    after = json.loads((tmp_path / "significance.json").read_text())
    assert after == [{**before[0], "carried": True}]
    assert "1 of the 1 tests are carried from the previous report" in md
    assert "good beats poor" in md  # the winner is still named from the carried test
    # a second seed: seeds [1, 2] finished, only seed 2 testable; no earlier test on [1, 2] to carry
    for run in exp.runs():
        if run.seed == 2:
            _finish(exp, tmp_path, refs, run)
    md = write_report(exp, tmp_path).read_text(encoding="utf-8")
    again = json.loads((tmp_path / "significance.json").read_text())
    assert [(t["seed_numbers"], t.get("carried")) for t in again] == [([2], None)]
    assert "carried from the previous report" not in md


def test_report_only_on_a_committed_folder_restores_the_test_split_and_the_same_tests(grid, tmp_path):
    """A folder as committed to docs/results/: no runs/ (the archive instead), no copy of the test split (it is
    the dataset's): --report-only writes the test split from the data and tests the runs from their archive."""
    committed = tmp_path / "committed"
    shutil.copytree(grid["out"], committed)
    shutil.rmtree(committed / "runs")
    for f in (TEST_REF_FILE, TEST_SRC_FILE):
        (committed / f).unlink()
    sig = json.loads((grid["out"] / "significance.json").read_text())
    (committed / "significance.json").unlink()
    lines = []
    from vectorseq.compare import run_experiment

    run_experiment(committed, report_only=True, log=lines.append)
    assert any("test.ref.txt is missing: writing the test split" in line for line in lines)
    assert (committed / TEST_REF_FILE).read_text() == (grid["out"] / TEST_REF_FILE).read_text()
    assert json.loads((committed / "significance.json").read_text()) == sig and sig


def test_a_carried_test_is_dropped_once_one_of_its_runs_is_trained_again(tmp_path):
    """The earlier test described the runs of that time: when `poor` seed 1 is trained again (another score),
    carrying it would pair new scores with an old test, so the pair goes untested (good's translations are lost)."""
    exp, refs = _synthetic_grid(tmp_path, seeds=(1,))
    for run in exp.runs():
        _finish(exp, tmp_path, refs, run)
    write_report(exp, tmp_path)
    shutil.rmtree(tmp_path / "runs")
    shutil.rmtree(tmp_path / ARCHIVE_DIR)
    write_report(exp, tmp_path)
    assert [t.get("carried") for t in json.loads((tmp_path / "significance.json").read_text())] == [True]
    poor = next(run for run in exp.runs() if run.strategy == "poor")
    hyps = _drop(refs, 0.7, 5)  # trained again: other translations, another score
    (tmp_path / poor.dirname).mkdir(parents=True)
    write_lines(tmp_path / poor.dirname / HYPOTHESES_FILE, hyps)
    rec = new_record(exp.name, poor, poor.size, "h")
    rec.update(test_bleu=score(hyps, refs)["bleu"], stop_class="converged", stop_reason="patience=3", steps=6)
    append_result(tmp_path, rec)
    md = write_report(exp, tmp_path).read_text(encoding="utf-8")
    assert json.loads((tmp_path / "significance.json").read_text()) == []
    assert "good beats poor" not in md and "carried from the previous report" not in md


@pytest.mark.parametrize("legacy", [False, True], ids=["test names its runs", "test from before runs were named"])
def test_a_run_trained_again_to_the_same_mean_does_not_inherit_the_old_test(tmp_path, legacy):
    """The study's 1,000-pair TF-IDF runs, trained again with newer code, averaged 14.51 BLEU where the old three
    averaged 14.52: a mean within rounding is no proof of the same runs. A test that names its runs is carried
    only for those runs; an older test without names is not carried once a run it covers was trained again."""
    exp, refs = _synthetic_grid(tmp_path, seeds=(1,))
    for run in exp.runs():
        _finish(exp, tmp_path, refs, run)
    write_report(exp, tmp_path)
    sig = json.loads((tmp_path / "significance.json").read_text())
    assert [len(t["runs_a"]) for t in sig] == [1]
    if legacy:
        (tmp_path / "significance.json").write_text(json.dumps(
            [{k: v for k, v in t.items() if k not in ("runs_a", "runs_b")} for t in sig]))
    shutil.rmtree(tmp_path / "runs")
    shutil.rmtree(tmp_path / ARCHIVE_DIR)  # lost with the machine
    poor = next(run for run in exp.runs() if run.strategy == "poor")
    old = next(r for r in read_results(tmp_path) if r["strategy"] == "poor")
    again = {**old, "finished_at": "2026-12-05T09:05:46+00:00"}  # trained again: the same score, by chance
    append_result(tmp_path, again)
    (tmp_path / poor.dirname).mkdir(parents=True)
    write_lines(tmp_path / poor.dirname / HYPOTHESES_FILE, _drop(refs, 0.7, 5))  # other translations
    md = write_report(exp, tmp_path).read_text(encoding="utf-8")
    assert json.loads((tmp_path / "significance.json").read_text()) == []
    assert "good beats poor" not in md and "carried from the previous report" not in md
