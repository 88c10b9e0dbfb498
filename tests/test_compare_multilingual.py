"""A comparison grid with multilingual strategies: each such run is scored on every direction (zero-shot ones
marked), the report puts them side by side, and a run scored before that existed is re-scored, not retrained."""
from __future__ import annotations

import json

import pytest
from _compare_grid import BASE, TrainSpy, quiet

from vectorseq.compare import experiment as experiment_mod
from vectorseq.compare import read_results, run_experiment

EXPERIMENT = {"name": "multi", "base": BASE, "sizes": [60], "seeds": [1], "budget": {"max_steps": 4},
              "strategies": {"bilingual": {},
                             "multi": {"data": {"directions": ["en-de", "en-fr"], "zero_shot": ["de-fr"]}},
                             "multi_per_language": {"data": {"directions": ["en-de", "en-fr"]},
                                                    "vectorizer": {"per_language": True, "shared": False}}}}


@pytest.fixture(scope="module")
def multi_grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare_multi") / "multi"
    run_experiment(EXPERIMENT, output_dir=out, progress=False, log=quiet)
    return out


def test_multilingual_runs_are_scored_on_every_direction(multi_grid):
    records = {r["strategy"]: r for r in read_results(multi_grid)}
    assert all(r["status"] == "ok" for r in records.values()), [r.get("error") for r in records.values()]
    assert "test_by_direction" not in records["bilingual"]
    by = records["multi"]["test_by_direction"]
    assert set(by) == {"en-de", "en-fr", "de-fr"} and by["de-fr"]["zero_shot"] and not by["en-fr"].get("zero_shot")
    assert by["en-de"]["bleu"] == records["multi"]["test_bleu"]  # the base direction: the same test split
    assert set(records["multi_per_language"]["test_by_direction"]) == {"en-de", "en-fr"}
    report = (multi_grid / "report.md").read_text(encoding="utf-8")
    section = report.split("## Scores by direction")[1].split("\n## ")[0]
    assert "| strategy | pairs | en-de | en-fr | de-fr |" in section
    row = next(line for line in section.splitlines() if line.startswith("| multi |"))
    assert f"{by['en-fr']['bleu']:.2f}" in row and "(zs)" in row


def test_a_multilingual_run_scored_before_by_direction_is_rescored_not_retrained(multi_grid, tmp_path):
    import shutil
    out = tmp_path / "multi"
    shutil.copytree(multi_grid, out)
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    old = [json.loads(line) for line in lines]
    for r in old:
        r.pop("test_by_direction", None)  # as an older vectorseq recorded it
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old), encoding="utf-8")
    spy = TrainSpy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment_mod, "train", spy)
        run_experiment(EXPERIMENT, output_dir=out, progress=False, log=quiet)
    assert spy.calls == []
    latest = {r["strategy"]: r for r in read_results(out)}
    assert set(latest["multi"]["test_by_direction"]) == {"en-de", "en-fr", "de-fr"}
    assert len(read_results(out)) == 3 + 2  # the two multilingual runs appended once more; the bilingual one not
