"""On a CUDA GPU (skipped elsewhere): training, saving and decoding give what they give on the CPU.

The project is developed and tested on CPUs; these checks run where a GPU is lent (`pytest tests/test_cuda.py`).
Without dropout the two devices train the same model from the same initial weights (they are drawn on the CPU
and moved), so the losses after a dozen updates differ only by float rounding (the CPU path uses the block-wise
loss of training/fused_loss.py, the GPU PyTorch's fused cross-entropy; cuBLAS sums in another order).
"""
from __future__ import annotations

import json

import pytest
import torch
from _tiny_training import quiet, tiny_config

from vectorseq.compare import read_results, run_experiment
from vectorseq.data.splits import load_splits
from vectorseq.training import train
from vectorseq.translator import Translator

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _trained(tmp_path, device: str):
    cfg = tiny_config(model={"dropout": 0.0}, training={"device": device})
    out = tmp_path / device
    train(cfg, out, progress=False, log=quiet)
    history = [json.loads(line) for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()]
    return out, history, load_splits(cfg.data)["test"]


def test_training_on_cuda_matches_the_cpu(tmp_path):
    _, cpu, _ = _trained(tmp_path, "cpu")
    _, gpu, _ = _trained(tmp_path, "cuda")
    assert [h["step"] for h in gpu] == [h["step"] for h in cpu] == [6, 12]
    for a, b in zip(cpu, gpu):
        assert b["valid_loss"] == pytest.approx(a["valid_loss"], rel=2e-3), (a, b)
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=2e-3), (a, b)


def test_a_model_trained_on_cuda_decodes_alike_on_both_devices(tmp_path):
    out, _, test = _trained(tmp_path, "cuda")
    on_cpu = Translator.load(out, device="cpu")
    on_gpu = Translator.load(out, device="cuda")
    for beam in (1, 4):
        a = on_cpu.translate(list(test.src), beam=beam)
        b = on_gpu.translate(list(test.src), beam=beam)
        # an undertrained model has near-ties; float rounding may flip one of 30, never more
        assert sum(x != y for x, y in zip(a, b)) <= 1, list(zip(a, b))


def test_compare_records_the_gpu_it_trained_on(tmp_path):
    exp = {"base": tiny_config(training={"device": "auto"}).to_dict(), "strategies": {"word": {}},
           "sizes": ["all"], "seeds": [1], "budget": {"max_steps": 6}}
    run_experiment(exp, output_dir=tmp_path / "grid", progress=False, log=quiet)
    (record,) = read_results(tmp_path / "grid")
    assert record["status"] == "ok", record["error"]
    assert record["device"] == f"cuda ({torch.cuda.get_device_name(0)})"
