"""Tests for vectorseq/compare/experiment.py: running a grid, the same data for every strategy, failures,
resuming and retraining edited strategies (the tiny grid is in _compare_grid.py)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import sacrebleu
import torch
import yaml
from _compare_grid import TrainSpy, experiment, grid, ok_records, quiet  # noqa: F401  (grid is a fixture)

from vectorseq.compare import experiment as experiment_mod
from vectorseq.compare import read_results, run_experiment, write_report
from vectorseq.compare.results import read_hypotheses
from vectorseq.config import config_from_dict
from vectorseq.data.splits import load_splits
from vectorseq.errors import ConfigError, VectorseqError


def test_grid_runs_end_to_end(grid):
    out, spy = grid["out"], grid["spy"]
    assert grid["returned"] == out / "report.md"
    records = read_results(out)
    assert len(records) == 6
    assert {(r["strategy"], str(r["size"])) for r in records} == {
        (s, n) for s in ("word", "char", "broken") for n in ("60", "all")}
    ok = ok_records(out)
    assert len(ok) == 4
    refs = load_splits(config_from_dict({**experiment()["base"], "training": {"max_steps": 1}}).data)["test"].tgt
    for r in ok:
        assert r["train_pairs"] == (60 if r["size"] == 60 else 200)
        for key in ("test_bleu", "test_chrf", "test_bleu_lc", "valid_loss", "train_minutes", "tokens_per_s",
                    "parameters", "steps"):
            assert isinstance(r[key], (int, float)), key
        assert r["steps"] == 6 and r["stop_reason"] == "max_steps=6"
        model_dir = out / r["model_dir"]
        hyps = (model_dir / "hyps.txt").read_text(encoding="utf-8").split("\n")
        assert len(hyps) == 24 + 1  # one line per test sentence, newline-terminated
        metrics = json.loads((model_dir / "metrics.json").read_text())
        assert metrics["test"]["bleu"] == r["test_bleu"]
        # the recorded scores are sacreBLEU's on the written hypotheses against the test references
        assert r["test_bleu"] == round(sacrebleu.corpus_bleu(hyps[:-1], [refs]).score, 2)
        assert r["test_chrf"] == metrics["test"]["chrf"] == round(sacrebleu.corpus_chrf(hyps[:-1], [refs]).score, 2)
        assert r["test_bleu_lc"] == round(sacrebleu.corpus_bleu(hyps[:-1], [refs], lowercase=True).score, 2)
        cfg = yaml.safe_load((model_dir / "config.yaml").read_text())
        assert cfg["training"]["seed"] == 1 and cfg["training"]["max_steps"] == 6
        assert cfg["data"]["subset"] == (60 if r["size"] == 60 else None)
        assert cfg["data"]["subset_mode"] == "random"
    # every strategy saw exactly the same training pairs at the same size and seed
    assert spy.train_src["word-n60-s1"] == spy.train_src["char-n60-s1"] == spy.train_src["broken-n60-s1"]
    assert spy.train_src["word-nall-s1"] == spy.train_src["char-nall-s1"]
    assert len(spy.train_src["word-n60-s1"]) == 60 and len(spy.train_src["word-nall-s1"]) == 200
    assert set(spy.train_src["word-n60-s1"]) <= set(spy.train_src["word-nall-s1"])


def test_failed_run_is_recorded_and_the_others_continue(grid):
    records = read_results(grid["out"])
    failed = [r for r in records if r["status"] == "failed"]
    assert {r["strategy"] for r in failed} == {"broken"} and len(failed) == 2
    for r in failed:
        assert r["error"] == "RuntimeError: simulated failure inside training"
        assert "Traceback" in r["traceback"] and "simulated failure" in r["traceback"]
        assert r["test_bleu"] is None
    # the runs after the first failure still ran
    assert [r["status"] for r in records] == ["ok", "ok", "failed", "ok", "ok", "failed"]


def test_rerun_skips_finished_runs_and_finishes_interrupted_ones(grid):
    out = grid["out"]
    ok = ok_records(out)
    mtimes = {r["model_dir"]: (out / r["model_dir"] / "model.safetensors").stat().st_mtime_ns for r in ok}
    # simulate a run interrupted after training but before its result line: drop the line and its hyps.txt
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    victim = json.loads(lines[0])
    (out / "results.jsonl").write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    (out / victim["model_dir"] / "hyps.txt").unlink()
    spy = TrainSpy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment_mod, "train", spy)
        run_experiment(experiment(), output_dir=out, progress=False, log=quiet)
    # finished runs are not trained again; failed runs are retried; the interrupted one is only re-scored
    assert sorted(spy.calls) == ["broken-n60-s1", "broken-nall-s1"]
    for r in ok:
        assert (out / r["model_dir"] / "model.safetensors").stat().st_mtime_ns == mtimes[r["model_dir"]]
    assert (out / victim["model_dir"] / "hyps.txt").is_file()
    records = read_results(out)
    assert len(records) == 5 + 3
    rescored = [r for r in records if r["model_dir"] == victim["model_dir"]]
    assert len(rescored) == 1 and rescored[0]["test_bleu"] == victim["test_bleu"]


def test_edited_strategy_is_retrained_and_its_old_folder_kept_aside(grid):
    out = grid["out"]
    exp = experiment()
    exp["strategies"]["char"] = {"vectorizer": {"src": {"split": "character"}}, "model": {"dropout": 0.05}}
    spy = TrainSpy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment_mod, "train", spy)
        run_experiment(exp, output_dir=out, progress=False, log=quiet)
    assert sorted(spy.calls) == ["broken-n60-s1", "broken-nall-s1", "char-n60-s1", "char-nall-s1"]
    assert (out / "runs/char/n60_s1.stale/config.yaml").is_file()
    cfg = yaml.safe_load((out / "runs/char/n60_s1/config.yaml").read_text())
    assert cfg["model"]["dropout"] == 0.05


def test_report_only_without_results_is_a_clear_error(tmp_path):
    with pytest.raises(VectorseqError, match="no results yet"):
        run_experiment(experiment(), output_dir=tmp_path / "empty", report_only=True, log=quiet)


def test_size_larger_than_the_data_stops_before_training(tmp_path, monkeypatch):
    monkeypatch.setattr(experiment_mod, "train", lambda *a, **k: pytest.fail("trained despite a bad size"))
    with pytest.raises(ConfigError, match=r"sizes: 5000 is larger than the training data \(200 pairs\)"):
        run_experiment(experiment(sizes=[5000]), output_dir=tmp_path / "x", log=quiet)


def test_a_grid_without_all_whose_budget_is_given_per_size_trains(tmp_path, monkeypatch):
    """Found by the En->Fr study: its budget is given per size only (1,000 / 3,000 / 10,000), and loading the data
    once built a config of the `all` size, which has no budget there."""
    spy = TrainSpy()
    monkeypatch.setattr(experiment_mod, "train", spy)
    exp = experiment(strategies={"word": {}}, sizes=[60], budget={"per_size": {60: {"max_steps": 6}}})
    run_experiment(exp, output_dir=tmp_path / "per_size", progress=False, log=quiet)
    assert spy.calls == ["word-n60-s1"] and len(spy.train_src["word-n60-s1"]) == 60
    assert [r["stop_reason"] for r in ok_records(tmp_path / "per_size")] == ["max_steps=6"]


def test_runs_finished_by_an_older_vectorseq_are_recognised(grid):
    """A newer vectorseq adds config keys (with defaults): runs an older one finished are still the same runs,
    neither retrained nor moved aside."""
    out = grid["out"]
    ok = ok_records(out)
    mtimes = {r["model_dir"]: (out / r["model_dir"] / "model.safetensors").stat().st_mtime_ns for r in ok}
    # as an older version wrote them: a key the config has today is missing, and results carry another hash
    for r in ok:
        path = out / r["model_dir"] / "config.yaml"
        saved = yaml.safe_load(path.read_text(encoding="utf-8"))
        saved["embeddings"]["src"].pop("lr_multiplier")
        path.write_text(yaml.safe_dump(saved), encoding="utf-8")
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    (out / "results.jsonl").write_text("".join(json.dumps({**r, "config_hash": "0ld"}) + "\n" for r in lines))
    spy = TrainSpy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment_mod, "train", spy)
        run_experiment(experiment(), output_dir=out, progress=False, log=quiet)
    assert sorted(spy.calls) == ["broken-n60-s1", "broken-nall-s1"]  # only the failed runs are tried again
    for r in ok:
        assert (out / r["model_dir"] / "model.safetensors").stat().st_mtime_ns == mtimes[r["model_dir"]]
        assert not (out / (r["model_dir"] + ".stale")).exists()


def test_an_interrupted_retraining_is_not_taken_for_finished(grid):
    """An edited strategy is retrained; killed mid-way, its folder holds the new config.yaml beside the old ok
    record (an older hash): the re-run must train it again, not keep the old scores."""
    out = grid["out"]
    exp = experiment()
    exp["strategies"]["char"] = {"vectorizer": {"src": {"split": "character"}}, "model": {"dropout": 0.05}}
    new_cfg = experiment_mod.load_experiment(exp, output_dir=out).run_config("char", 60, 1)
    folder = out / "runs/char/n60_s1"
    (folder / "config.yaml").write_text(yaml.safe_dump(new_cfg.to_dict()), encoding="utf-8")  # as training starts
    (folder / "metrics.json").unlink()  # training had not finished
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    (out / "results.jsonl").write_text("".join(json.dumps({**r, "config_hash": "0ld"}) + "\n" for r in lines))
    spy = TrainSpy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment_mod, "train", spy)
        run_experiment(exp, output_dir=out, progress=False, log=quiet)
    assert "char-n60-s1" in spy.calls


def test_a_part_of_the_grid_trains_only_its_runs(grid):
    """--strategies/--sizes (a grid split between machines): only the chosen runs are trained, the others' records
    are left as they are, and the report still covers them all."""
    out = grid["out"]
    records = read_results(out)
    assert {r["device"] for r in records if r["status"] == "ok"} == {"cpu"}  # where each run trained
    # and with what: this checkout's commit, torch and the thread count (whether a retraining should match exactly)
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True,
                            cwd=Path(experiment_mod.__file__).parent).stdout.strip()
    for r in records:
        if r["status"] == "ok":
            assert r["software"]["torch"] == torch.__version__ and r["software"]["threads"] >= 1
            assert (r["software"]["commit"] or "").removesuffix("+dirty") == commit  # "" / None: not a checkout
    kept = [r for r in records if not (r["strategy"] in ("word", "char") and r["size"] == "all")]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
    spy = TrainSpy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment_mod, "train", spy)
        run_experiment(experiment(), output_dir=out, progress=False, log=quiet, strategies=["w*"], sizes=["all"])
    # word at "all" is re-scored from its folder (training was finished); char at "all" and the failed runs
    # lie outside the part and are not touched
    assert spy.calls == []
    after = read_results(out)
    assert [(r["strategy"], r["size"]) for r in after[len(kept):]] == [("word", "all")]
    assert "char" in (out / "report.md").read_text(encoding="utf-8")


def test_again_retrains_a_finished_part_reproduces_it_and_keeps_the_old_folder(grid):
    """--again --strategies word --sizes 60 --seeds 1: the finished run trains again from scratch (CPU training
    is deterministic for a seed, so it scores the same), its old folder is kept as .before_again, the new record
    is appended and counts; nothing outside the part trains."""
    out = grid["out"]
    before = read_results(out)
    old = next(r for r in before if (r["strategy"], r["size"]) == ("word", 60))
    lines, spy = [], TrainSpy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment_mod, "train", spy)
        run_experiment(experiment(), output_dir=out, progress=False, log=lines.append, strategies=["word"],
                       sizes=["60"], seeds=[1], again=True)
    assert spy.calls == ["word-n60-s1"]
    assert (out / "runs/word/n60_s1.before_again/model.safetensors").is_file()
    assert any(f"word/n60_s1: trained again (--again); before: test BLEU {old['test_bleu']}" in line for line in lines)
    after = read_results(out)
    assert len(after) == len(before) + 1
    new = after[-1]
    assert (new["strategy"], new["size"], new["status"]) == ("word", 60, "ok")
    assert (new["test_bleu"], new["steps"]) == (old["test_bleu"], old["steps"])
    assert read_hypotheses(out, "runs/word/n60_s1") == read_hypotheses(out, "runs/word/n60_s1.before_again")


def test_again_needs_a_part_and_seeds_must_exist(tmp_path, monkeypatch):
    monkeypatch.setattr(experiment_mod, "train", lambda *a, **k: pytest.fail("trained despite a refusal"))
    with pytest.raises(ConfigError, match=r"--again trains finished runs again: name them with --strategies"):
        run_experiment(experiment(), output_dir=tmp_path / "x", log=quiet, again=True)
    with pytest.raises(ConfigError, match=r"--seeds 7 is not one of the experiment's seeds \(1\)"):
        run_experiment(experiment(), output_dir=tmp_path / "x", log=quiet, seeds=[7])
    from vectorseq.cli import main

    assert main(["compare", "x.yaml", "--seeds", "1,two"]) != 0


@pytest.mark.parametrize("kw, message", [
    ({"strategies": ["glove*"]}, r"--strategies 'glove\*' matches none of the experiment's strategies \(word, char"),
    ({"sizes": ["3000"]}, r"--sizes '3000' is not one of the experiment's sizes \(60, all\)"),
])
def test_a_part_that_matches_nothing_is_a_clear_error(tmp_path, monkeypatch, kw, message):
    monkeypatch.setattr(experiment_mod, "train", lambda *a, **k: pytest.fail("trained despite a bad part"))
    with pytest.raises(ConfigError, match=message):
        run_experiment(experiment(), output_dir=tmp_path / "x", log=quiet, **kw)


def test_runs_another_machine_finished_are_merged_and_ours_kept(grid, tmp_path):
    """--merge: a grid split between two machines. The other folder finished `char` at both sizes (one of them
    also finished here) and a run outside the grid; only the run missing here is copied in, with its record."""
    out = grid["out"]
    other = tmp_path / "other"
    shutil.copytree(out, other)
    records = read_results(out)
    here = [r for r in records if not (r["strategy"] == "char" and r["size"] == "all")]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in here), encoding="utf-8")
    shutil.rmtree(out / "runs/char/nall_s1")
    outside = {**next(r for r in records if r["strategy"] == "word"), "seed": 9, "model_dir": "runs/word/n60_s9"}
    with (other / "results.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(outside) + "\n")
    (other / "runs/char/nall_s1/hyps.txt").write_text("marked\n" * 24, encoding="utf-8")
    lines = []
    summary = experiment_mod.merge_from(experiment_mod.load_experiment(experiment(), out), other, lines.append)
    assert summary.added == [("char", "all", 1)]
    assert ("char", "60", 1) in summary.already_here and ("word", "60", 1) in summary.already_here
    assert summary.left_out == ["('word', '60', 9): not a run of tiny's grid"]
    assert lines[0] == "merged 1 runs; 3 already finished here were kept"
    assert (out / "runs/char/nall_s1/hyps.txt").read_text(encoding="utf-8").startswith("marked")
    after = read_results(out)
    assert len(after) == len(here) + 1 and after[-1]["model_dir"] == "runs/char/nall_s1"
    # merging again adds nothing
    assert experiment_mod.merge_from(experiment_mod.load_experiment(experiment(), out), other, quiet).added == []


def test_a_run_the_experiment_cuts_is_not_merged_and_the_reason_says_so(grid, tmp_path):
    out = grid["out"]
    other = tmp_path / "other"
    shutil.copytree(out, other)
    here = [r for r in read_results(out) if r["strategy"] != "char"]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in here), encoding="utf-8")
    exp = experiment_mod.load_experiment(experiment(cut=[{"strategies": ["char"], "sizes": ["all"],
                                                         "reason": "too slow here"}]), out)
    summary = experiment_mod.merge_from(exp, other, quiet)
    assert summary.added == [("char", "60", 1)]
    assert summary.left_out == ["('char', 'all', 1): cut by the experiment (too slow here); delete that `cut:` "
                                "entry to merge it"]


def test_a_folder_without_model_folders_merges_from_its_archive(grid, tmp_path):
    """The other machine sent back its output folder without runs/ (too large): each run's archived
    translations and training log travel instead, and the merged run's tests use them."""
    out = grid["out"]
    other = tmp_path / "other"
    shutil.copytree(out, other)
    shutil.rmtree(other / "runs")
    here = [r for r in read_results(out) if not (r["strategy"] == "char" and r["size"] == "all")]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in here), encoding="utf-8")
    shutil.rmtree(out / "runs/char/nall_s1")
    shutil.rmtree(out / "archive/runs/char/nall_s1")
    exp = experiment_mod.load_experiment(experiment(), out)
    assert experiment_mod.merge_from(exp, other, quiet).added == [("char", "all", 1)]
    assert not (out / "runs/char/nall_s1").exists()
    assert read_hypotheses(out, "runs/char/nall_s1") == read_hypotheses(other, "runs/char/nall_s1")
    assert len(read_hypotheses(out, "runs/char/nall_s1")) == 24
    write_report(exp, out)
    sig = json.loads((out / "significance.json").read_text())
    assert [t["seed_numbers"] for t in sig if t["size"] == "all"] == [[1]]


def test_a_larger_cap_continues_finished_runs_and_equals_training_them_afresh(grid, tmp_path):
    """The budget's max_steps 6 -> 9: the finished word run continues from its checkpoint (its earlier metrics
    kept aside) instead of training again, and scores what a fresh compare with the larger cap scores."""
    out, lines = grid["out"], []
    old = next(r for r in ok_records(out) if (r["strategy"], r["size"]) == ("word", 60))
    longer = experiment(budget={"max_steps": 9})
    run_experiment(longer, output_dir=out, progress=False, log=lines.append, strategies=["word"], sizes=["60"])
    said = "word/n60_s1: continuing from its last checkpoint under the new stopping rule, which has not stopped it yet"
    assert any(said in line for line in lines)
    assert not (out / "runs/word/n60_s1.stale").exists()
    assert json.loads((out / "runs/word/n60_s1/metrics.before.json").read_text())["steps"] == old["steps"] == 6
    continued = read_results(out)[-1]
    run_experiment(longer, output_dir=tmp_path / "fresh", progress=False, log=quiet, strategies=["word"],
                   sizes=["60"])
    fresh = read_results(tmp_path / "fresh")[-1]
    assert (continued["steps"], continued["stop_reason"]) == (fresh["steps"], fresh["stop_reason"]) == (9, "max_steps=9")
    assert (continued["test_bleu"], continued["valid_loss"]) == (fresh["test_bleu"], fresh["valid_loss"])
    assert read_hypotheses(out, "runs/word/n60_s1") == read_hypotheses(tmp_path / "fresh", "runs/word/n60_s1")
    assert yaml.safe_load((out / "runs/word/n60_s1/config.yaml").read_text())["training"]["max_steps"] == 9
    # a second continuation keeps both earlier metrics
    run_experiment(experiment(budget={"max_steps": 12}), output_dir=out, progress=False, log=quiet,
                   strategies=["word"], sizes=["60"])
    assert json.loads((out / "runs/word/n60_s1/metrics.before.2.json").read_text())["steps"] == 9
    assert json.loads((out / "runs/word/n60_s1/metrics.before.json").read_text())["steps"] == 6
    assert read_results(out)[-1]["steps"] == 12


def test_an_epoch_cap_the_run_has_not_reached_continues_it_and_equals_training_afresh(grid, tmp_path):
    """max_steps 6 -> max_epochs only (as the study's 29,000-pair row): the run stopped by the update cap is short
    of the new epoch cap, so it continues; one already past the epoch cap trains afresh."""
    out, lines = grid["out"], []
    folder = out / "runs/word/n60_s1"
    epochs = json.loads((folder / "checkpoints/last/state.json").read_text())["meta"]["epoch"]
    assert epochs >= 2  # 6 updates are several passes over 60 pairs
    by_epochs = experiment(budget={"max_epochs": epochs + 2})
    run_experiment(by_epochs, output_dir=out, progress=False, log=lines.append, strategies=["word"], sizes=["60"])
    assert any("word/n60_s1: continuing from its last checkpoint" in line for line in lines)
    continued = read_results(out)[-1]
    run_experiment(by_epochs, output_dir=tmp_path / "fresh", progress=False, log=quiet, strategies=["word"],
                   sizes=["60"])
    fresh = read_results(tmp_path / "fresh")[-1]
    assert continued["stop_reason"] == fresh["stop_reason"] == f"max_epochs={epochs + 2}"
    assert (continued["steps"], continued["test_bleu"], continued["valid_loss"]) == (
        fresh["steps"], fresh["test_bleu"], fresh["valid_loss"])
    assert continued["steps"] > 6
    run_experiment(experiment(budget={"max_epochs": 1}), output_dir=out, progress=False, log=quiet,
                   strategies=["word"], sizes=["60"])
    assert (out / "runs/word/n60_s1.stale").is_dir()
    assert read_results(out)[-1]["stop_reason"] == "max_epochs=1"


def test_a_smaller_cap_trains_afresh(grid):
    out, lines = grid["out"], []
    run_experiment(experiment(budget={"max_steps": 3}), output_dir=out, progress=False, log=lines.append,
                   strategies=["word"], sizes=["60"])
    assert (out / "runs/word/n60_s1.stale/metrics.json").is_file()
    assert read_results(out)[-1]["steps"] == 3


def test_outside_a_checkout_the_commit_is_unknown(tmp_path):
    """An installed vectorseq (no git checkout around it) records no commit rather than a wrong one."""
    from vectorseq.compare.provenance import code_commit

    assert code_commit(tmp_path) is None


def test_an_interrupted_again_continues_without_training_its_finished_runs_twice(grid):
    """compare --again of word and char, stopped during its second run: started again with the same part, it trains
    only the runs without a result since it began (the interrupted one resumes), keeps the first run's new
    result, and ends its plan; a plain compare meanwhile says an --again waits, and an --again of another part
    is refused while one is unfinished (two passes would mix)."""
    out = grid["out"]
    calls, real = [], experiment_mod.train

    def interrupted(cfg, model_dir, **kw):
        calls.append(cfg.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(cfg, model_dir, **kw)

    part = {"strategies": ["word", "char"], "sizes": ["60"], "again": True}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment_mod, "train", interrupted)
        with pytest.raises(KeyboardInterrupt):
            run_experiment(experiment(), output_dir=out, progress=False, log=quiet, **part)
    first = read_results(out)[-1]
    assert (out / "again.json").is_file() and first["strategy"] == calls[0].split("-")[0]
    lines, spy = [], TrainSpy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment_mod, "train", spy)
        run_experiment(experiment(), output_dir=out, progress=False, log=lines.append, strategies=["word", "char"])
        assert spy.calls == [] and any("an unfinished `compare --again` (2 runs" in line for line in lines)
        with pytest.raises(ConfigError, match="again.json: an earlier `compare --again` of 2 other runs"):
            run_experiment(experiment(), output_dir=out, progress=False, log=quiet, strategies=["word"],
                           sizes=["all"], again=True)
        run_experiment(experiment(), output_dir=out, progress=False, log=lines.append, **part)
    assert spy.calls == [calls[1]]  # the interrupted run only; the first kept its new result
    assert not (out / "again.json").exists()
    latest = {(r["strategy"], r["size"]): r for r in read_results(out)}
    assert latest[(first["strategy"], 60)] == first


def test_a_damaged_again_plan_is_a_clear_error(grid):
    (grid["out"] / "again.json").write_text('{"started_at": "2026-12-05T09:41', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"again.json: not a `compare --again` plan .*delete it"):
        run_experiment(experiment(), output_dir=grid["out"], progress=False, log=quiet, strategies=["word"],
                       again=True)
