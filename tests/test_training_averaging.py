"""Tests for vectorseq/training/averaging.py: kept snapshots, their average, and `vectorseq average`."""
from __future__ import annotations

import json

import pytest
import torch
from _tiny_training import quiet, tiny_config
from safetensors.torch import load_file, save_file

from vectorseq.cli import main
from vectorseq.errors import VectorseqError
from vectorseq.training import train
from vectorseq.training.averaging import average_files, average_folder, snapshot_paths
from vectorseq.training.validation import is_better
from vectorseq.translator import Translator


@pytest.fixture(scope="module")
def averaged_run(tmp_path_factory):
    """A tiny run validated every 4 updates for 20 updates, keeping the last 3 validations' weights."""
    out = tmp_path_factory.mktemp("avg") / "model"
    cfg = tiny_config(training={"max_steps": 20, "valid_every": 4, "average_checkpoints": 3})
    result = train(cfg, out, progress=False, log=quiet)
    return out, result


def test_the_mean_of_weight_files_is_elementwise_and_checks_the_files(tmp_path):
    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor([7])}
    b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor([7])}
    save_file(a, str(tmp_path / "a.safetensors"))
    save_file(b, str(tmp_path / "b.safetensors"))
    mean = average_files([tmp_path / "a.safetensors", tmp_path / "b.safetensors"])
    assert torch.equal(mean["w"], torch.tensor([2.0, 4.0])) and torch.equal(mean["n"], torch.tensor([7]))
    save_file({"w": torch.tensor([1.0, 2.0]), "n": torch.tensor([8])}, str(tmp_path / "c.safetensors"))
    with pytest.raises(VectorseqError, match="integer tensor 'n' differs"):
        average_files([tmp_path / "a.safetensors", tmp_path / "c.safetensors"])
    save_file({"v": torch.tensor([1.0])}, str(tmp_path / "d.safetensors"))
    with pytest.raises(VectorseqError, match="holds other tensors"):
        average_files([tmp_path / "a.safetensors", tmp_path / "d.safetensors"])


def test_training_keeps_the_last_n_validations_and_records_the_average(averaged_run):
    out, result = averaged_run
    kept = snapshot_paths(out)
    assert [p.name for p in kept] == ["step_12.safetensors", "step_16.safetensors", "step_20.safetensors"]
    avg = json.loads((out / "metrics.json").read_text())["averaged"]
    assert avg["steps"] == [12, 16, 20] and avg["checkpoints"] == 3
    # it replaced the best weights exactly when it validated better than the best single checkpoint
    assert avg["used"] == is_better(avg, result.best, "bleu")
    weights = load_file(str(out / "model.safetensors"))
    mean = average_files(kept)
    same = all(torch.equal(weights[k], mean[k]) for k in mean)
    assert same == avg["used"]


def test_average_command_writes_a_folder_that_translates(averaged_run, tmp_path, capsys):
    out, _ = averaged_run
    target = tmp_path / "avg2"
    assert main(["average", str(out), "--last", "2", "-o", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    mean = average_files(snapshot_paths(out)[-2:])
    weights = load_file(str(target / "model.safetensors"))
    assert all(torch.equal(weights[k], mean[k]) for k in mean)
    assert not (target / "checkpoints").exists()
    assert isinstance(Translator.load(target).translate(["twenty one"], beam=1)[0], str)  # loads and runs
    with pytest.raises(VectorseqError, match="exists and is not empty"):
        average_folder(out, target)
    with pytest.raises(VectorseqError, match="no kept checkpoints"):
        average_folder(target, tmp_path / "x")
