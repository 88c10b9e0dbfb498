"""torchrun/DDP with gloo on CPU (vectorseq/training/distributed.py): two processes train, rank 0 writes a
model folder that loads in one process, the first updates match a one-process run with the same global batch,
a run resumes with another number of processes, and a killed rank fails the whole job instead of hanging."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from _ddp import TOLERANCE, assert_same_parameters, largest_difference, last_weights, train_cli, two_processes_and_one

from vectorseq.config import merge
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
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}  # a signal prints the Python stacks
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "vectorseq", "train", str(cfg), "--output", str(out), "--quiet"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.slow
def test_two_processes_train_and_match_one_process(tmp_path):
    printed = train_cli(CFG, tmp_path / "ddp", nproc=2)
    # one summary, rank 0's, printed in full although the workers end without finalization (exit_worker)
    assert printed.count('"model_dir"') == 1 and json.loads(printed[printed.index("\n{") + 1:])["world_size"] == 2
    log = [json.loads(line) for line in (tmp_path / "ddp/train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [3, 6]
    assert log[-1]["valid_loss"] < log[0]["valid_loss"], "validation loss did not fall"
    metrics = json.loads((tmp_path / "ddp/metrics.json").read_text())
    assert metrics["world_size"] == 2
    # the folder written by rank 0 loads in a single process and translates
    tr = Translator.load(tmp_path / "ddp")
    assert len(tr.translate(["two thousand and forty-one", "the second"], beam=1)) == 2
    # one process, the same global batch (2 batches per update, accumulated): the same parameters, within the
    # README's 1e-5, with the README's optimizer (AdamW, clipping)
    train_cli(CFG, tmp_path / "one", accumulate=2)
    assert_same_parameters(last_weights(tmp_path / "ddp"), last_weights(tmp_path / "one"))


@pytest.mark.slow
def test_gradients_are_averaged_over_ranks_and_accumulated_batches(tmp_path):
    """With plain SGD and no clipping an update is lr x gradient, so equal parameters mean equal gradients:
    ranks summed instead of averaged, or accumulated batches not divided by `accumulate`, would double them."""
    sgd = merge(CFG, {"training": {"lr": 0.5, "clip_norm": None, "label_smoothing": 0.0}})
    ddp, one = two_processes_and_one(sgd, tmp_path, sgd=True)
    assert_same_parameters(ddp, one)
    # the check can see a doubled gradient: here, a doubled learning rate
    train_cli(merge(sgd, {"training": {"lr": 1.0}}), tmp_path / "twice", sgd=True, accumulate=2)
    assert largest_difference(ddp, last_weights(tmp_path / "twice")) > 100 * TOLERANCE


@pytest.mark.slow
def test_a_two_process_run_resumes_in_one_process_at_the_same_place(tmp_path):
    # 2 processes x accumulate 1 for 3 updates, then 1 process x accumulate 2: the same batches per update as
    # an uninterrupted 1-process x accumulate 2 run (the checkpoint counts batches of all ranks)
    train_cli(CFG, tmp_path / "mixed", nproc=2, max_steps=3)
    train_cli(CFG, tmp_path / "mixed", accumulate=2)
    train_cli(CFG, tmp_path / "one", accumulate=2)
    log = [json.loads(line) for line in (tmp_path / "mixed/train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [3, 6]
    ref = [json.loads(line) for line in (tmp_path / "one/train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in ref] == [3, 6]
    for got, want in zip(log, ref):  # the losses of the same updates on the same batches
        for key in ("train_loss", "valid_loss"):
            assert abs(got[key] - want[key]) <= 1e-3, (key, got, want)
    assert_same_parameters(last_weights(tmp_path / "mixed"), last_weights(tmp_path / "one"))


@pytest.mark.slow
def test_two_processes_stream_the_files_and_resume_mid_run(tmp_path):
    """data.streaming with two processes (each reads its share of every window; the files are .gz): a run
    stopped at update 3 and started again reaches the uninterrupted run's weights and logs each validation once."""
    import gzip

    from vectorseq.data.synthetic import builtin_splits

    s = builtin_splits(n_train=600, n_val=20, n_test=20, seed=2)
    for name, split in (("train", s["train"]), ("valid", s["val"])):
        for lang, lines in (("en", split.src), ("de", split.tgt)):
            with gzip.open(tmp_path / f"{name}.{lang}.gz", "wt", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
    files = {side: {"src": str(tmp_path / f"{side}.en.gz"), "tgt": str(tmp_path / f"{side}.de.gz")}
             for side in ("train", "valid")}
    cfg = merge(CFG, {"data": {"dataset": "files", "streaming": True, "window": 200, **files}})
    logs = _stopped_and_resumed(cfg, tmp_path)
    for got, want in zip(logs["part"], logs["full"]):
        assert (got["train_loss"], got["valid_loss"]) == (want["train_loss"], want["valid_loss"])
    assert json.loads((tmp_path / "part/metrics.json").read_text())["world_size"] == 2


def _stopped_and_resumed(cfg: dict, tmp_path: Path) -> dict[str, list[dict]]:
    """Two processes train ``cfg`` into full/ without a stop and into part/ stopped at update 3 and started
    again; both logs validate at 3 and 6 and end with the same weights. Returns both logs."""
    cfg["data"].pop("builtin", None)
    train_cli(cfg, tmp_path / "full", nproc=2)
    train_cli(cfg, tmp_path / "part", nproc=2, max_steps=3)
    train_cli(cfg, tmp_path / "part", nproc=2)
    logs = {k: [json.loads(line) for line in (tmp_path / k / "train_log.jsonl").read_text().splitlines()]
            for k in ("full", "part")}
    assert [r["step"] for r in logs["part"]] == [r["step"] for r in logs["full"]] == [3, 6]
    assert_same_parameters(last_weights(tmp_path / "part"), last_weights(tmp_path / "full"))
    return logs


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


def _wait_for(condition, what: str, timeout: float = 120.0) -> None:
    """Poll ``condition`` until it holds (a test waits for an event, never for a guessed number of seconds)."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").is_file() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_killed_rank_fails_the_whole_job(tmp_path):
    """kill -9 of rank 1 mid-training: torchrun names rank 1's SIGKILL, stops rank 0 well before the collective
    timeout, exits non-zero, and leaves a complete checkpoint and a free folder from which training resumes."""
    out = tmp_path / "killed"
    p = _torchrun(2, _write(tmp_path, max_steps=100000, valid_every=2), out, start_new_session=True)
    try:
        # a validation record exists only after both ranks have run updates together (DDP all-reduces)
        _wait_for(lambda: (out / "train_log.jsonl").is_file() and (out / "train_log.jsonl").read_text(), "update 2")
        pids = _worker_pids(str(out))
        assert set(pids) == {0, 1}, pids
        os.kill(pids[1], signal.SIGKILL)
        t0 = time.time()
        _, err = p.communicate(timeout=90)
        assert p.returncode != 0
        assert time.time() - t0 < 60  # dist_timeout_s is 60: torchrun stopped rank 0 itself, no timeout waited
        assert re.search(rf"rank\s*: 1 \(local_rank: 1\)\s+exitcode\s*: -9 \(pid: {pids[1]}\)\s+\(SIGKILL\)", err), \
            err[-3000:]
        assert not _alive(pids[0]), "rank 0 outlived the job"
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    # nothing half-written: the last checkpoint is whole, the lock went with the processes, training resumes
    done = json.loads((out / "checkpoints/last/state.json").read_text())["meta"]["step"]
    assert done >= 2 and done % 2 == 0
    train_cli(CFG, out, max_steps=done + 2, valid_every=2)
    steps = [json.loads(line)["step"] for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert steps == list(range(2, done + 3, 2))  # every validation once, none lost, none repeated


@pytest.mark.slow
def test_two_processes_stream_several_directions_and_resume_mid_run(tmp_path):
    """data.streaming with data.directions on two processes: each rank mixes its shards of both directions'
    files by temperature; a run stopped at update 3 and started again reaches the uninterrupted run's weights."""
    from vectorseq.data.synthetic import multilingual_splits

    columns = multilingual_splits(["de", "en", "fr"], 400, 20, 20, seed=2)
    for split, theirs in (("train", "train"), ("valid", "val")):
        for tgt in ("de", "fr"):
            for lang in ("en", tgt):
                (tmp_path / f"{split}.en-{tgt}.{lang}").write_text("\n".join(columns[theirs][lang]) + "\n",
                                                                    encoding="utf-8")
    files = {split: {"src": str(tmp_path / f"{split}.{{src}}-{{tgt}}.{{src}}"),
                     "tgt": str(tmp_path / f"{split}.{{src}}-{{tgt}}.{{tgt}}")} for split in ("train", "valid")}
    cfg = merge(CFG, {"data": {"dataset": "files", "streaming": True, "window": 200, "directions": ["en-de", "en-fr"],
                               "sampling_temperature": 5.0, **files}, "vectorizer": {"per_language": True}})
    logs = _stopped_and_resumed(cfg, tmp_path)
    assert set(logs["full"][-1]["valid_by_direction"]) == {"en-de", "en-fr"}


def test_the_process_group_vectorseq_joins_is_left_at_exit_and_a_callers_is_not(tmp_path, monkeypatch):
    """Without destroy_process_group a gloo rank can die with SIGABRT at exit after a finished training ("terminate
    called without an active exception": seen once in CI, under load). setup_distributed registers leave_group
    at exit for the group it joins, and only for that one: a group the caller joined is the caller's."""
    from vectorseq.training import distributed

    registered = []
    monkeypatch.setattr(distributed, "_joined", False)
    monkeypatch.setattr(distributed.atexit, "register", registered.append)
    monkeypatch.setenv("WORLD_SIZE", "2")  # as under torchrun
    store = torch.distributed.FileStore(str(tmp_path / "store"), 1)
    # joining: a one-process group stands in for torchrun's (which would wait for a second rank)
    monkeypatch.setattr(torch.distributed, "init_process_group",
                        lambda backend, timeout: torch.distributed.distributed_c10d.init_process_group(
                            backend, store=store, rank=0, world_size=1, timeout=timeout))
    try:
        assert not distributed.joined_group()
        distributed.setup_distributed(torch.device("cpu"))
        assert registered == [distributed.leave_group] and torch.distributed.is_initialized()
        assert distributed.joined_group()  # so the CLI may end this worker (exit_worker)
        distributed.setup_distributed(torch.device("cpu"))  # the group exists now: joined as is, nothing registered
        assert registered == [distributed.leave_group]
        distributed.leave_group()
        assert not torch.distributed.is_initialized() and not distributed.joined_group()
        distributed.leave_group()  # twice is harmless
        # a caller's group: setup_distributed finds it, and the CLI would not end the caller's process
        monkeypatch.setattr(distributed, "_joined", False)
        torch.distributed.distributed_c10d.init_process_group("gloo", store=torch.distributed.FileStore(
            str(tmp_path / "store2"), 1), rank=0, world_size=1)
        distributed.setup_distributed(torch.device("cpu"))
        assert torch.distributed.is_initialized() and not distributed.joined_group()
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def test_exit_worker_leaves_the_group_keeps_what_was_printed_and_skips_finalization(tmp_path):
    """A finished torchrun worker ends without interpreter finalization (where a gloo rank's SIGABRT happens):
    its printed output still arrives in full through a pipe (block-buffered), its status is the one given, and
    exit handlers do not run (the proof that finalization was skipped), the group's leave_group aside."""
    script = tmp_path / "worker.py"
    script.write_text("""
import atexit, os, torch
from vectorseq.training import distributed
os.environ["WORLD_SIZE"] = "2"
store = torch.distributed.FileStore(os.environ["STORE"], 1)
real = torch.distributed.init_process_group
torch.distributed.init_process_group = lambda backend, timeout: real(backend, store=store, rank=0, world_size=1)
atexit.register(lambda: print("finalized"))
distributed.setup_distributed(torch.device("cpu"))
print("summary " * 2000)  # more than fits a line buffer: flushed by exit_worker or lost
distributed.exit_worker(3)
""")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "STORE": str(tmp_path / "store"),
                            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]),
                                                           os.environ.get("PYTHONPATH", "")])})
    assert r.returncode == 3, r.stderr[-2000:]
    assert r.stdout == "summary " * 2000 + "\n"  # all of it, and no "finalized"
