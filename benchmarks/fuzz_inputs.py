"""Coverage-guided fuzzing (atheris, libFuzzer for Python) of everything a user or a downloaded file can feed
vectorseq: the vectorizer, the pretrained-vectors readers, the config loader and the model-folder loader.

Each target runs in its own process (libFuzzer owns its process and ends it with ``exit()``), instrumented for
coverage of ``vectorseq`` only, for at most ``--runs`` inputs or ``--seconds`` seconds. An input may succeed or
raise a one-line :class:`vectorseq.errors.VectorseqError`; anything else is a *crash* (a multi-line
VectorseqError and a call running past ``--hang-s`` count as crashes too). Crashes are counted and grouped by
exception type and the vectorseq line that raised, and fuzzing goes on (libFuzzer alone would stop at the first).

Usage (prints one JSON object: inputs tried, outcomes and crashes per target)::

    pip install atheris          # a wheel for CPython 3.11 on Linux x86-64
    nice -n 10 python benchmarks/fuzz_inputs.py --seconds 60                  # every target, a minute each
    nice -n 10 python benchmarks/fuzz_inputs.py --target vectors --runs 20000

The hypothesis tests (tests/test_fuzz_*.py) generate structured hostile inputs in CI; this script mutates bytes
under coverage guidance for as long as one cares to run it. The targets read their input the same way:
``data[0]`` (and ``data[1]``) choose the variant, the rest is the payload, so a seed is a valid file behind a
selector byte.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
TARGETS = ("vectorizer", "vectors", "config", "modelfolder")


class Hang(Exception):
    pass


# ------------------------------------------------------------------------------------------- targets (child)
def _vectorizer_target(data: bytes, work: Path) -> None:
    from vectorseq.vectorizer import TextVectorizer

    splits = ["word", "whitespace", "character", "byte", "word", "sentencepiece"]
    stds = ["none", "lower", "strip_punctuation", "lower_and_strip_punctuation", "nfkc", "nfkc_lower"]
    split, std = splits[data[0] % len(splits)] if data else "word", stds[data[1] % len(stds)] if len(data) > 1 else "none"
    text = data[2:].decode("utf-8", errors="replace")  # any Unicode, surrogate-free (as text read from a file)
    texts = text.split("\x1e") if "\x1e" in text else [text]  # a record separator makes several texts
    if len(data) > 3 and data[3] % 7 == 0:  # sometimes one huge token
        texts.append(texts[0][:4] * 5000)
    kwargs = {"max_tokens": 8 + data[2] % 60} if split == "sentencepiece" and len(data) > 2 else {}
    v = TextVectorizer(split=split, standardize=std, **kwargs).adapt(texts)
    for t in texts:
        ids = v.encode(t, add_eos=True)
        v.decode(ids)
        v.decode_tokens(v.tokenize(t))
    v.decode(list(data[:16]))
    v.encode_batch(texts, add_bos=True)


VOCAB = ["<pad>", "<unk>", "<s>", "</s>", "the", "cat", "3", "é", "dog"]
_VECTOR_NAMES = ["v.txt", "v.vec", "v.bin", "v.npy", "v.gz"]
_VECTOR_FORMATS = ["auto", "auto", "auto", "glove", "word2vec", "word2vec-binary", "npy"]


def _vectors_target(data: bytes, work: Path) -> None:
    from vectorseq.embeddings.matrix import build_matrix

    sel = data[0] if data else 0
    path = work / _VECTOR_NAMES[sel % len(_VECTOR_NAMES)]
    path.write_bytes(data[1:])
    (work / "v.vocab").write_text("the\ncat\n3\né\n", encoding="utf-8")
    build_matrix(path, VOCAB, cache_dir=False, format=_VECTOR_FORMATS[(sel >> 3) % len(_VECTOR_FORMATS)],
                 on_error="skip" if sel & 0x80 else "raise")


def _config_target(data: bytes, work: Path) -> None:
    from vectorseq.config import load_config

    doc, *sets = data.split(b"\x00\x00")
    path = work / "config.yaml"
    path.write_bytes(doc)
    cfg = load_config(path, [s.decode("utf-8", errors="replace") for s in sets[:4]])
    cfg.save(work / "again.yaml")
    load_config(work / "again.yaml")


_FOLDER: dict[str, Path] = {}
_FOLDER_FILES = ["config.yaml", "model.safetensors", "vectorizer_src/vectorizer.json",
                 "vectorizer_src/sentencepiece.model", "vectorizer_tgt/vectorizer.json"]


def _modelfolder_target(data: bytes, work: Path) -> None:
    from vectorseq import Translator

    d = work / "model"
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(_FOLDER["model"], d, ignore=shutil.ignore_patterns("checkpoints"))
    if len(data) >= 2:
        path = d / _FOLDER_FILES[data[0] % len(_FOLDER_FILES)]
        raw, payload = path.read_bytes(), data[2:]
        how = data[1] % 4
        if how == 0:  # the payload replaces the file
            path.write_bytes(payload)
        elif how == 1:  # cut at a position the payload gives
            path.write_bytes(raw[: int.from_bytes(payload[:3].ljust(3, b"\0"), "little") % (len(raw) + 1)])
        elif how == 2:  # the payload overwrites bytes at a position
            at = int.from_bytes(payload[:3].ljust(3, b"\0"), "little") % (len(raw) + 1)
            path.write_bytes(raw[:at] + payload[3:] + raw[at + len(payload[3:]):])
        else:  # the payload is appended
            path.write_bytes(raw + payload)
    Translator.load(d).translate(["four", "", "two thousand and forty-one"], beam=2)


TARGET_FUNCS: dict[str, Callable[[bytes, Path], None]] = {
    "vectorizer": _vectorizer_target, "vectors": _vectors_target, "config": _config_target,
    "modelfolder": _modelfolder_target}


def _seeds(target: str, folder: Path) -> list[bytes]:
    """Valid inputs behind their selector bytes: where coverage-guided mutation starts."""
    if target == "vectorizer":
        return [b"\x00\x00Hello, world!\x1ezweitausend und vier", b"\x05\x03\x30two thousand and forty-one"]
    if target == "vectors":
        import io

        import numpy as np

        glove = b"the 0.1 0.2 0.3\ncat 1.5 -2.0 3.25\n3 4.0 4.5 5.0\n"
        w2v_bin = b"2 3\nthe " + np.ones(3, "<f4").tobytes() + b"\ncat " + np.arange(3, dtype="<f4").tobytes() + b"\n"
        buf = io.BytesIO()
        np.save(buf, np.ones((4, 3), "<f4"))
        return [b"\x00" + glove, b"\x01" + b"3 3\n" + glove, b"\x02" + w2v_bin, b"\x03" + buf.getvalue()]
    if target == "config":
        return [(REPO / "configs/demo.yaml").read_bytes() + b"\x00\x00training.max_steps=5",
                b"model:\n  d_model: 32\n  heads: 4\n\x00\x00training.lr=1e-4"]
    return [bytes([i, j]) + b"\x00\x00\x01" for i in range(len(_FOLDER_FILES)) for j in range(4)]


def _crash_key(exc: BaseException) -> str:
    """Exception type and the innermost vectorseq frame: one key per distinct defect."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/vectorseq/" in f.filename]
    where = f"{Path(frames[-1].filename).relative_to(REPO)}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} at {where}"


def child(target: str, runs: int, seconds: float, hang_s: float, stats_path: Path, folder: Path | None) -> None:
    import atheris

    with atheris.instrument_imports(include=["vectorseq"]):
        import vectorseq.cli  # noqa: F401  (everything the targets reach, instrumented for coverage)
        from vectorseq.errors import VectorseqError
    if folder is not None:
        _FOLDER["model"] = folder
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    stats: dict[str, Any] = {"inputs": 0, "ok": 0, "clean_errors": 0, "crashes": 0, "crash_kinds": {}}
    t0, fn = time.time(), TARGET_FUNCS[target]

    def fire(signum: int, frame: Any) -> None:
        raise Hang(f"an input ran past {hang_s} s")

    signal.signal(signal.SIGALRM, fire)

    def finish() -> None:
        stats["seconds"] = round(time.time() - t0, 1)
        stats_path.write_text(json.dumps(stats))
        shutil.rmtree(work, ignore_errors=True)
        os._exit(0)  # libFuzzer would otherwise go on; its own exit() skips Python's cleanup anyway

    def one_input(data: bytes) -> None:
        stats["inputs"] += 1
        signal.setitimer(signal.ITIMER_REAL, hang_s)
        try:
            fn(data, work)
            stats["ok"] += 1
        except VectorseqError as e:
            if "\n" in str(e):
                _record(stats, f"multi-line {type(e).__name__}", e)
            else:
                stats["clean_errors"] += 1
        except (Exception, Hang) as e:  # noqa: BLE001 - every other exception is what we are looking for
            _record(stats, _crash_key(e), e)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if stats["inputs"] >= runs or time.time() - t0 >= seconds:
            finish()

    seed_dir = work / "seeds"
    seed_dir.mkdir()
    for i, s in enumerate(_seeds(target, folder)):
        (seed_dir / f"seed{i}").write_bytes(s)
    # libFuzzer writes slow-unit-* / crash-* files into the working folder unless told otherwise
    atheris.Setup([sys.argv[0], "-timeout=0", "-rss_limit_mb=4096", "-max_len=4096", f"-artifact_prefix={work}/",
                   str(seed_dir)], one_input)
    atheris.Fuzz()
    finish()


def _record(stats: dict[str, Any], key: str, e: BaseException) -> None:
    stats["crashes"] += 1
    kind = stats["crash_kinds"].setdefault(key, {"count": 0, "example": repr(e)[:300]})
    kind["count"] += 1


# ------------------------------------------------------------------------------------------- parent
def _tiny_folder(work: Path) -> Path:
    """A real tiny trained model folder (SentencePiece source, word target), for the modelfolder target."""
    sys.path.insert(0, str(REPO / "tests"))
    from _tiny_training import quiet, tiny_config  # the tests' tiny config: one source of truth

    from vectorseq.training import train

    out = work / "model"
    cfg = tiny_config(vectorizer={"shared": False, "src": {"split": "sentencepiece", "max_tokens": 120},
                                  "tgt": {"split": "word", "standardize": "none", "max_tokens": None}},
                      model={"share_embeddings": False}, training={"max_steps": 3, "valid_every": 3})
    train(cfg, out, progress=False, evaluate_test=False, log=quiet)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", choices=TARGETS, action="append", help="default: all")
    p.add_argument("--runs", type=int, default=10**9, help="inputs per target")
    p.add_argument("--seconds", type=float, default=60, help="time per target")
    p.add_argument("--hang-s", type=float, default=20, help="one input running longer is a crash")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--stats", help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        child(a.child, a.runs, a.seconds, a.hang_s, Path(a.stats), Path(a.folder) if a.folder else None)
        return 0
    work = Path(tempfile.mkdtemp(prefix="vectorseq-fuzz-"))
    report: dict[str, Any] = {"python": sys.version.split()[0], "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                              "runs_limit": a.runs, "seconds_limit": a.seconds, "targets": {}}
    folder = _tiny_folder(work) if "modelfolder" in (a.target or TARGETS) else None
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
    for target in a.target or TARGETS:
        stats = work / f"{target}.json"
        cmd = [sys.executable, __file__, "--child", target, "--runs", str(a.runs), "--seconds", str(a.seconds),
               "--hang-s", str(a.hang_s), "--stats", str(stats)] + (["--folder", str(folder)] if folder else [])
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if stats.is_file():
            report["targets"][target] = json.loads(stats.read_text())
        else:  # the child died (a crash of the interpreter itself, or libFuzzer's own limits)
            report["targets"][target] = {"died": done.returncode, "stderr_tail": done.stderr[-2000:]}
    shutil.rmtree(work, ignore_errors=True)
    report["total_inputs"] = sum(t.get("inputs", 0) for t in report["targets"].values())
    report["total_crashes"] = sum(t.get("crashes", 0) for t in report["targets"].values())
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0 if report["total_crashes"] == 0 and all("died" not in t for t in report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
