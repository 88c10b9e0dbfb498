"""Running an experiment: every strategy x training-set size x seed, everything else held equal.

The experiment file is described in :mod:`vectorseq.compare.spec`, the output folder in
:mod:`vectorseq.compare.results`, the report in :mod:`vectorseq.compare.report`.

Held equal
    The data is loaded once from the base config's ``data`` section. A run of size ``n`` and seed ``s`` trains on
    ``train.subset(n, mode="random", seed=s)``: every strategy sees exactly the same pairs for the same size and
    seed (and the subsets are nested: the 1,000 pairs are inside the 3,000). Its config records
    ``data.subset: n``, ``data.subset_mode: random`` and ``training.seed: s``, so ``vectorseq evaluate`` on the
    model folder reloads the same subset. Strategies may not change ``data``, ``training.seed``, ``name`` or the
    budget keys. The budget replaces the base config's stopping keys: the keys it names are set, the other two of
    ``max_steps``/``max_minutes``/``max_epochs`` are set to null. Without a ``budget`` the base config's own
    stopping keys apply to every run. A budget may scale with the data (``max_steps_per_pair``) or be given per
    size, and ``size_overrides`` may set the model per size (:mod:`vectorseq.compare.spec`). Prefer
    ``max_steps`` or ``max_epochs``: a ``max_minutes`` budget depends on the machine and its load. Every run
    is trained by :func:`vectorseq.training.train` and scored on the test split by
    :func:`vectorseq.evaluation.evaluate`.

Resuming
    Starting the same experiment again skips every run whose latest line in ``results.jsonl`` is ``ok`` for the
    same config (``config_hash``); a run that was interrupted continues from its model folder
    (``checkpoints/last``, see :func:`vectorseq.training.train`), or only re-scores the test split when its
    training had finished. Failed runs are tried again. A model folder whose ``config.yaml`` differs from the
    run's config (the strategy was edited) is moved aside to ``NAME.stale`` and the run starts afresh.

Failures
    Mistakes in the experiment file (unknown keys, a strategy that makes an invalid config, a size larger than
    the data) stop before any training with a :class:`~vectorseq.errors.ConfigError` naming the key or the
    strategy. An exception inside one run (a missing vectors file, out of memory, ...) is recorded as
    ``status: failed`` with its error and the tail of its traceback, and the other runs go on.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import torch
import yaml

from ..config import Config, load_config
from ..data.directions import direction_plan
from ..data.multilingual import load_direction_splits
from ..data.splits import load_splits
from ..errors import ConfigError, VectorseqError
from ..evaluation import evaluate, evaluate_directions
from ..modelfolder import CONFIG_FILE, COVERAGE_FILE, HYPOTHESES_FILE, LAST_CHECKPOINT, METRICS_FILE, write_json
from ..training import stop_class, train
from ..training.extend import only_stopping_differs, relaxes
from ..translator import Translator, resolve_device
from .again import begin_again, end_again, pending_notice, trained_since
from .provenance import software
from .report import SIGNIFICANCE_FILE, write_report
from .results import (RESULTS_FILE, TEST_REF_FILE, TEST_SRC_FILE, append_result, archive_run, latest_results,
                      new_record, read_history, read_results, record_key, summary_table, write_lines)
from .spec import EXPERIMENT_FILE, Experiment, Run, load_experiment
from .merge import MergeSummary, merge_results
from .verdicts import winners
from .workers import run_in_workers


METRICS_BEFORE_FILE = "metrics.before.json"  # a continued run's metrics under its earlier stopping rule


def config_hash(cfg: Config) -> str:
    """Identifies a run's config in results.jsonl: a finished run is skipped only for the same config."""
    return hashlib.sha1(json.dumps(cfg.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def _load_data(exp: Experiment, out: Path) -> dict[str, Any]:
    """The splits every run shares; the test split is also written to the output folder for the report."""
    # the config of a run the grid has (a grid without `all` may give a budget only to its own sizes), with the
    # whole training split: each run's subset is drawn from it below
    cfg0 = exp.run_config(next(iter(exp.strategies)), exp.sizes[0], exp.seeds[0])
    # the base's one direction (a multilingual strategy adds directions of its own, loaded when it trains)
    test_dir = exp.test_direction()
    splits = load_splits(dataclasses.replace(cfg0.data, src_lang=test_dir.src, tgt_lang=test_dir.tgt, directions=None,
                                             zero_shot=[], subset=None), seed=exp.seeds[0])
    test = splits.get("test")
    if test is None or len(test) == 0:
        raise ConfigError(f"{exp.source}: the base config's data has no test split; a comparison scores every run "
                          "on it (set data.test)")
    n_train = len(splits["train"])
    exp.all_pairs = n_train  # a budget scaled with the data needs the size of `all`
    for n in exp.sizes:
        if n is not None and n > n_train:
            raise ConfigError(f"{exp.source}: sizes: {n} is larger than the training data ({n_train} pairs); "
                              f"use at most {n_train}, or `all`")
    write_lines(out / TEST_SRC_FILE, list(test.src))
    write_lines(out / TEST_REF_FILE, list(test.tgt))
    return splits


def _normalised(d: Any) -> Any:
    return json.loads(json.dumps(d))


def _saved_config(model_dir: Path, cfg: Config) -> dict[str, Any] | None:
    """The folder's config.yaml as this version of vectorseq reads it (keys added since get their defaults), with
    what training records into a config (the pretrained vectors' width; a fastText .bin's n-gram settings) taken
    over from ``cfg`` where ``cfg`` leaves them to training; None when there is no readable config."""
    try:
        saved = load_config(model_dir / CONFIG_FILE).to_dict()
    except (VectorseqError, OSError):
        return None
    want = cfg.to_dict()
    for side in ("src", "tgt"):
        s, w = saved["embeddings"][side], want["embeddings"][side]
        if w["vectors"] and s["vectors"] == w["vectors"]:
            for key in ("dim", "ngram_min", "ngram_max", "buckets"):  # filled in from the vectors file
                s[key] = w[key]
    return _normalised(saved)


def _same_config(model_dir: Path, cfg: Config) -> bool:
    """Whether the folder was trained with ``cfg`` (compared as configs, not as text or hashes, so that a newer
    vectorseq with more config keys still recognises runs an older one finished)."""
    return _saved_config(model_dir, cfg) == _normalised(cfg.to_dict())


def is_finished(exp: Experiment, run: Run, record: dict[str, Any] | None) -> bool:
    """Whether ``record`` is an ``ok`` result of ``run`` trained with the config the experiment gives it today."""
    if not record or record.get("status") != "ok":
        return False
    cfg = exp.run_config(run.strategy, run.size, run.seed)
    if direction_plan(cfg.data).tagged and "test_by_direction" not in record:
        return False  # scored before every direction was: score it again (its training is not repeated)
    if record.get("config_hash") == config_hash(cfg):
        return True
    # Recognised by the folder's config (a newer vectorseq hashes configs differently) only while the folder still
    # holds the run the record describes: a retraining with a new config, interrupted, leaves the old record
    # beside a folder with the new config.yaml, and must not be taken for finished.
    folder = exp.output_dir / run.dirname
    return _same_config(folder, cfg) and _describes(folder, record)


def _describes(model_dir: Path, record: dict[str, Any]) -> bool:
    """Whether the folder's metrics.json is the finished training ``record`` was scored from."""
    try:
        metrics = json.loads((model_dir / METRICS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (metrics.get("steps"), metrics.get("train_minutes")) == (record.get("steps"), record.get("train_minutes"))


def _prepare_model_dir(model_dir: Path, cfg: Config, log: Callable) -> None:
    """Continue a run whose config differs only by a stopping rule that would not have stopped it sooner; move a
    folder trained with any other config aside, so that resuming never mixes two configs."""
    if not (model_dir / CONFIG_FILE).is_file() or _same_config(model_dir, cfg):
        return
    if _can_continue(model_dir, cfg):
        kept = _keep_metrics_aside(model_dir)
        log(f"  {model_dir}: continuing from its last checkpoint under the new stopping rule, which has not stopped "
            f"it yet (the same result as training again{f'; the earlier metrics are in {kept}' if kept else ''})")
        return
    stale = model_dir.with_name(model_dir.name + ".stale")
    if stale.exists():
        shutil.rmtree(stale)
    model_dir.rename(stale)
    log(f"  {model_dir}: trained with a different config; moved to {stale.name} and starting afresh")


def _keep_metrics_aside(model_dir: Path) -> str | None:
    """Move metrics.json (the scores under the earlier rule) to the first free metrics.before[.N].json: kept, never
    overwritten by a later continuation; returns its name (None: the run had not finished)."""
    if not (model_dir / METRICS_FILE).is_file():
        return None
    stem, n = METRICS_BEFORE_FILE.removesuffix(".json"), 1
    name = METRICS_BEFORE_FILE
    while (model_dir / name).exists():
        n += 1
        name = f"{stem}.{n}.json"
    os.replace(model_dir / METRICS_FILE, model_dir / name)
    return name


def _can_continue(model_dir: Path, cfg: Config) -> bool:
    """Whether the folder's run can go on under ``cfg``: the same config apart from a stopping rule that stops
    no sooner (:mod:`vectorseq.training.extend`), and a checkpoint to resume from."""
    saved = _saved_config(model_dir, cfg)
    want = _normalised(cfg.to_dict())
    trained = _checkpoint_meta(model_dir)
    return (saved is not None and trained is not None and only_stopping_differs(saved, want)
            and relaxes(SimpleNamespace(**saved["training"]), SimpleNamespace(**want["training"]), trained))


def _checkpoint_meta(model_dir: Path) -> dict[str, Any] | None:
    """The last checkpoint's progress (``step``, ``epoch``, ...) of a run folder; None without a readable one."""
    try:
        meta = json.loads((model_dir / LAST_CHECKPOINT / "state.json").read_text(encoding="utf-8"))["meta"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return meta if isinstance(meta, dict) else None


def steps_done(exp: Experiment, run: Run) -> int:
    """Updates an unfinished run has already trained in a folder that compare will resume or continue (0 for a
    folder it would move aside, or none): ``--plan`` counts only the updates left."""
    folder = exp.output_dir / run.dirname
    meta = _checkpoint_meta(folder)
    if meta is None:
        return 0
    cfg = exp.run_config(run.strategy, run.size, run.seed)
    if not (_same_config(folder, cfg) or _can_continue(folder, cfg)):
        return 0
    try:
        return int(meta["step"])
    except (KeyError, TypeError, ValueError):
        return 0


def updates_per_epoch(exp: Experiment, run: Run) -> float | None:
    """Updates per pass over the data of a run that has a checkpoint with at least one finished epoch (None
    otherwise): what ``--plan`` turns an epoch cap into updates with."""
    meta = _checkpoint_meta(exp.output_dir / run.dirname)
    try:
        return float(meta["step"]) / float(meta["epoch"]) if meta and meta["epoch"] else None
    except (KeyError, TypeError, ValueError):
        return None


def _coverage(model_dir: Path, metrics: dict[str, Any]) -> dict[str, Any] | None:
    if metrics.get("coverage"):
        return metrics["coverage"]
    p = model_dir / COVERAGE_FILE  # written on a fresh start only; metrics lack it after a resume
    if p.is_file():
        rep = json.loads(p.read_text(encoding="utf-8"))
        keep = ("type_coverage", "token_coverage", "vectors_sha256")
        return {k: {m: v.get(m) for m in keep} for k, v in rep.items()}
    return None


def _score_test(model_dir: Path, cfg: Config, test: Any, direction: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Translate and score the test split (of ``direction``, the base's) with the trained model; returns (test
    scores, metrics.json)."""
    metrics = json.loads((model_dir / METRICS_FILE).read_text(encoding="utf-8"))
    # a multilingual model is told the target (and, with a vocabulary per language, the source) language
    into = {"tgt_lang": direction.tgt, "src_lang": direction.src} if direction_plan(cfg.data).tagged else {}
    translator = Translator.load(model_dir, device=cfg.training.device)
    scores, hyps = evaluate(translator, test.src, test.tgt, **into)
    write_lines(model_dir / HYPOTHESES_FILE, hyps)
    metrics["test_samples"] = scores.pop("samples")  # metrics.json keeps them beside the scores, as training does
    metrics["test"] = scores
    if into:  # a multilingual run: every direction it was trained on or is zero-shot on, on its own test split
        metrics["test_by_direction"] = _scores_by_direction(translator, cfg)
    write_json(model_dir / METRICS_FILE, metrics)
    return scores, metrics


def _scores_by_direction(translator: Translator, cfg: Config) -> dict[str, dict[str, Any]]:
    """BLEU, chrF and lowercased BLEU of every direction of a multilingual run (zero-shot ones marked)."""
    plan = direction_plan(cfg.data)
    splits = load_direction_splits(cfg.data, plan, seed=cfg.training.seed)
    tests = {d: (splits[d]["test"], plan.is_zero_shot(d)) for d in plan.all if splits[d].get("test") is not None}
    result = evaluate_directions(translator, tests, samples=0)["directions"]
    return {name: {k: s[k] for k in ("bleu", "chrf", "bleu_lc", "zero_shot") if k in s} for name, s in result.items()}


def _result_fields(model_dir: Path, scores: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    """A finished run's metrics, as results.jsonl records them."""
    history = read_history(model_dir.parent, model_dir.name)
    losses = [h["valid_loss"] for h in history if h.get("valid_loss") is not None]
    best = metrics.get("best") or {}
    return {"test_bleu": scores["bleu"], "test_chrf": scores["chrf"], "test_bleu_lc": scores["bleu_lc"],
            "valid_loss": min(losses) if losses else best.get("valid_loss"), "valid_bleu": best.get("valid_bleu"),
            "steps": metrics.get("steps"), "stop_reason": metrics.get("stop_reason"),
            "stop_class": metrics.get("stop_class") or stop_class(metrics.get("stop_reason")),  # older folders lack it
            "train_minutes": metrics.get("train_minutes"), "tokens_per_s": metrics.get("tokens_per_s"),
            "parameters": metrics.get("parameters"), "coverage": _coverage(model_dir, metrics),
            "test_sentences": scores["sentences"], "bleu_signature": scores["bleu_signature"],
            **({"test_by_direction": metrics["test_by_direction"]} if "test_by_direction" in metrics else {})}


def _device_name(cfg: Config) -> str:
    """Where the run trained, as its record names it: ``cpu``, or ``cuda (NVIDIA H200)``."""
    device = resolve_device(cfg.training.device)
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else device.type


def _execute(exp: Experiment, run: Run, cfg: Config, splits: dict[str, Any], out: Path, progress: bool,
             log: Callable) -> dict[str, Any]:
    """Train (or resume) one run and score it; returns its record, ``status: failed`` when it raised."""
    model_dir = out / run.dirname
    record = new_record(exp.name, run, len(splits["train"]), config_hash(cfg))
    t0 = time.time()
    try:
        _prepare_model_dir(model_dir, cfg, log)
        if not (model_dir / METRICS_FILE).is_file():  # metrics.json is written when training has finished
            train(cfg, model_dir, splits=splits, progress=progress, evaluate_test=False,
                  log=log if progress else (lambda *a, **k: None))
        scores, metrics = _score_test(model_dir, cfg, splits["test"], exp.test_direction())
        record.update(_result_fields(model_dir, scores, metrics))
        archive_run(out, run.dirname)
        record["device"] = _device_name(cfg)  # a grid may be split between a CPU and a GPU machine
        record["software"] = software()  # whether a second training should match this one digit for digit
    except Exception as e:  # one failed run must not stop the grid; KeyboardInterrupt still does
        tb = traceback.format_exc().rstrip().splitlines()
        record.update({"status": "failed", "error": f"{type(e).__name__}: {e}", "traceback": "\n".join(tb[-15:])})
    record["wall_minutes"] = round((time.time() - t0) / 60, 2)
    record["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return record


def merge_from(exp: Experiment, other: str | Path, log: Callable = print) -> MergeSummary:
    """Add the runs another machine's compare finished in ``other`` (see :mod:`vectorseq.compare.merge`)."""
    summary = merge_results(exp, other, finished=lambda run, rec: is_finished(exp, run, rec),
                            config_hash=lambda run: config_hash(exp.run_config(run.strategy, run.size, run.seed)))
    for line in summary.lines():
        log(line)
    return summary


def _report_only(exp: Experiment, log: Callable) -> Path:
    out = exp.output_dir
    if not (out / RESULTS_FILE).is_file():
        raise VectorseqError(f"{out / RESULTS_FILE}: no results yet; run the experiment first (without --report-only)")
    if not (out / TEST_REF_FILE).is_file():  # a committed or copied folder: the test split is data, not kept there
        log(f"{out / TEST_REF_FILE} is missing: writing the test split from the experiment's data")
        _load_data(exp, out)
    report = write_report(exp, out)
    log(f"report: {report} and {report.with_suffix('.html')}")
    return report


def _pending(exp: Experiment, splits: dict[str, Any], log: Callable, chosen: list[Run] | None = None,
             again: bool = False) -> list[tuple[int, Run, Config, dict]]:
    """The runs of the grid (of ``chosen``, a part of it, when given) without an ``ok`` result for their config
    yet, with the data each trains on; ``again``: every run of ``chosen``, finished or not."""
    out, runs = exp.output_dir, exp.runs()
    done = {record_key(r): r for r in read_results(out)}
    if again:  # a plan that an interruption does not lose (see .again)
        started, continuing = begin_again(out, [r.key for r in chosen or runs], log)
    elif notice := pending_notice(out):
        log(notice)
    subsets: dict[tuple, dict[str, Any]] = {}  # (size, seed) -> the splits every strategy trains on
    todo = []
    for i, run in enumerate(runs, 1):
        if chosen is not None and run not in chosen:
            continue
        if again and trained_since(done.get(run.key), started):
            continue  # trained again already, by this plan before an interruption
        if is_finished(exp, run, done.get(run.key)):
            if not again:
                continue
            if not continuing:  # continuing, the folder is this plan's own training (or gone), not the old run
                _set_aside(out / run.dirname, done[run.key], log)
        cfg = exp.run_config(run.strategy, run.size, run.seed)
        key = (run.size, run.seed)
        if key not in subsets:
            train_split = splits["train"] if run.size is None else \
                splits["train"].subset(run.size, mode="random", seed=run.seed)
            subsets[key] = {"train": train_split, "valid": splits["valid"], "test": splits["test"]}
        todo.append((i, run, cfg, subsets[key]))
    seeds = "/".join(str(len(exp.seeds_at(n))) for n in exp.sizes) if exp.seeds_per_size else str(len(exp.seeds))
    cut = len(exp.stated_runs()) - len(runs)
    log(f"{exp.name}: {len(exp.strategies)} strategies x {len(exp.sizes)} sizes x {seeds} seeds = "
        + (f"{len(runs) + cut} runs, {cut} cut (reasons in the report): {len(runs)}" if cut else f"{len(runs)}")
        + f" runs -> {out}")
    if chosen is not None:
        log(f"{len(runs) - len(chosen)} runs outside --strategies/--sizes/--seeds left to another machine or command")
    finished = len(runs if chosen is None else chosen) - len(todo)
    if finished:
        log(f"{finished} finished runs skipped (results.jsonl)")
    return todo


def _set_aside(model_dir: Path, record: dict[str, Any], log: Callable) -> None:
    """Before a finished run trains again (--again): its folder moves to NAME.before_again (so its model and
    translations are kept until the next --again of the same run); its record stays in results.jsonl, where the
    new one, appended later, takes its place."""
    log(f"  {model_dir.parent.name}/{model_dir.name}: trained again (--again); before: test BLEU "
        f"{record.get('test_bleu')}, {record.get('steps')} steps")
    if not model_dir.exists():
        return
    aside = model_dir.with_name(model_dir.name + ".before_again")
    if aside.exists():
        shutil.rmtree(aside)
    model_dir.rename(aside)


def _log_record(rec: dict[str, Any], log: Callable) -> None:
    if rec["status"] == "ok":
        log(f"  test BLEU {rec['test_bleu']:.1f}  chrF {rec['test_chrf']:.1f}  "
            f"({rec['steps']} steps, {rec['train_minutes']} min)")
    else:
        log(f"  FAILED: {rec['error']}")


def _run_grid(exp: Experiment, splits: dict[str, Any], progress: bool, log: Callable, workers: int = 1,
              chosen: list[Run] | None = None, again: bool = False) -> None:
    """Every pending run (of ``chosen``, when given; all of them with ``again``), one record each in
    results.jsonl (written by this process only, as runs finish)."""
    todo = _pending(exp, splits, log, chosen, again)
    n = len(exp.runs())
    if workers > 1 and len(todo) > 1:
        run_in_workers(exp, todo, workers, log, on_record=lambda rec: (append_result(exp.output_dir, rec),
                                                                      _log_record(rec, log)),
                       execute=_execute, config_hash=config_hash)
    else:
        for i, run, cfg, subset in todo:
            log(f"[{i}/{n}] {run.strategy}, {len(subset['train'])} pairs, seed {run.seed}")
            rec = _execute(exp, run, cfg, subset, exp.output_dir, progress, log)
            append_result(exp.output_dir, rec)
            _log_record(rec, log)
    if again:
        end_again(exp.output_dir, {record_key(r): r for r in read_results(exp.output_dir)}, log)


def run_experiment(path_or_dict: str | Path | dict, output_dir: str | Path | None = None, report_only: bool = False,
                   progress: bool = True, log: Callable[..., Any] = print, workers: int = 1,
                   strategies: list[str] | None = None, sizes: list[str] | None = None,
                   merge: str | Path | None = None, seeds: list[int] | None = None, again: bool = False) -> Path:
    """Run (or resume) every run of an experiment, then write the report; returns the path of ``report.md``
    (``report.html``, ``results.jsonl`` and the model folders are beside it).

    ``report_only`` rebuilds ``report.md`` / ``report.html`` from ``results.jsonl`` without training.
    ``log`` receives one line per run, the summary table and the significance verdicts (``progress=False``
    also silences the training progress bar and the per-validation lines). ``workers > 1`` trains that many
    runs at once, each in its own single-thread process (:mod:`vectorseq.compare.workers`). ``strategies``
    (shell patterns), ``sizes`` and ``seeds`` train only that part of the grid (:meth:`Experiment.runs_matching`);
    the report still covers every finished run. ``again`` trains that part again even where it has finished
    (after a code change, to check that a run reproduces, or to recover translations that were lost); the new
    record replaces the old one in the report. ``merge`` (another machine's output folder) adds the runs it
    finished and this folder has not, then writes the report, training nothing.
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"compare: workers must be a positive integer, got {workers!r}")
    exp = load_experiment(path_or_dict, output_dir)
    whole = strategies is None and sizes is None and seeds is None
    if again and whole:
        raise ConfigError("compare --again trains finished runs again: name them with --strategies, --sizes "
                          "and/or --seeds (for the whole grid, delete the output folder instead)")
    chosen = None if whole else exp.runs_matching(strategies, sizes, seeds)
    if merge is not None:
        merge_from(exp, merge, log)
    if report_only or merge is not None:
        return _report_only(exp, log)
    out = exp.output_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / EXPERIMENT_FILE).write_text(yaml.safe_dump(exp.to_dict(), sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
    _run_grid(exp, _load_data(exp, out), progress, log, workers, chosen, again)
    report = write_report(exp, out)
    log("\n" + summary_table(latest_results(read_results(out), exp.runs())) + "\n")
    sig = json.loads((out / SIGNIFICANCE_FILE).read_text(encoding="utf-8"))
    for w in winners(exp, latest_results(read_results(out), exp.runs()), sig):  # one line per size, not per pair
        log(f"- {w['line'].replace('**', '')}")
    log(f"report: {report} and {report.with_suffix('.html')}")
    return report
