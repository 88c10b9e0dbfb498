"""Tests for vectorseq/compare: experiment grids, resuming, failures, the report and the significance test.

One tiny grid (2 strategies + 1 that fails x 2 sizes x 1 seed, d_model 32, 1+1 layers, 6 updates, greedy test
decoding on the built-in corpus) is trained once per module; the other tests reuse its output folder.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from vectorseq.compare import experiment as experiment_mod
from vectorseq.compare import (load_experiment, paired_bootstrap, read_results, run_experiment, summary_table,
                               verdict)
from vectorseq.errors import ConfigError, VectorseqError

BASE = {
    "data": {"dataset": "builtin", "tgt_lang": "de", "builtin": {"n_train": 200, "n_val": 16, "n_test": 24}},
    "vectorizer": {"shared": True, "src": {"standardize": "none", "split": "word", "max_tokens": None}},
    "model": {"type": "transformer", "d_model": 32, "ff_size": 64, "heads": 2, "encoder_layers": 1,
              "decoder_layers": 1, "dropout": 0.0},
    "training": {"batch_tokens": 300, "lr": 0.005, "warmup_steps": 3, "valid_every": 3, "threads": 1,
                 "device": "cpu", "log_every": 1},
    "decoding": {"beam_size": 1},
}


def experiment(**kw) -> dict:
    exp = {"name": "tiny", "base": BASE,
           "strategies": {"word": {}, "char": {"vectorizer": {"src": {"split": "character"}}},
                          "broken": {"model": {"dropout": 0.2}}},
           "sizes": [60, "all"], "seeds": [1], "budget": {"max_steps": 6}}
    exp.update(kw)
    return exp


class TrainSpy:
    """Wraps vectorseq.training.train: counts calls, keeps each run's training pairs, fails the `broken` runs."""

    def __init__(self):
        self.calls: list[str] = []
        self.train_src: dict[str, tuple] = {}
        self.real = experiment_mod.train

    def __call__(self, cfg, output_dir, **kw):
        self.calls.append(cfg.name)
        self.train_src[cfg.name] = tuple(kw["splits"]["train"].src)
        if cfg.name.startswith("broken-"):
            raise RuntimeError("simulated failure inside training")
        return self.real(cfg, output_dir, **kw)


def quiet(*a, **k):
    pass


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "tiny"
    spy = TrainSpy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment_mod, "train", spy)
        returned = run_experiment(experiment(), output_dir=out, progress=False, log=quiet)
    return {"out": out, "returned": returned, "spy": spy}


def ok_records(out: Path) -> list[dict]:
    return [r for r in read_results(out) if r["status"] == "ok"]


# ------------------------------------------------------------------------------------------ the grid
def test_grid_runs_end_to_end(grid):
    out, spy = grid["out"], grid["spy"]
    assert grid["returned"] == out / "report.md"
    records = read_results(out)
    assert len(records) == 6
    assert {(r["strategy"], str(r["size"])) for r in records} == {
        (s, n) for s in ("word", "char", "broken") for n in ("60", "all")}
    ok = ok_records(out)
    assert len(ok) == 4
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
    for stem in ("learning_curve", "training_curves"):
        for ext in ("png", "svg"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 1000
    # self-contained HTML: figures embedded, nothing fetched from elsewhere
    assert html.count("data:image/png;base64,") == 2
    assert 'src="figures/' not in html and "<link" not in html and "http" not in html.split("<body>")[1]
    # side-by-side samples: the same test sentences with every finished strategy's output
    src = (out / "test.src.txt").read_text(encoding="utf-8").split("\n")
    assert src[0] in md and "| **word** |" in md and "| **char** |" in md
    sig = json.loads((out / "significance.json").read_text())
    assert {(s["name_a"], s["name_b"]) in {("word", "char"), ("char", "word")} for s in sig} == {True}
    assert len(sig) == 2 and all(s["verdict"] in md for s in sig)


def test_summary_table(grid):
    table = summary_table(grid["out"])
    lines = table.splitlines()
    assert lines[0].startswith("| strategy | pairs | BLEU")
    assert len(lines) == 2 + 6
    assert any(line.startswith("| char | all (200) |") for line in lines)
    assert "0/1 (failed)" in table
    assert summary_table(read_results(grid["out"])) == table
    assert summary_table(grid["returned"]) == table  # the report.md path run_experiment returns
    assert summary_table([]) == "(no comparison results yet)"


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


def test_report_only_without_results_is_a_clear_error(tmp_path):
    with pytest.raises(VectorseqError, match="no results yet"):
        run_experiment(experiment(), output_dir=tmp_path / "empty", report_only=True, log=quiet)


# ------------------------------------------------------------------------------------------ validation
def test_unknown_top_level_key_suggests_the_right_one():
    exp = experiment()
    exp["strategy"] = exp.pop("strategies")
    with pytest.raises(ConfigError, match="unknown key 'strategy'; did you mean 'strategies'"):
        load_experiment(exp)
    with pytest.raises(ConfigError, match="budget: unknown key 'max_step'; did you mean 'max_steps'"):
        load_experiment(experiment(budget={"max_step": 5}))


def test_strategy_with_an_invalid_config_is_named():
    with pytest.raises(ConfigError, match=r"strategy 'rnnn' makes an invalid config: model.type: 'cnn'"):
        load_experiment(experiment(strategies={"ok": {}, "rnnn": {"model": {"type": "cnn"}}}))
    with pytest.raises(ConfigError, match=r"strategy 'typo'.*unknown config key 'vectoriser'.*'vectorizer'"):
        load_experiment(experiment(strategies={"typo": {"vectoriser": {}}}))
    with pytest.raises(ConfigError, match=r"strategy 'more_data' sets `data`"):
        load_experiment(experiment(strategies={"more_data": {"data": {"max_length": 5}}}))
    with pytest.raises(ConfigError, match=r"strategy 'longer' sets training.max_steps.*budget"):
        load_experiment(experiment(strategies={"longer": {"training": {"max_steps": 100}}}))


def test_sizes_seeds_and_budget_are_checked():
    with pytest.raises(ConfigError, match="sizes: -3 is not valid"):
        load_experiment(experiment(sizes=[-3]))
    with pytest.raises(ConfigError, match="seeds: .* duplicates"):
        load_experiment(experiment(seeds=[1, 1]))
    with pytest.raises(ConfigError, match="budget.max_steps: 0.5 is not valid"):
        load_experiment(experiment(budget={"max_steps": 0.5}))
    with pytest.raises(ConfigError, match="no budget; set e.g. `budget: {max_steps: 2000}`"):
        load_experiment(experiment(budget=None))
    bad_base = {**BASE, "model": {**BASE["model"], "heads": 3}}
    with pytest.raises(ConfigError, match=r"the base config is invalid: model.d_model \(32\) must be divisible by "
                                          r"model.heads \(3\) \(strategy 'word' inherits it\)"):
        load_experiment(experiment(base=bad_base))
    exp = load_experiment(experiment(sizes=["all", 10], seeds=3))
    assert exp.sizes == [10, None] and exp.seeds == [3]
    assert [r.dirname for r in exp.runs()][:2] == ["runs/word/n10_s3", "runs/char/n10_s3"]
    # the budget replaces the base's stopping keys for every run
    cfg = load_experiment(experiment(base={**BASE, "training": {**BASE["training"], "max_minutes": 9}})) \
        .run_config("char", 10, 3)
    assert (cfg.training.max_steps, cfg.training.max_minutes, cfg.training.seed) == (6, None, 3)


def test_size_larger_than_the_data_stops_before_training(tmp_path, monkeypatch):
    monkeypatch.setattr(experiment_mod, "train", lambda *a, **k: pytest.fail("trained despite a bad size"))
    with pytest.raises(ConfigError, match=r"sizes: 5000 is larger than the training data \(200 pairs\)"):
        run_experiment(experiment(sizes=[5000]), output_dir=tmp_path / "x", log=quiet)


def test_base_config_file_is_relative_to_the_experiment(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "base.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({
        "base_config": "conf/base.yaml", "base": {"model": {"d_model": 16}},
        "strategies": {"a": None, "b": {"model": {"heads": 4}}}, "sizes": [None], "budget": {"max_epochs": 1}}))
    exp = load_experiment(tmp_path / "exp.yaml")
    assert exp.name == "exp" and exp.output_dir == Path("runs/compare/exp")
    cfg = exp.run_config("b", None, 42)
    assert (cfg.model.d_model, cfg.model.heads, cfg.training.max_epochs, cfg.data.subset) == (16, 4, 1, None)
    (tmp_path / "bad.yaml").write_text("base_config: nowhere.yaml\nstrategies: {a: {}}\n")
    with pytest.raises(ConfigError, match="nowhere.yaml: base_config not found"):
        load_experiment(tmp_path / "bad.yaml")


def test_shipped_experiments_are_valid():
    root = Path(__file__).resolve().parents[1] / "configs"
    builtin = load_experiment(root / "compare_builtin.yaml")
    assert set(builtin.strategies) == {"word", "subword", "character"} and builtin.budget
    m30k = load_experiment(root / "compare_multi30k.yaml")
    assert m30k.sizes == [1000, 3000, 10000, 29000] and m30k.budget
    assert m30k.run_config("glove_partial", 1000, 1).embeddings.src.policy == "partial"
    assert m30k.run_config("bag_of_words", 1000, 1).embeddings.src.input == "bag"


# ------------------------------------------------------------------------------------------ significance
def _corpus(n: int = 200, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = "the a cat dog sat ran on under mat house red big small quickly today".split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(5, 12))) for _ in range(n)]


def test_identical_systems_are_not_significantly_different():
    refs = _corpus()
    rng = random.Random(1)
    hyps = [" ".join(w for w in r.split() if rng.random() > 0.3) for r in refs]
    res = paired_bootstrap(hyps, list(hyps), refs, name_a="A", name_b="B")
    assert res.delta == 0 and res.p_value == 1.0 and not res.significant()
    assert verdict(res, "at 3,000 pairs") == "no significant difference between A and B at 3,000 pairs (p = 1.00)"


def test_clearly_better_system_is_significantly_better():
    refs = _corpus()
    rng = random.Random(2)
    good = [" ".join(w for w in r.split() if rng.random() > 0.1) for r in refs]
    bad = [" ".join(w for w in r.split() if rng.random() > 0.5) for r in refs]
    res = paired_bootstrap(bad, good, refs, name_a="learned", name_b="glove_finetune", n_samples=1000, seed=7)
    assert res.delta < 0 and res.p_value < 0.05 and res.ci_high < 0
    text = verdict(res, "at 3,000 pairs")
    assert text.startswith(f"glove_finetune beats learned by {abs(res.delta):.1f} BLEU at 3,000 pairs (p <")
    # seeded: the same answer every time
    assert paired_bootstrap(bad, good, refs, n_samples=1000, seed=7).p_value == res.p_value


def test_small_differences_on_noisy_outputs_are_not_significant():
    refs = _corpus(300, seed=3)
    rng = random.Random(4)
    a = [" ".join(w for w in r.split() if rng.random() > 0.4) for r in refs]
    b = list(a)
    b[0], b[1] = refs[0], ""  # one sentence better, one worse
    res = paired_bootstrap(a, b, refs)
    assert res.p_value > 0.05 and verdict(res).startswith("no significant difference between A and B (p =")
