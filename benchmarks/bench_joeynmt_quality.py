"""Quality per CPU-minute: vectorseq vs JoeyNMT 2.3.0 trained for the same wall time (issue 16, item 4).

    python3 benchmarks/bench_joeynmt_quality.py --minutes 25 --valid-every 100 [--json-out F]

Same data, vocabulary, model, optimiser and threads as ``bench_joeynmt.py`` (it reuses that script's
preparation and its JoeyNMT config, generated from ``configs/multi30k_transformer_tiny.yaml``):

* Both systems train at the same time, **one thread each, each pinned to its own core**
  (``sched_setaffinity``), so neither sees a quieter machine than the other; the machine runs nothing else.
* Both stop after ``--minutes`` of wall time from their training loop's start (vectorseq
  ``training.max_minutes``; JoeyNMT: ``joey_driver.py train --budget-minutes``), validation included
  for both.
* Both validate every ``--valid-every`` updates on the same first ``--valid-sentences`` (200) dev sentences,
  greedy, sacreBLEU on detokenized text (each validation's seconds are reported: JoeyNMT's greedy search has no
  key/value cache, so its validations cost more of its budget), and keep the best weights by that BLEU (vectorseq
  ``model.safetensors``, JoeyNMT ``best.ckpt``): the BLEU-vs-updates and BLEU-vs-minutes curves come from
  their own logs.
* After both stop, each system decodes test_2016_flickr (1,000 sentences) with its best weights, beam 5,
  batch 32, with its own decoder; sacreBLEU (13a, cased) and lowercased BLEU of both.

Prints one JSON object (machine, load, both curves, updates reached, test BLEU).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_joeynmt as bj  # noqa: E402  (the peer benchmark's preparation, config and decoding helpers)


def pinned(core: int):
    return lambda: os.sched_setaffinity(0, {core})


def start(cmd: list[str], env: dict, log_path: Path, core: int) -> subprocess.Popen:
    f = open(log_path, "w")
    return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=str(bj.ROOT),
                            preexec_fn=pinned(core))


def wait_all(procs: dict[str, tuple[subprocess.Popen, Path]]) -> None:
    for name, (p, log_path) in procs.items():
        if p.wait() != 0:
            raise SystemExit(f"{name} failed ({p.returncode}); see {log_path}:\n"
                             + log_path.read_text(errors="replace")[-3000:])


def write_dev_subset(data, n: int) -> str:
    """The first n dev sentences as JoeyNMT's dev files (vectorseq's valid_max_sentences takes the same n)."""
    for lang in (data.sl, data.tl):
        lines = (data.dir / f"dev.{lang}").read_text(encoding="utf-8").split("\n")[:n]
        (data.dir / f"dev{n}.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(data.dir / f"dev{n}")


def joey_budget_config(cfg, a, data, model_dir: Path) -> dict:
    j = bj.joey_config(cfg, argparse.Namespace(updates=10 ** 6), data, model_dir)
    j["data"].update(dev=write_dev_subset(data, a.valid_sentences), sample_dev_subset=-1)
    j["training"].update(validation_freq=a.valid_every, logging_freq=a.valid_every, early_stopping_metric="bleu",
                         keep_best_ckpts=1)
    j["testing"].update(eval_metrics=["bleu"], sacrebleu_cfg={"tokenize": "13a"})
    return j


def vs_budget_overrides(a, data_dir: Path) -> list[str]:
    return [f"data.data_dir={data_dir}", "training.max_steps=1000000", f"training.valid_every={a.valid_every}",
            f"training.max_minutes={a.minutes}", "training.max_epochs=null", "training.threads=1",
            f"training.valid_max_sentences={a.valid_sentences}", "training.resume=false", "training.device=cpu",
            "training.patience=null", "training.early_stopping_metric=bleu"]


def joey_curve(model_dir: Path, stats: dict) -> list[dict]:
    """JoeyNMT's validations.txt (step, bleu) joined with the driver's elapsed seconds per validation."""
    seen = {v["step"]: v for v in stats.get("validations", [])}
    out = []
    for line in (model_dir / "validations.txt").read_text().splitlines():
        step, b = re.search(r"Steps: (\d+)", line), re.search(r"bleu: *([\d.]+)", line)
        if step and b:
            s = int(step.group(1))
            v = seen.get(s, {})
            out.append({"step": s, "valid_bleu": round(float(b.group(1)), 2), "elapsed_s": v.get("elapsed_s"),
                        "validation_s": v.get("validation_s")})
    return out


def vs_curve(model_dir: Path) -> list[dict]:
    recs = [json.loads(x) for x in (model_dir / "train_log.jsonl").read_text().splitlines() if x.strip()]
    return [{"step": r["step"], "valid_bleu": r["valid_bleu"], "elapsed_s": r["elapsed_s"],
             "validation_s": r.get("validation_s")} for r in recs]


def test_bleu(hyps: list[str], refs: list[str]) -> dict:
    import sacrebleu

    return {"bleu": round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2),
            "bleu_lowercase": round(sacrebleu.corpus_bleu(hyps, [refs], lowercase=True).score, 2),
            "chrf": round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=25.0)
    ap.add_argument("--valid-every", type=int, default=100)
    ap.add_argument("--valid-sentences", type=int, default=200)
    ap.add_argument("--test-sentences", type=int, help="decode only the first N test sentences (smoke runs)")
    ap.add_argument("--data-dir")
    ap.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "vectorseq" / "bench" / "joeynmt"))
    ap.add_argument("--venv", default=str(Path.home() / ".cache" / "vectorseq" / "bench" / "joeynmt-venv"))
    ap.add_argument("--json-out")
    a = ap.parse_args()
    a.test_limit, a.batch1_limit = None, 100  # bench_joeynmt.prepare's keys: the same prepared data folder
    import torch
    import yaml

    from vectorseq.config import load_config

    work = Path(a.cache_dir).expanduser()
    work.mkdir(parents=True, exist_ok=True)
    py = bj.ensure_venv(Path(a.venv).expanduser())
    data_dir = bj.data_dir_arg(a)
    cfg_path = bj.CONFIGS["transformer"]
    cfg = load_config(cfg_path, vs_budget_overrides(a, data_dir))
    data = bj.prepare(a, cfg, data_dir, work)
    env = bj.child_env(1)
    root = work / f"quality-{int(a.minutes)}min"
    vs_dir, joey_dir = root / "vectorseq", root / "joeynmt"
    for d in (vs_dir, joey_dir):
        bj.shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    jcfg = joey_budget_config(cfg, a, data, joey_dir / "model")
    (joey_dir / "joeynmt.yaml").write_text(yaml.safe_dump(jcfg, sort_keys=False))
    machine = {"cpu": bj._cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
               "torch": torch.__version__, "loadavg_start": [round(x, 2) for x in os.getloadavg()],
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    code = ("import sys, json; from vectorseq.config import load_config; from vectorseq.training import train; "
            "cfg = load_config(sys.argv[1], json.loads(sys.argv[3])); "
            "train(cfg, sys.argv[2], progress=False, evaluate_test=False)")
    bj.log(f"training both for {a.minutes} minutes, one core each")
    procs = {
        "vectorseq": (start([sys.executable, "-c", code, str(cfg_path), str(vs_dir / "model"),
                             json.dumps(vs_budget_overrides(a, data_dir))], env, vs_dir / "train.out", 0),
                      vs_dir / "train.out"),
        "joeynmt": (start([str(py), str(bj.DRIVER), "train", str(joey_dir / "joeynmt.yaml"), "--stats",
                           str(joey_dir / "train_stats.json"), "--threads", "1", "--budget-minutes", str(a.minutes)],
                          env, joey_dir / "train.out", 1), joey_dir / "train.out"),
    }
    wait_all(procs)
    machine["loadavg_after_training"] = [round(x, 2) for x in os.getloadavg()]
    jstats = json.loads((joey_dir / "train_stats.json").read_text())
    bj.log("decoding test_2016_flickr with each system's best weights (beam 5, batch 32)")
    vs_hyp, joey_hyp = vs_dir / "test.hyps", joey_dir / "test.hyps"
    test_src, test_ref = data.test_src, data.test_ref
    if a.test_sentences:
        test_src, test_ref = root / f"test.{data.sl}", root / f"test_ref.{data.tl}"
        test_src.write_text("\n".join(bj.read_lines(data.test_src)[: a.test_sentences]) + "\n", encoding="utf-8")
        test_ref.write_text("\n".join(bj.read_lines(data.test_ref)[: a.test_sentences]) + "\n", encoding="utf-8")
    procs = {
        "vectorseq decode": (start([sys.executable, "-m", "vectorseq", "evaluate", str(vs_dir / "model"), "--src",
                                    str(test_src), "--ref", str(test_ref), "--beam", "5", "--batch-size",
                                    "32", "--output", str(vs_hyp)], env, vs_dir / "test.out", 0),
                             vs_dir / "test.out"),
        "joeynmt decode": (start([str(py), str(bj.DRIVER), "decode", str(joey_dir / "joeynmt.yaml"), "--ckpt",
                                  str(joey_dir / "model" / "best.ckpt"), "--src", str(test_src)[:-3],
                                  "--batch-size", "32", "--beam", "5", "--hyps", str(joey_hyp), "--stats",
                                  str(joey_dir / "test.json"), "--threads", "1"], env, joey_dir / "test.out", 1),
                           joey_dir / "test.out"),
    }
    wait_all(procs)
    refs = bj.read_lines(test_ref)
    vs_c, joey_c = vs_curve(vs_dir / "model"), joey_curve(joey_dir / "model", jstats)
    result = {
        "benchmark": "bench_joeynmt_quality", "minutes": a.minutes, "valid_every": a.valid_every,
        "valid_sentences": a.valid_sentences, "machine": machine, "command": " ".join(sys.argv),
        "vectorseq": {"updates": vs_c[-1]["step"] if vs_c else 0, "curve": vs_c,
                      "validation_s_total": round(sum(c["validation_s"] or 0 for c in vs_c), 1),
                      "test_beam5": test_bleu(bj.read_lines(vs_hyp), refs)},
        "joeynmt": {"updates": jstats["updates"], "curve": joey_c,
                    "validation_s_total": round(sum(c["validation_s"] or 0 for c in joey_c), 1),
                    "test_beam5": test_bleu(bj.read_lines(joey_hyp), refs)},
    }
    text = json.dumps(result, indent=1)
    print(text)
    if a.json_out:
        Path(a.json_out).write_text(text + "\n")


if __name__ == "__main__":
    main()
