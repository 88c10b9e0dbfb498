"""The training state and its checkpoint: resume equals an uninterrupted run, bit for bit."""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from _tiny_training import quiet, tiny_config
from safetensors.torch import load_file

import vectorseq.training.validation as validation
from vectorseq.errors import VectorseqError
from vectorseq.training import TrainState, train
from vectorseq.training.run import lock_folder
from vectorseq.translator import Translator


def _weights(d: Path) -> dict[str, torch.Tensor]:
    return load_file(str(d / "checkpoints/last/model.safetensors"))


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_resume_continues_with_identical_losses(tmp_path, norm):
    model = {"model": {"norm": norm}}
    full = train(tiny_config(**model), tmp_path / "full", progress=False, evaluate_test=False, log=quiet)
    part = tmp_path / "part"
    first = train(tiny_config(training={"max_steps": 6}, **model), part, progress=False, evaluate_test=False,
                  log=quiet)
    assert first.steps == 6
    resumed = train(tiny_config(**model), part, progress=False, evaluate_test=False, log=quiet)
    assert resumed.steps == 12
    losses_full = [(h["step"], h["train_loss"], h["valid_loss"]) for h in full.history]
    losses_resumed = [(h["step"], h["train_loss"], h["valid_loss"]) for h in resumed.history]
    assert losses_full == losses_resumed
    wf, wr = _weights(tmp_path / "full"), _weights(part)
    assert wf.keys() == wr.keys()
    for k in wf:
        assert torch.equal(wf[k], wr[k]), k
    # the layout is part of the saved model: config.yaml says it, the weights fit it, translation runs
    tr = Translator.load(part)
    assert tr.config.model.norm == norm and tr.model.norm == norm
    assert ("enc_norm.weight" in wf) == (norm == "pre")
    out = tr.translate(["twenty-one", "three hundred and five"], beam=2)
    assert len(out) == 2 and all(isinstance(x, str) for x in out)


def test_checkpoint_meta_keeps_the_format_of_vectorseq_0_1(tmp_path):
    # the 8 keys (and their order) of the state dict that checkpoints/last/state.json held before TrainState
    assert list(asdict(TrainState())) == ["step", "epoch", "batches_in_epoch", "best", "bad_validations",
                                          "plateau_factor", "elapsed_s", "unfrozen"]
    train(tiny_config(training={"max_steps": 6}), tmp_path / "m", progress=False, evaluate_test=False, log=quiet)
    meta = json.loads((tmp_path / "m/checkpoints/last/state.json").read_text())["meta"]
    assert list(meta) == list(asdict(TrainState()))
    assert meta["step"] == 6 and meta["best"]["step"] == 6


def test_save_and_load_restore_counters_optimizer_and_rng(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    state = TrainState(step=7, epoch=1, batches_in_epoch=4, best={"step": 6, "valid_loss": 1.5}, plateau_factor=0.5)
    state.save(tmp_path / "last", model, opt)
    expected = torch.rand(3)
    model2 = torch.nn.Linear(3, 2)
    opt2 = torch.optim.AdamW(model2.parameters(), lr=0.1)
    loaded = TrainState.load(tmp_path / "last", model2, opt2)
    assert loaded == state
    assert torch.equal(torch.rand(3), expected)  # the torch RNG continues where it was saved
    assert torch.equal(model2.weight, model.weight)
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


def test_place_in_the_epoch_is_counted_in_batches_of_all_ranks():
    s = TrainState()
    s.finish_update(0, per_update=4)  # e.g. 2 processes x accumulate 2
    s.finish_update(1, per_update=4)
    assert (s.step, s.batches_in_epoch) == (2, 8)
    assert s.first_update(per_update=4) == 2
    assert s.first_update(per_update=2) == 4  # resumed with 1 process x accumulate 2: same place
    assert s.first_update(per_update=3) == 3  # a partial update is not repeated
    s.next_epoch()
    assert (s.epoch, s.batches_in_epoch, s.first_update(4)) == (1, 0, 0)


def test_a_finished_run_started_again_trains_no_further(tmp_path):
    """Re-running a finished training (or one killed after its last checkpoint, before metrics.json) must not
    train past max_steps or change the best model; a larger budget resumes."""
    out = tmp_path / "m"
    first = train(tiny_config(training={"max_steps": 6}), out, progress=False, evaluate_test=False, log=quiet)
    weights = (out / "model.safetensors").read_bytes()
    said: list[str] = []
    again = train(tiny_config(training={"max_steps": 6}), out, progress=False, evaluate_test=False,
                  log=lambda *a, **k: said.append(" ".join(map(str, a))))
    assert again.steps == first.steps == 6
    assert (out / "model.safetensors").read_bytes() == weights
    assert any("already stopped (max_steps=6) at update 6" in s for s in said)
    assert len(again.history) == len(first.history)  # no validation logged twice
    more = train(tiny_config(training={"max_steps": 9}), out, progress=False, evaluate_test=False, log=quiet)
    assert more.steps == 9


def test_a_kill_between_the_checkpoint_renames_resumes_from_the_newest_complete_checkpoint(tmp_path):
    """Killed after `last` -> `last.old` and before `last.tmp` -> `last`: nothing is lost, the log stays."""
    full = train(tiny_config(), tmp_path / "full", progress=False, evaluate_test=False, log=quiet)
    out = tmp_path / "m"
    train(tiny_config(training={"max_steps": 6}), out, progress=False, evaluate_test=False, log=quiet)
    ckpt = out / "checkpoints"
    shutil.copytree(ckpt / "last", ckpt / "last.old")  # as save_training_state leaves them mid-swap
    (ckpt / "last").rename(ckpt / "last.tmp")
    log_before = (out / "train_log.jsonl").read_text()
    resumed = train(tiny_config(), out, progress=False, evaluate_test=False, log=quiet)
    assert resumed.steps == 12 and (out / "train_log.jsonl").read_text().startswith(log_before)
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in full.history]


def test_a_fresh_start_keeps_the_old_log_aside(tmp_path):
    out = tmp_path / "m"
    train(tiny_config(training={"max_steps": 6}), out, progress=False, evaluate_test=False, log=quiet)
    old_log = (out / "train_log.jsonl").read_text()
    shutil.rmtree(out / "checkpoints")
    train(tiny_config(training={"max_steps": 3, "valid_every": 3}), out, progress=False, evaluate_test=False,
          log=quiet)
    assert (out / "train_log.jsonl.old").read_text() == old_log
    assert len((out / "train_log.jsonl").read_text().splitlines()) == 1


def test_a_second_training_into_a_busy_folder_is_refused(tmp_path):
    out = tmp_path / "m"
    out.mkdir()
    holder = lock_folder(out)  # as a running training holds it
    try:
        with pytest.raises(VectorseqError, match="another training is running in this folder"):
            train(tiny_config(training={"max_steps": 3}), out, progress=False, evaluate_test=False, log=quiet)
    finally:
        holder.close()
    assert train(tiny_config(training={"max_steps": 3}), out, progress=False, evaluate_test=False,
                 log=quiet).steps == 3


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_damaged_weights_and_state_are_one_line_errors(tmp_path, damage):
    out = tmp_path / "m"
    train(tiny_config(training={"max_steps": 3}), out, progress=False, evaluate_test=False, log=quiet)
    w = out / "model.safetensors"
    data = w.read_bytes()
    w.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"\x00" * 64}[damage])
    with pytest.raises(VectorseqError, match="model.safetensors: not a readable safetensors weights file"):
        Translator.load(out)
    (out / "checkpoints/last/state.json").write_text("{ broken")
    with pytest.raises(VectorseqError, match="the training state is damaged"):
        train(tiny_config(training={"max_steps": 6}), out, progress=False, evaluate_test=False, log=quiet)


class _Killed(BaseException):
    """A kill -9 stand-in: no `except Exception` in the code under test can swallow it."""


@pytest.mark.parametrize("written", ["nothing", "half a line", "the whole line"])
def test_a_kill_between_the_log_append_and_the_checkpoint_loses_no_record(tmp_path, monkeypatch, written):
    """The record of update 12 is logged before its checkpoint is committed; killed while or after appending it
    (checkpoints/last still at update 6): the re-run logs that record exactly once, as the uninterrupted run."""
    full = train(tiny_config(), tmp_path / "full", progress=False, evaluate_test=False, log=quiet)
    out = tmp_path / "m"
    real = validation.append_jsonl

    def append_then_die(path, records):
        records = list(records)
        if records[0]["step"] == 12:
            assert json.loads((out / "checkpoints/last/state.json").read_text())["meta"]["step"] == 6
            if written == "half a line":
                with open(path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(records[0])[:40])
            elif written == "the whole line":
                real(path, records)
            raise _Killed
        real(path, records)

    monkeypatch.setattr(validation, "append_jsonl", append_then_die)
    with pytest.raises(_Killed):
        train(tiny_config(), out, progress=False, evaluate_test=False, log=quiet)
    monkeypatch.setattr(validation, "append_jsonl", real)
    assert [json.loads(line)["step"] for line in (out / "train_log.jsonl").read_text().splitlines()[:1]] == [6]
    again = train(tiny_config(), out, progress=False, evaluate_test=False, log=quiet)
    assert again.steps == 12
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [6, 12] and log == again.history
    same = ("step", "train_loss", "valid_loss", "valid_bleu", "valid_chrf", "lr")
    assert [[r[k] for k in same] for r in log] == [[r[k] for k in same] for r in full.history]
    # a third start neither loses nor repeats a record
    train(tiny_config(), out, progress=False, evaluate_test=False, log=quiet)
    assert (out / "train_log.jsonl").read_text().splitlines() == [json.dumps(r, ensure_ascii=False) for r in log]


def test_a_damaged_line_inside_the_training_log_is_a_one_line_error(tmp_path):
    out = tmp_path / "m"
    train(tiny_config(training={"max_steps": 6, "valid_every": 3}), out, progress=False, evaluate_test=False,
          log=quiet)
    lines = (out / "train_log.jsonl").read_text().splitlines()
    (out / "train_log.jsonl").write_text("\n".join(["{ broken", *lines[1:]]) + "\n")
    with pytest.raises(VectorseqError, match=r"train_log.jsonl:1: not a JSON record.*delete that line"):
        train(tiny_config(training={"max_steps": 9, "valid_every": 3}), out, progress=False, evaluate_test=False,
              log=quiet)
