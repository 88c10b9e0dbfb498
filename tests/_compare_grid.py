"""Shared by the tests of vectorseq/compare: a tiny experiment and its trained output folder.

One tiny grid (2 strategies + 1 that fails x 2 sizes x 1 seed, d_model 32, 1+1 layers, 6 updates, greedy test
decoding on the built-in corpus) is trained once per test session; the ``grid`` fixture gives every test its
own copy of the output folder, so a test that resumes, edits or deletes something there cannot change what
another test sees, whatever the order they run in.
"""
from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from vectorseq.compare import experiment as experiment_mod
from vectorseq.compare import read_results, run_experiment

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


def ok_records(out: Path) -> list[dict]:
    return [r for r in read_results(out) if r["status"] == "ok"]


_TRAINED: dict[str, Any] = {}  # the grid trained once per session (read-only: tests get copies)


def _trained_grid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not _TRAINED:
        out = tmp_path_factory.mktemp("compare") / "tiny"
        spy = TrainSpy()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(experiment_mod, "train", spy)
            returned = run_experiment(experiment(), output_dir=out, progress=False, log=quiet)
        _TRAINED.update(out=out, returned=returned, spy=spy)
    return _TRAINED


@pytest.fixture
def grid(tmp_path_factory, tmp_path) -> dict[str, Any]:
    """This test's own copy of the tiny grid's output folder: ``out``, ``returned`` (what run_experiment
    returned, in the copy) and ``spy`` (the TrainSpy of the first training)."""
    trained = _trained_grid(tmp_path_factory)
    out = tmp_path / "tiny"
    shutil.copytree(trained["out"], out)  # records name model folders relative to the output folder
    return {"out": out, "returned": out / trained["returned"].relative_to(trained["out"]),
            "spy": copy.deepcopy(trained["spy"])}  # a copy too: a test may call or edit it
