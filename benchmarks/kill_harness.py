"""Kill -9 harness: kill a tiny `vectorseq train` and a tiny `vectorseq compare` at every file write, re-run the
same command to completion, and check that nothing differs from an uninterrupted run and nothing is lost.

How the moments are found (no hook in vectorseq itself)
    The command runs in a child process (``kill_harness.py child ...``, or a fork of a parent that has already
    imported vectorseq, which saves the ~5 s torch import per run) that wraps, before it calls
    :func:`vectorseq.cli.main`, every call that changes the output folder: ``open``/``io.open`` for writing
    (``Path.write_text`` goes through it), ``os.replace``/``os.rename``, ``os.unlink``/``os.rmdir`` (so
    ``shutil.rmtree`` is killed half-way too), ``os.mkdir`` and safetensors' ``save_file``/``save_model``
    (written by Rust, invisible to ``open``). Only paths inside the run's folder count. A first, clean run
    records the list of these events; run ``k`` SIGKILLs itself (``os.kill(getpid(), SIGKILL)``: no cleanup, no
    atexit, unflushed buffers lost) just before event ``k`` executes. A *tear* moment lets a write event start and
    kills the process in the middle of it: half of the first ``write()`` reaches the file (a JSON line cut short),
    or a safetensors file is cut to half its length. Random moments are SIGKILLs sent by the parent after a
    random delay, anywhere in the run (imports, data loading, a training step, a validation ...).

What is checked after each kill + re-run (against the uninterrupted run)
    training: ``model.safetensors`` and ``checkpoints/last/*.safetensors`` are bitwise identical;
    ``metrics.json`` is equal except the timing fields; ``train_log.jsonl`` holds every validation step exactly
    once, in order, each with the same deterministic fields (losses, BLEU, chrF, lr). compare: the latest record
    of every run in ``results.jsonl`` is ``ok`` with the same scores; every run has exactly one ``ok`` record and
    no ``failed`` one; every run folder passes the training checks.

Usage (prints one JSON object)::

    nice -n 10 python benchmarks/kill_harness.py run                     # every write of train and compare
    nice -n 10 python benchmarks/kill_harness.py run --random 10 --limit 20 --only train
    python benchmarks/kill_harness.py child --root DIR --kill-at K [--tear] --trace F -- train CFG -o DIR

Deterministic settings: CPU, one thread, a fixed seed; dropout is on so that the RNG states must be restored.
"""
from __future__ import annotations

import argparse
import builtins
import fnmatch
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import yaml

REPO = Path(__file__).resolve().parents[1]
TIMING_KEYS = {"train_minutes", "tokens_per_s", "elapsed_s", "validation_s", "wall_minutes", "finished_at", "seconds",
               "sentences_per_s"}
LOG_FIELDS = ("step", "epoch", "train_loss", "valid_loss", "valid_ppl", "valid_bleu", "valid_bleu_lc", "valid_chrf",
              "lr")
RESULT_FIELDS = ("status", "test_bleu", "test_chrf", "test_bleu_lc", "valid_loss", "valid_bleu", "steps",
                 "stop_reason", "stop_class", "parameters", "test_sentences", "bleu_signature", "config_hash",
                 "model_dir", "train_pairs")

# ------------------------------------------------------------------------------------------- the scenarios
BASE = {
    "data": {"dataset": "builtin", "tgt_lang": "de", "builtin": {"n_train": 160, "n_val": 12, "n_test": 12,
                                                                 "seed": 1}},
    "vectorizer": {"shared": True, "src": {"standardize": "none", "split": "word", "max_tokens": None}},
    "model": {"type": "transformer", "d_model": 16, "ff_size": 32, "heads": 2, "encoder_layers": 1,
              "decoder_layers": 1, "dropout": 0.1},  # dropout on: the RNG states must survive a kill
    "training": {"batch_tokens": 300, "lr": 0.005, "warmup_steps": 2, "max_steps": 6, "valid_every": 3,
                 "threads": 1, "device": "cpu", "seed": 5},
    "decoding": {"beam_size": 2, "batch_size": 16},
}
EXPERIMENT = {"name": "kill", "base": BASE, "strategies": {"word": {}, "char": {"vectorizer": {"src": {"split": "character"}}}},
              "sizes": ["all"], "seeds": [1], "budget": {"max_steps": 4}}


def _setup_train(work: Path) -> tuple[list[str], Path]:
    cfg = work / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({"name": "tiny", **BASE}))
    return ["train", str(cfg), "-o", str(work / "out"), "--quiet"], work / "out"


def _setup_compare(work: Path) -> tuple[list[str], Path]:
    exp = work / "experiment.yaml"
    exp.write_text(yaml.safe_dump(EXPERIMENT))
    return ["compare", str(exp), "-o", str(work / "out"), "--quiet"], work / "out"


SCENARIOS: dict[str, Callable[[Path], tuple[list[str], Path]]] = {"train": _setup_train, "compare": _setup_compare}


# ------------------------------------------------------------------------------------------- the child: trace, kill
class Tracer:
    """Counts the write events under ``root``; SIGKILLs this process at event ``kill_at`` (1-based; 0: never).

    Dormant (``root`` None) until :meth:`configure`: a forking parent installs it before importing vectorseq
    and each forked child configures its own moment."""

    def __init__(self) -> None:
        self.root: str | None = None
        self.kill_at, self.tear, self.n, self.depth, self.trace = 0, False, 0, 0, None

    def configure(self, root: str, kill_at: int, tear: bool, trace: str | None) -> None:
        self.root, self.kill_at, self.tear, self.n = os.path.realpath(root), kill_at, tear, 0
        self.trace = _REAL_OPEN(trace, "a", buffering=1) if trace else None

    def inside(self, path: Any) -> bool:
        if self.root is None or self.depth:  # dormant, or inside a traced call (save_model calls save_file)
            return False
        try:
            p = os.path.realpath(os.fspath(path))
        except TypeError:  # a file descriptor
            return False
        return p == self.root or p.startswith(self.root + os.sep)

    def event(self, kind: str, path: Any) -> str | None:
        """Count one event; return "tear" when this one is to be torn, kill now when it is the moment."""
        if not self.inside(path):
            return None
        self.n += 1
        if self.trace:
            rel = os.path.relpath(os.path.realpath(os.fspath(path)), self.root)
            self.trace.write(json.dumps({"k": self.n, "kind": kind, "path": rel}) + "\n")
        if self.n == self.kill_at:
            if self.tear and kind in TEARABLE:
                return "tear"
            die()
        return None


_REAL_OPEN = builtins.open
TEARABLE = ("open", "safetensors")
TRACER = Tracer()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _TornFile(io.TextIOBase):
    """A file whose first non-empty write reaches the disk half-way, and then the process dies."""

    def __init__(self, f: Any):
        self._f = f

    def write(self, data: Any) -> int:
        if data:
            self._f.write(data[: max(1, len(data) // 2)])
            self._f.flush()
            os.fsync(self._f.fileno())
            die()
        return 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)

    def __enter__(self) -> "_TornFile":
        return self

    def __exit__(self, *exc: object) -> None:
        die()  # closed without a write (an empty file): dies on close instead

    def close(self) -> None:
        die()


def _path_of(args: tuple, kwargs: dict, arg: int) -> Any:
    """The path a wrapped call acts on; ``shutil.rmtree`` passes a name relative to ``dir_fd``."""
    path = args[arg] if len(args) > arg else kwargs.get("path", kwargs.get("src", kwargs.get("filename")))
    dir_fd = kwargs.get("dir_fd")
    if dir_fd is not None and isinstance(path, (str, bytes, os.PathLike)):
        path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), os.fsdecode(path))
    return path


def install(tracer: Tracer = TRACER) -> None:
    """Wrap every call that changes files (see the module docstring); call it before importing vectorseq."""
    import safetensors.torch as st_torch  # the heavy import is this process's anyway

    if getattr(os.replace, "traced", False):
        return

    def traced_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+") and tracer.event("open", file) == "tear":
            return _TornFile(_REAL_OPEN(file, mode, *args, **kwargs))
        return _REAL_OPEN(file, mode, *args, **kwargs)

    builtins.open = io.open = traced_open  # pathlib's write_text calls io.open

    def wrap(module: Any, name: str, kind: str, arg: int = 0) -> None:
        real = getattr(module, name)

        def traced(*args: Any, **kwargs: Any) -> Any:
            path = _path_of(args, kwargs, arg)
            torn = tracer.event(kind, path) == "tear"
            tracer.depth += 1  # a nested call (save_model -> save_file) is not an event of its own
            try:
                out = real(*args, **kwargs)
            finally:
                tracer.depth -= 1
            if torn:  # a safetensors write cut to half its length
                os.truncate(path, os.path.getsize(path) // 2)
                die()
            return out

        traced.traced = True
        setattr(module, name, traced)

    # shutil.rmtree is left unwrapped: each file and folder it removes is an event, so it is killed half-way too
    for name in ("replace", "rename", "unlink", "remove", "rmdir", "mkdir"):
        wrap(os, name, name)
    wrap(st_torch, "save_file", "safetensors", arg=1)
    wrap(st_torch, "save_model", "safetensors", arg=1)


def child_main(root: str, kill_at: int, tear: bool, trace: str | None, argv: list[str]) -> int:
    """Run ``vectorseq ARGV`` with the tracer installed (vectorseq imported after the wrapping, so every
    ``from safetensors.torch import save_file`` binds the wrapped one)."""
    install()
    TRACER.configure(root, kill_at, tear, trace)
    os.environ.setdefault("MPLBACKEND", "Agg")
    from vectorseq.cli import main  # imported after install(): see the docstring

    return main(argv)


# ------------------------------------------------------------------------------------------- the parent
def run_child(argv: list[str], root: Path, kill_at: int = 0, tear: bool = False, trace: Path | None = None,
              kill_after_s: float | None = None, fork: bool = True, timeout_s: float = 900) -> int:
    """One run of ``vectorseq ARGV`` in a fresh process; its exit status (-9: killed by SIGKILL).

    ``fork``: a fork of this process (which has imported vectorseq with the tracer installed but has run
    nothing: no torch thread pool exists to deadlock); otherwise ``python kill_harness.py child``, a new
    interpreter (what the pytest uses). ``kill_after_s``: SIGKILL from here after that many seconds."""
    err = tempfile.TemporaryFile()
    if fork:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            _forked_child(argv, root, kill_at, tear, trace, err)
        wait = _waiter(pid)
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "child", "--root", str(root), "--kill-at", str(kill_at)]
        cmd += (["--tear"] if tear else []) + (["--trace", str(trace)] if trace else []) + ["--"] + argv
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
        proc = subprocess.Popen(cmd, cwd=str(root.parent), env=env, stdout=subprocess.DEVNULL, stderr=err)
        pid, wait = proc.pid, proc.poll
    deadline = time.time() + (kill_after_s if kill_after_s is not None else timeout_s)
    while (rc := wait()) is None:
        if time.time() >= deadline:
            os.kill(pid, signal.SIGKILL)
            if kill_after_s is None:
                raise RuntimeError(f"vectorseq {' '.join(argv)} ran past {timeout_s} s")
            while (rc := wait()) is None:
                time.sleep(0.01)
            break
        time.sleep(0.02)
    if rc not in (0, -signal.SIGKILL):
        err.seek(0)
        raise RuntimeError(f"vectorseq {' '.join(argv)} exited with {rc}: {err.read().decode()[-3000:]}")
    return rc


def _waiter(pid: int) -> Callable[[], int | None]:
    """``poll()`` for a forked child: None while it runs, then its exit status (negative: killed by a signal)."""
    status: list[int] = []

    def poll() -> int | None:
        if not status:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done == 0:
                return None
            status.append(-os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st))
        return status[0]

    return poll


def _forked_child(argv: list[str], root: Path, kill_at: int, tear: bool, trace: Path | None, err: Any) -> None:
    rc = 1
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(err.fileno(), 2)
        TRACER.configure(str(root), kill_at, tear, str(trace) if trace else None)
        from vectorseq.cli import main  # already imported by the parent, with the tracer installed first

        rc = main(argv)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    except BaseException:  # an exception that main() let through is what the harness reports
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)


def _read_jsonl(path: Path) -> list[dict]:
    out = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append({"broken_line": line[:80]})
    return out


def _untimed(x: Any) -> Any:
    """``x`` without the fields that measure time (they differ between any two runs)."""
    if isinstance(x, dict):
        return {k: _untimed(v) for k, v in x.items() if k not in TIMING_KEYS}
    return x


def model_snapshot(d: Path) -> dict[str, Any]:
    """What must be identical after a kill and a re-run, for one model folder."""
    files = {}
    for rel in ("model.safetensors", "checkpoints/last/model.safetensors", "checkpoints/last/state.safetensors"):
        p = d / rel
        files[rel] = p.read_bytes() if p.is_file() else None
    try:
        metrics = _untimed(json.loads((d / "metrics.json").read_text())) if (d / "metrics.json").is_file() else None
    except ValueError as e:  # a torn metrics.json is a finding, not a harness crash
        metrics = {"unreadable metrics.json": str(e)}
    log = [{k: r.get(k) for k in LOG_FIELDS} if "broken_line" not in r else r for r in _read_jsonl(d / "train_log.jsonl")]
    return {"files": files, "metrics": metrics, "log": log}


def snapshot(scenario: str, out: Path) -> dict[str, Any]:
    if scenario == "train":
        return {"model": model_snapshot(out)}
    records = _read_jsonl(out / "results.jsonl")
    runs = sorted({r["model_dir"] for r in records if "model_dir" in r})
    return {"records": [{k: r.get(k) for k in RESULT_FIELDS} if "broken_line" not in r else r for r in records],
            "runs": {d: model_snapshot(out / d) for d in runs},
            "report": (out / "report.md").is_file()}


def differences(scenario: str, ref: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Every way ``got`` (after kill + re-run) falls short of ``ref`` (the uninterrupted run)."""
    models = {"": (ref["model"], got["model"])} if scenario == "train" else {
        d: (ref["runs"][d], got["runs"].get(d)) for d in ref["runs"]}
    problems = []
    if scenario == "compare":
        ok = [r for r in got["records"] if r.get("status") == "ok"]
        keys = [r["model_dir"] for r in ok]
        if sorted(keys) != sorted(r["model_dir"] for r in ref["records"]):
            problems.append(f"results.jsonl ok records {sorted(keys)} (want one per run)")
        failed = [r for r in got["records"] if r.get("status") not in (None, "ok")]
        if failed:
            problems.append(f"failed records: {failed}")
        latest = {r["model_dir"]: r for r in ok}
        for r in ref["records"]:
            if latest.get(r["model_dir"]) != r:
                problems.append(f"record of {r['model_dir']} differs: {latest.get(r['model_dir'])} vs {r}")
        if not got["report"]:
            problems.append("no report.md")
    for name, (want, have) in models.items():
        if have is None:
            problems.append(f"{name}: model folder missing")
            continue
        for rel, data in want["files"].items():
            if have["files"][rel] != data:
                problems.append(f"{name}/{rel} differs")
        if have["metrics"] != want["metrics"]:
            problems.append(f"{name}/metrics.json differs: {have['metrics']} vs {want['metrics']}")
        if have["log"] != want["log"]:
            problems.append(f"{name}/train_log.jsonl steps {[r.get('step') for r in have['log']]} vs "
                            f"{[r.get('step') for r in want['log']]}" if [r.get('step') for r in have['log']] !=
                            [r.get('step') for r in want['log']] else f"{name}/train_log.jsonl values differ")
    return problems


def reference(scenario: str, base: Path, fork: bool = True) -> tuple[dict[str, Any], list[dict], float]:
    """The uninterrupted run: its snapshot, its write events and its wall time."""
    work = base / f"{scenario}-ref"
    work.mkdir()
    argv, out = SCENARIOS[scenario](work)
    trace = base / f"{scenario}-trace.jsonl"
    t0 = time.time()
    run_child(argv, out, trace=trace, fork=fork)
    wall = time.time() - t0
    return snapshot(scenario, out), _read_jsonl(trace), wall


def one_moment(scenario: str, base: Path, ref: dict[str, Any], name: str, fork: bool = True,
               **kill: Any) -> dict[str, Any]:
    """Kill at one moment, re-run to completion, compare; a dict of what happened."""
    work = base / name
    work.mkdir()
    argv, out = SCENARIOS[scenario](work)
    out.mkdir(exist_ok=True)
    rc = run_child(argv, out, fork=fork, **kill)
    try:
        rerun = run_child(argv, out, fork=fork)  # the same command, to completion
    except RuntimeError as e:  # the re-run failed: that is the finding
        rerun = str(e).splitlines()[0][-300:]
    problems = differences(scenario, ref, snapshot(scenario, out))
    if rerun != 0:
        problems.insert(0, f"re-run failed: {rerun}")
    shutil.rmtree(work, ignore_errors=True)
    return {"moment": name, "killed": rc == -signal.SIGKILL, "problems": problems}


def moments(events: list[dict], n_random: int, wall: float, rng: random.Random) -> list[tuple[str, dict]]:
    """Before every event, torn in every write event, and ``n_random`` random times."""
    out = [(f"before-{e['k']}-{e['kind']}-{e['path']}", {"kill_at": e["k"]}) for e in events]
    out += [(f"tear-{e['k']}-{e['kind']}-{e['path']}", {"kill_at": e["k"], "tear": True})
            for e in events if e["kind"] in ("open", "safetensors")]
    out += [(f"random-{t:.2f}s", {"kill_after_s": t}) for t in sorted(rng.uniform(0.5, wall) for _ in range(n_random))]
    return out


def run_scenario(scenario: str, base: Path, n_random: int, limit: int | None, seed: int, log: Callable,
                 fork: bool = True, pick: list[str] | None = None) -> dict:
    ref, events, wall = reference(scenario, base, fork)
    planned = moments(events, n_random, wall, random.Random(seed))
    if pick:  # only the moments named (e.g. "tear-*-train_log.jsonl"), as the pytest does
        planned = [m for m in planned if any(fnmatch.fnmatch(m[0], p) for p in pick)]
    if limit is not None and len(planned) > limit:  # an even spread over the run, not only its start
        planned = [planned[i * len(planned) // limit] for i in range(limit)]
    results = []
    t0 = time.time()
    for i, (name, kill) in enumerate(planned, 1):
        res = one_moment(scenario, base, ref, f"{scenario}-{i:03d}", fork, **kill)
        res["moment"] = name
        results.append(res)
        log(f"{scenario} {i}/{len(planned)} {name}: {'ok' if not res['problems'] else res['problems']}")
    bad = [r for r in results if r["problems"]]
    kinds: dict[str, int] = {}
    for e in events:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    return {"write_events": len(events), "events_by_kind": kinds, "clean_run_s": round(wall, 1),
            "moments": len(results), "killed": sum(r["killed"] for r in results),
            "finished_before_kill": sum(not r["killed"] for r in results),
            "not_killed": [r["moment"] for r in results if not r["killed"]],  # random times past the run's end
            "before_event": sum(r["moment"].startswith("before") for r in results),
            "torn_write": sum(r["moment"].startswith("tear") for r in results),
            "random_time": sum(r["moment"].startswith("random") for r in results),
            "identical": len(results) - len(bad), "failures": bad, "seconds": round(time.time() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("child")
    c.add_argument("--root", required=True)
    c.add_argument("--kill-at", type=int, default=0)
    c.add_argument("--tear", action="store_true")
    c.add_argument("--trace")
    c.add_argument("args", nargs=argparse.REMAINDER)
    r = sub.add_parser("run")
    r.add_argument("--only", choices=sorted(SCENARIOS))
    r.add_argument("--random", type=int, default=5, help="random-time kills per scenario")
    r.add_argument("--limit", type=int, help="at most this many moments per scenario (spread evenly)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--keep", help="work in this folder (kept) instead of a temporary one")
    r.add_argument("--spawn", action="store_true", help="a new interpreter per run instead of a fork (slower)")
    r.add_argument("--pick", action="append", help="only moments whose name matches this glob (repeatable), "
                                                   "e.g. 'tear-*-train_log.jsonl'")
    a = p.parse_args(argv)
    if a.cmd == "child":
        args = a.args[1:] if a.args[:1] == ["--"] else a.args
        return child_main(a.root, a.kill_at, a.tear, a.trace, args)
    if not a.spawn:  # the tracer first, then vectorseq: every fork starts from this imported, idle process
        install()
        import vectorseq.cli  # noqa: F401
    base = Path(a.keep or tempfile.mkdtemp(prefix="vectorseq-kill-"))
    base.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"python": sys.version.split()[0], "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    for scenario in [a.only] if a.only else list(SCENARIOS):
        report[scenario] = run_scenario(scenario, base, a.random, a.limit, a.seed,
                                        lambda *x: print(*x, file=sys.stderr, flush=True), not a.spawn, a.pick)
    if not a.keep:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(report, indent=1))
    return 0 if all(not report[s]["failures"] for s in SCENARIOS if s in report) else 1


if __name__ == "__main__":
    sys.exit(main())
