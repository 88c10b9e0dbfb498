"""Tests for vectorseq/compare/plan.py: the CPU plan of a grid, from the runs already finished."""
from __future__ import annotations

import json

import pytest
from _compare_grid import experiment, grid, ok_records  # noqa: F401  (grid is a fixture)

from vectorseq.cli import main
from vectorseq.compare import load_experiment, plan, plan_text


def test_plan_before_anything_ran_counts_every_run_at_the_cap(tmp_path):
    exp = load_experiment(experiment(seeds=[1, 2], budget={"max_steps": 10}), output_dir=tmp_path / "none")
    rows = plan(exp, seconds_per_update=3.6)
    assert [(p.size, p.runs, p.finished) for p in rows] == [("60", 6, 0), ("all", 6, 0)]
    # 6 runs x 10 updates x 3.6 s = 216 s = 0.06 CPU hours per size
    assert [round(p.left_h, 3) for p in rows] == [0.06, 0.06]
    assert not rows[0].measured_steps and rows[0].budget == {"max_steps": 10}


def test_plan_measures_the_cost_of_an_update_from_finished_runs(grid):
    out = grid["out"]
    # the tiny runs take a second or two (train_minutes rounds to 0): give them known durations
    minutes = {"word": 0.6, "char": 1.2}
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    lines = [{**r, "train_minutes": minutes.get(r["strategy"])} if r["status"] == "ok" else r for r in lines]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    exp = load_experiment(experiment(seeds=[1, 2]), output_dir=out)  # seed 2 is new: 6 runs to do
    done = ok_records(out)
    rows = plan(exp)
    assert [p.finished for p in rows] == [2, 2]  # word and char at both sizes (broken failed)
    assert sum(p.spent_h for p in rows) == pytest.approx(2 * (0.6 + 1.2) / 60)
    # the runs left: their strategy's measured seconds per update (broken: the median of the others) times
    # the mean updates of the runs finished at that size
    steps = {p.size: sum(r["steps"] for r in done if str(r["size"]) == p.size) / 2 for p in rows}
    cost = {s: 60 * m / 6 for s, m in minutes.items()}  # every tiny run trains 6 updates
    cost["broken"] = (cost["word"] + cost["char"]) / 2
    todo = {"word": 1, "char": 1, "broken": 2}  # seed 2 of each; broken failed at seed 1 too
    for p in rows:
        assert p.measured_steps and steps[p.size] == 6
        assert p.left_h == pytest.approx(sum(n * steps[p.size] * cost[s] for s, n in todo.items()) / 3600)


def test_compare_plan_prints_without_training(grid, capsys):
    out = grid["out"]
    path = out.parent / "exp.json"
    path.write_text(json.dumps(experiment()))
    before = (out / "results.jsonl").read_text()
    assert main(["compare", str(path), "--output", str(out), "--plan", "--workers", "2"]) == 0
    text = capsys.readouterr().out
    assert "| 60 | 3 | 0 | 2 | max_steps 6 |" in text and "hours with --workers 2" in text
    assert (out / "results.jsonl").read_text() == before
    assert plan_text(load_experiment(experiment(), output_dir=out)).splitlines()[0].startswith("tiny: 6 runs")


def test_plan_leaves_out_cut_cells_and_gpu_minutes(grid, capsys):
    out = grid["out"]
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    # word ran on a GPU in 0.06 min, char on this CPU in 1.2: only the CPU's minutes measure an update here
    times = {"word": (0.06, "cuda (NVIDIA H200)"), "char": (1.2, "cpu")}
    lines = [{**r, "train_minutes": times[r["strategy"]][0], "device": times[r["strategy"]][1]}
             if r["status"] == "ok" else r for r in lines]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    cut = [{"strategies": ["broken"], "sizes": ["all"], "reason": "it fails anyway"}]
    exp = load_experiment(experiment(seeds=[1, 2], cut=cut), output_dir=out)
    rows = plan(exp)
    assert [(p.runs, p.cut, p.finished, p.other_device_runs) for p in rows] == [(6, 0, 2, 1), (4, 2, 2, 1)]
    assert sum(p.spent_h for p in rows) == pytest.approx(2 * 1.2 / 60)  # the GPU's minutes are not CPU hours
    # every run left costs what char's CPU updates cost (the only CPU measurement), 6 updates each
    left = {"60": 4, "all": 2}  # seed 2 of word, char, broken + broken seed 1 at 60; at all broken is cut
    for p in rows:
        assert p.left_h == pytest.approx(left[p.size] * 6 * 60 * 1.2 / 6 / 3600)
    text = plan_text(exp)
    assert "| all | 4 | 2 | 2 (1 on a GPU) |" in text and "cut: 2 of the 12 cells the experiment states:\n- 2 cells: it fails anyway" in text


def test_plan_counts_only_the_updates_left_of_runs_that_will_continue(grid):
    """max_steps 6 -> 9 is a more patient rule: the finished word and char runs continue from update 6, so
    only 3 updates each are left; the failed runs have no folder and count at the cap."""
    out = grid["out"]
    minutes = {"word": 0.6, "char": 1.2}
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    lines = [{**r, "train_minutes": minutes.get(r["strategy"])} if r["status"] == "ok" else r for r in lines]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    rows = plan(load_experiment(experiment(budget={"max_steps": 9}), output_dir=out))
    cost = {s: 60 * m / 6 for s, m in minutes.items()}
    cost["broken"] = (cost["word"] + cost["char"]) / 2
    for p in rows:
        assert p.finished == 0 and not p.measured_steps
        assert p.left_h == pytest.approx((3 * cost["word"] + 3 * cost["char"] + 9 * cost["broken"]) / 3600)


def test_the_plan_names_the_metric_patience_counts(tmp_path):
    exp = load_experiment(experiment(budget={"max_steps": 10, "patience": 3}), output_dir=tmp_path / "none")
    assert plan(exp)[0].budget == {"max_steps": 10, "patience": "3 (bleu)"}


def test_an_epoch_cap_is_counted_in_updates_at_each_run_s_own_rate(grid):
    """A budget of epochs only (max_steps 6 -> max_epochs E+2): each finished run continues, so the updates left
    are (E+2) x its checkpoint's updates per epoch, less the 6 it has; a run without a finished epoch (char) or
    without a checkpoint (the failed one) counts at the median rate of its size's checkpoints."""
    out = grid["out"]
    meta = {s: json.loads((out / f"runs/{s}/n60_s1/checkpoints/last/state.json").read_text())["meta"]
            for s in ("word", "char")}
    cap = max(m["epoch"] for m in meta.values()) + 2
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    lines = [{**r, "train_minutes": 0.6} if r["status"] == "ok" else r for r in lines]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    row = plan(load_experiment(experiment(budget={"max_epochs": cap}), output_dir=out))[0]
    assert meta["word"]["epoch"] >= 2 and meta["char"]["epoch"] == 0  # char pieces: 6 updates are < 1 epoch
    word_rate = meta["word"]["step"] / meta["word"]["epoch"]
    updates = (cap * word_rate - 6) * 2 + cap * word_rate  # char and broken at the only known rate, word's
    assert row.finished == 0 and row.budget["max_epochs"] == cap
    assert row.left_h == pytest.approx(updates * 6.0 / 3600)  # 0.6 minutes per 6 updates


def test_runs_an_unfinished_again_has_not_retrained_count_as_left(grid):
    """An `--again` of word at both sizes, stopped before it trained anything: the plan counts both as left, not
    finished, and says why; once word at 60 has a result since the plan began, only word at "all" is left."""
    out = grid["out"]
    exp = load_experiment(experiment(), output_dir=out)
    before = {p.size: p.finished for p in plan(exp)}
    (out / "again.json").write_text(json.dumps({"started_at": "2100-01-01T00:00:00+00:00",  # after the grid trained
                                                "runs": [["word", "60", 1], ["word", "all", 1]]}))
    assert {p.size: p.finished for p in plan(exp)} == {s: n - 1 for s, n in before.items()}
    assert "an unfinished `compare --again` (2 of its 2 runs, begun 2100-01-01T00:00:00+00:00" in plan_text(exp)
    word60 = next(r for r in ok_records(out) if (r["strategy"], r["size"]) == ("word", 60))
    with (out / "results.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({**word60, "finished_at": "2100-01-01T00:05:00+00:00"}) + "\n")
    assert {p.size: p.finished for p in plan(exp)} == {"60": before["60"], "all": before["all"] - 1}
    assert "(1 of its 2 runs" in plan_text(exp)
