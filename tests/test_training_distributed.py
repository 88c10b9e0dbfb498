"""torchrun/DDP with gloo on CPU (vectorseq/training/distributed.py): two processes train, rank 0 writes a
model folder that loads in one process, the first updates match a one-process run with the same global batch,
a run resumes with another number of processes, and a killed rank fails the whole job instead of hanging."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from vectorseq.translator import Translator

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")

CFG = {
    "name": "ddp",
    "data": {"dataset": "builtin", "builtin": {"n_train": 600, "n_val": 20, "n_test": 20, "seed": 2}},
    "vectorizer": {"shared": True, "src": {"split": "word", "standardize": "none", "max_tokens": None}},
    "model": {"type": "transformer", "d_model": 32, "ff_size": 64, "heads": 2, "encoder_layers": 1,
              "decoder_layers": 1, "dropout": 0.0},
    "training": {"batch_tokens": 300, "lr": 0.003, "warmup_steps": 2, "max_steps": 6, "valid_every": 3,
                 "threads": 1, "seed": 5, "dist_timeout_s": 60},
    "decoding": {"beam_size": 1, "batch_size": 16},
}


def _write(tmp: Path, **training) -> Path:
    cfg = json.loads(json.dumps(CFG))
    cfg["training"].update(training)
    p = tmp / f"cfg_{len(list(tmp.glob('cfg_*')))}.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def _torchrun(nproc: int, cfg: Path, out: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "vectorseq", "train", str(cfg), "--output", str(out), "--quiet"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.slow
def test_two_processes_train_and_match_one_process(tmp_path):
    p = _torchrun(2, _write(tmp_path), tmp_path / "ddp")
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err[-3000:]
    log = [json.loads(line) for line in (tmp_path / "ddp/train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [3, 6]
    assert log[-1]["valid_loss"] < log[0]["valid_loss"], "validation loss did not fall"
    metrics = json.loads((tmp_path / "ddp/metrics.json").read_text())
    assert metrics["world_size"] == 2
    # the folder written by rank 0 loads in a single process and translates
    tr = Translator.load(tmp_path / "ddp")
    assert len(tr.translate(["two thousand and forty-one", "the second"], beam=1)) == 2

    # one process, the same global batch (2 batches per update, accumulated): same parameters
    single = _one_process(_write(tmp_path, accumulate=2), tmp_path / "one")
    assert single.returncode == 0, single.stderr[-3000:]
    a = load_file(str(tmp_path / "ddp/checkpoints/last/model.safetensors"))
    b = load_file(str(tmp_path / "one/checkpoints/last/model.safetensors"))
    for k in a:
        # stated tolerance: 6 updates, float32, gradients summed in a different order
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5, msg=k)


def _one_process(cfg: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vectorseq", "train", str(cfg), "--output", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_two_process_run_resumes_in_one_process_at_the_same_place(tmp_path):
    # 2 processes x accumulate 1 for 3 updates, then 1 process x accumulate 2: the same batches per update as
    # an uninterrupted 1-process x accumulate 2 run (the checkpoint counts batches of all ranks)
    p = _torchrun(2, _write(tmp_path, max_steps=3), tmp_path / "mixed")
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, err[-3000:]
    resumed = _one_process(_write(tmp_path, accumulate=2), tmp_path / "mixed")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    single = _one_process(_write(tmp_path, accumulate=2), tmp_path / "one")
    assert single.returncode == 0, single.stderr[-3000:]
    log = [json.loads(line) for line in (tmp_path / "mixed/train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [3, 6]
    a = load_file(str(tmp_path / "mixed/checkpoints/last/model.safetensors"))
    b = load_file(str(tmp_path / "one/checkpoints/last/model.safetensors"))
    for k in a:
        # stated tolerance: as above (float32, gradients summed in another order for the first 3 updates)
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5, msg=k)


def _worker_pids(marker: str) -> dict[int, int]:
    """LOCAL_RANK -> pid of the torchrun workers whose command line mentions ``marker``."""
    found = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if marker not in cmd or "torch.distributed.run" in cmd:
                continue
            env = dict(kv.split("=", 1) for kv in (d / "environ").read_bytes().decode().split("\0") if "=" in kv)
        except (OSError, ValueError):
            continue
        if "LOCAL_RANK" in env:
            found[int(env["LOCAL_RANK"])] = int(d.name)
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_killed_rank_fails_the_whole_job(tmp_path):
    out = tmp_path / "killed"
    p = _torchrun(2, _write(tmp_path, max_steps=100000, valid_every=100000), out, start_new_session=True)
    try:
        deadline = time.time() + 120
        pids: dict[int, int] = {}
        while time.time() < deadline and not (out / "config.yaml").exists():
            time.sleep(0.5)
        time.sleep(3)  # both ranks are in the training loop
        pids = _worker_pids(str(out))
        assert 1 in pids, f"could not find rank 1 among {pids}"
        os.kill(pids[1], signal.SIGKILL)
        t0 = time.time()
        _, err = p.communicate(timeout=90)
        assert p.returncode != 0
        assert time.time() - t0 < 90
        assert "failed" in err.lower() or "error" in err.lower(), err[-2000:]
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
