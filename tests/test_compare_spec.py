"""Tests for vectorseq/compare/spec.py: the experiment file, validated before anything trains."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _compare_grid import BASE, experiment

from vectorseq.compare import load_experiment
from vectorseq.errors import ConfigError


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


def test_seeds_per_size_gives_the_long_runs_fewer_seeds(tmp_path):
    exp = load_experiment(experiment(sizes=[10, "all"], seeds=[1, 2, 3], seeds_per_size={"all": [1], 10: [2, 4]}))
    assert [(r.label, r.seed) for r in exp.runs() if r.strategy == "word"] == [(10, 2), (10, 4), ("all", 1)]
    assert exp.seeds == [1, 2, 3, 4]  # every seed of the grid, `seeds` first: the order verdicts pair them in
    # the experiment.yaml written into the output folder reads back to the same grid
    again = load_experiment(exp.to_dict())
    assert [r.key for r in again.runs()] == [r.key for r in exp.runs()]
    with pytest.raises(ConfigError, match=r"seeds_per_size: size 99 is not in `sizes`"):
        load_experiment(experiment(seeds_per_size={99: [1]}))
    with pytest.raises(ConfigError, match=r"seeds_per_size.60: .* duplicates"):
        load_experiment(experiment(seeds_per_size={60: [1, 1]}))


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
    # the En->Fr repeat of the study: the same base and budget as En->De, only the target language differs
    de, fr = load_experiment(root / "study_multi30k.yaml"), load_experiment(root / "study_multi30k_fr.yaml")
    assert set(fr.strategies) < set(de.strategies) and fr.budget == {**de.budget, "per_size": {
        n: b for n, b in de.budget["per_size"].items() if n is not None}}
    for s in fr.strategies:
        a, b = de.run_config(s, 3000, 2).to_dict(), fr.run_config(s, 3000, 2).to_dict()
        assert b["data"].pop("tgt_lang") == "fr" and a["data"].pop("tgt_lang") == "de"
        assert a == b, s


def test_budgets_scale_with_the_data_and_the_model_is_set_per_size():
    exp = load_experiment(experiment(
        sizes=[60, 1000, 5000, "all"],
        budget={"max_steps_per_pair": 0.5, "min_steps": 100, "max_steps": 2000, "patience": 4,
                "per_size": {"all": {"max_epochs": 7}}},
        size_overrides={1000: {"model": {"d_model": 64}}, "all": {"model": {"d_model": 48, "heads": 4}}}))

    def stops(size):
        t = exp.run_config("char", size, 1).training
        return t.max_steps, t.max_epochs, t.max_minutes, t.min_steps, t.patience

    # ceil(0.5 x pairs), raised to min_steps, lowered to max_steps; min_steps and patience for every run
    assert stops(60) == (100, None, None, 100, 4)
    assert stops(1000) == (500, None, None, 100, 4)
    assert stops(5000) == (2000, None, None, 100, 4)
    # per_size replaces budget keys at one size; the scaled max_steps needs the size of `all` (known once loaded)
    exp.all_pairs = 3000
    assert stops(None) == (1500, 7, None, 100, 4)
    assert [exp.run_config("word", n, 1).model.d_model for n in (60, 1000, 5000, None)] == [32, 64, 32, 48]
    # the strategy is merged after the size override
    assert exp.run_config("broken", 1000, 1).model.dropout == 0.2
    # experiment.yaml (to_dict) reads back to the same run configs
    again = load_experiment({**exp.to_dict(), "output_dir": None})
    again.all_pairs = 3000
    for n in exp.sizes:
        assert again.run_config("char", n, 1).to_dict() == exp.run_config("char", n, 1).to_dict()


def test_scaled_budgets_and_size_overrides_are_checked():
    with pytest.raises(ConfigError, match=r"budget.max_steps_per_pair: 0.0 is not valid; expected a positive number"):
        load_experiment(experiment(budget={"max_steps_per_pair": 0}))
    with pytest.raises(ConfigError, match=r"budget.min_steps \(50\) is larger than budget.max_steps \(10\)"):
        load_experiment(experiment(budget={"max_steps": 10, "min_steps": 50}))
    with pytest.raises(ConfigError, match=r"budget.per_size: size 3000 is not in `sizes` \(60, all\)"):
        load_experiment(experiment(budget={"max_steps": 6, "per_size": {3000: {"max_steps": 9}}}))
    with pytest.raises(ConfigError, match=r"budget.per_size.60: unknown key 'max_step'; did you mean 'max_steps'"):
        load_experiment(experiment(budget={"max_steps": 6, "per_size": {60: {"max_step": 9}}}))
    with pytest.raises(ConfigError, match=r"size_overrides: 'big' is not a size"):
        load_experiment(experiment(size_overrides={"big": {"model": {"d_model": 64}}}))
    with pytest.raises(ConfigError, match=r"size_overrides '60' sets training.max_steps: .*`budget:`"):
        load_experiment(experiment(size_overrides={60: {"training": {"max_steps": 9}}}))
    with pytest.raises(ConfigError, match=r"strategy 'patient' sets training.patience: .*`budget:`"):
        load_experiment(experiment(strategies={"patient": {"training": {"patience": 3}}}))
    with pytest.raises(ConfigError, match=r"the base config is invalid: model.d_model \(33\) must be divisible by "
                                          r"model.heads \(2\) \(strategy 'word' inherits it\) \(at size all\)"):
        load_experiment(experiment(strategies={"word": {}}, size_overrides={"all": {"model": {"d_model": 33}}}))


def test_a_strategy_may_set_a_direction_set_that_includes_the_test_direction():
    multi = {"data": {"directions": ["en-de", "en-fr"], "sampling_temperature": 5}}
    exp = load_experiment(experiment(strategies={"bilingual": {}, "multi": multi}))
    assert exp.test_direction().name == "en-de"
    assert exp.run_config("multi", None, 1).data.directions == ["en-de", "en-fr"]
    with pytest.raises(ConfigError, match=r"strategy 'fr_only' makes an invalid config: data.directions: it trains en-fr, de-fr but not en-de"):
        load_experiment(experiment(strategies={"fr_only": {"data": {"directions": ["en-fr", "de-fr"]}}}))
    with pytest.raises(ConfigError, match=r"sets `data`.*may set only data.directions"):
        load_experiment(experiment(strategies={"mixed": {"data": {"directions": ["en-de"], "subset": 5}}}))


def test_cut_removes_cells_with_their_reason_and_reads_back(tmp_path):
    cut = [{"strategies": ["ch*"], "sizes": ["all"], "reason": "4x the cost per update"},
           {"strategies": "word", "sizes": [60], "seeds": [2], "reason": "one seed is enough here"}]
    exp = load_experiment(experiment(seeds=[1, 2], cut=cut))
    assert len(exp.stated_runs()) == 12 and len(exp.runs()) == 9
    assert {r.key for r in exp.stated_runs()} - {r.key for r in exp.runs()} == \
        {("char", "all", 1), ("char", "all", 2), ("word", "60", 2)}
    assert exp.cut_reason(exp.stated_runs()[-3]) is None  # word, all, seed 2 (char and broken follow it)
    assert [exp.cut_reason(r) for r in exp.stated_runs() if r.key == ("char", "all", 2)] == ["4x the cost per update"]
    # --strategies picks from the kept cells only
    assert [r.key for r in exp.runs_matching(["char"])] == [("char", "60", 1), ("char", "60", 2)]
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(exp.to_dict(), sort_keys=False))  # as compare writes it
    again = load_experiment(path)
    assert again.runs() == exp.runs() and again.cuts == exp.cuts


@pytest.mark.parametrize("cut, message", [
    ([{"strategies": ["word"]}], r"cut\[0\]: give its `reason:`"),
    ([{"strategies": ["bytes"], "reason": "x"}], r"cut\[0\].strategies: 'bytes' matches none of the experiment's"),
    ([{"sizes": [3000], "reason": "x"}], r"cut\[0\].sizes: size 3000 is not in `sizes`"),
    ([{"seeds": [7], "reason": "x"}], r"cut\[0\].seeds: seed 7 is not one of the grid's seeds"),
    ([{"strategie": ["word"], "reason": "x"}], r"cut\[0\]: unknown key 'strategie'"),
    (["word"], r"cut\[0\]: expected a mapping"),
    ([{"reason": "no CPU left"}], r"every cell of the grid is cut"),
])
def test_a_cut_must_name_cells_of_the_grid_and_say_why(cut, message):
    with pytest.raises(ConfigError, match=message):
        load_experiment(experiment(cut=cut))


def test_a_cut_that_covers_no_cell_is_refused():
    exp = experiment(sizes=[10, "all"], seeds=[1, 2], seeds_per_size={"all": [1]},
                     cut=[{"sizes": ["all"], "seeds": [2], "reason": "x"}])
    with pytest.raises(ConfigError, match=r"cut: the entry with reason 'x' covers no cell of the grid"):
        load_experiment(exp)
