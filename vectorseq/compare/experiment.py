"""Experiment grids: every strategy x training-set size x seed, everything else held equal.

An experiment file (YAML) looks like this::

    name: builtin_vectorization          # default: the file's name; the output folder is runs/compare/NAME
    description: Word vs subword vs character on the built-in corpus.   # optional, shown in the report
    base_config: ../configs/demo.yaml    # a config file, relative to this file ...
    base:                                # ... and/or a config mapping merged over it
      model: {type: transformer, d_model: 64}
    strategies:                          # name -> partial config merged over the base (vectorseq.config.merge)
      word: {vectorizer: {src: {split: word, max_tokens: null}}}
      subword: {vectorizer: {src: {split: sentencepiece, max_tokens: 1000}}}
      char: {vectorizer: {src: {split: character, max_tokens: null}}}
    sizes: [1000, 3000, all]             # training pairs; null or `all` = the whole training split
    seeds: [1, 2, 3]                     # training.seed, and the seed of the random training subset
    budget: {max_steps: 2000}            # max_steps / max_minutes / max_epochs, the same for every run
    output_dir: runs/compare/builtin     # optional; `--output` overrides it
    report: {sample_sentences: 5, bootstrap_samples: 1000, alpha: 0.05, seed: 12345}   # optional

Held equal
    The data is loaded once from the base config's ``data`` section. A run of size ``n`` and seed ``s`` trains on
    ``train.subset(n, mode="random", seed=s)``: every strategy sees exactly the same pairs for the same size and
    seed (and the subsets are nested: the 1,000 pairs are inside the 3,000). Its config records
    ``data.subset: n``, ``data.subset_mode: random`` and ``training.seed: s``, so ``vectorseq evaluate`` on the
    model folder reloads the same subset. Strategies may not change ``data``, ``training.seed``, ``name`` or the
    budget keys (an error says so). The budget replaces the base config's stopping keys: the keys it names are
    set, the other two of ``max_steps``/``max_minutes``/``max_epochs`` are set to null. Without a ``budget`` the
    base config's own stopping keys apply to every run. Prefer ``max_steps`` or ``max_epochs``: a
    ``max_minutes`` budget depends on the machine and its load.

Output folder
    ``results.jsonl``: one JSON line per finished run (``strategy, size, train_pairs, seed, status`` ok/failed,
    ``error, traceback, test_bleu, test_chrf, test_bleu_lc, valid_loss`` (lowest), ``valid_bleu`` (best),
    ``steps, stop_reason, train_minutes, tokens_per_s, parameters, coverage, model_dir, config_hash, ...``);
    ``runs/STRATEGY/nSIZE_sSEED/``: each run's model folder, with ``hyps.txt`` (its test translations, one per
    line); ``test.src.txt`` / ``test.ref.txt``: the test split; ``experiment.yaml``: the resolved experiment (the
    base inlined), so ``vectorseq compare OUTPUT_DIR --report-only`` works without the original file;
    ``report.md``, ``report.html``, ``figures/``, ``significance.json`` (see :mod:`vectorseq.compare.report`).

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
import difflib
import hashlib
import json
import re
import shutil
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from ..config import Config, config_from_dict, merge
from ..errors import ConfigError, VectorseqError
from ..evaluation import score
from ..training import train

RESULTS_FILE = "results.jsonl"
EXPERIMENT_FILE = "experiment.yaml"
HYPS_FILE = "hyps.txt"
TEST_SRC_FILE = "test.src.txt"
TEST_REF_FILE = "test.ref.txt"

TOP_KEYS = ("name", "description", "base", "base_config", "strategies", "sizes", "seeds", "budget",
            "output_dir", "report")
BUDGET_KEYS = ("max_steps", "max_minutes", "max_epochs")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


@dataclass
class ReportOptions:
    """The ``report:`` section of an experiment file."""

    sample_sentences: int = 5  # test sentences shown side by side
    bootstrap_samples: int = 1000  # paired bootstrap resamples
    alpha: float = 0.05  # significance level of the verdicts
    seed: int = 12345  # seed of the bootstrap resampling


@dataclass(frozen=True)
class Run:
    """One cell of the grid."""

    strategy: str
    size: int | None  # None = the whole training split
    seed: int

    @property
    def label(self) -> int | str:
        return "all" if self.size is None else self.size

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.strategy, str(self.label), self.seed)

    @property
    def dirname(self) -> str:
        return f"runs/{self.strategy}/n{self.label}_s{self.seed}"


@dataclass
class Experiment:
    name: str
    base: dict[str, Any]
    strategies: dict[str, dict[str, Any]]
    sizes: list[int | None]
    seeds: list[int]
    budget: dict[str, Any] = field(default_factory=dict)
    output_dir: Path = Path("runs/compare/experiment")
    report: ReportOptions = field(default_factory=ReportOptions)
    description: str = ""
    source: str = "experiment"

    def runs(self) -> list[Run]:
        """The grid, smallest size first, so that a first complete picture arrives early."""
        return [Run(s, n, seed) for n in self.sizes for seed in self.seeds for s in self.strategies]

    def raw_config(self, strategy: str | None, size: int | None, seed: int) -> dict[str, Any]:
        """The config mapping of one run before validation (``strategy=None``: the base with budget and subset)."""
        label = "all" if size is None else size
        raw = merge(self.base, self.strategies[strategy] if strategy is not None else {})
        training: dict[str, Any] = {"seed": seed, "resume": True}
        if self.budget:
            training.update({k: self.budget.get(k) for k in BUDGET_KEYS})
        return merge(raw, {"name": f"{strategy or 'base'}-n{label}-s{seed}",
                           "data": {"subset": size, "subset_mode": "random"}, "training": training})

    def run_config(self, strategy: str, size: int | None, seed: int) -> Config:
        """The validated config of one run."""
        try:
            return config_from_dict(self.raw_config(strategy, size, seed))
        except ConfigError as e:
            raise ConfigError(f"{self.source}: strategy {strategy!r} makes an invalid config: {e}") from None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "base": self.base,
                "strategies": self.strategies, "sizes": ["all" if n is None else n for n in self.sizes],
                "seeds": self.seeds, "budget": self.budget, "output_dir": str(self.output_dir),
                "report": dataclasses.asdict(self.report)}


# ------------------------------------------------------------------------------------------- loading
def _unknown(where: str, key: Any, valid: Iterable[str]) -> ConfigError:
    valid = list(valid)
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(valid)}"
    return ConfigError(f"{where}: unknown key {key!r}{hint}")


def _read_yaml(path: Path, what: str) -> Any:
    if not path.is_file():
        raise ConfigError(f"{path}: {what} not found; check the path")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(e, 'problem', e)})") from None


def _int_list(value: Any, where: str, key: str, allow_all: bool) -> list:
    items = value if isinstance(value, list) else [value]
    out: list = []
    for v in items:
        if allow_all and (v is None or (isinstance(v, str) and v.lower() == "all")):
            out.append(None)
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < (1 if allow_all else 0):
            accepted = "positive integers, or null / all for the whole training split" if allow_all \
                else "non-negative integers"
            raise ConfigError(f"{where}: {key}: {v!r} is not valid; expected {accepted}")
        out.append(v)
    if not out:
        raise ConfigError(f"{where}: {key}: give at least one value")
    if len(set(out)) != len(out):
        raise ConfigError(f"{where}: {key}: {out} has duplicates")
    return out


def _check_strategy(name: str, override: dict, where: str) -> None:
    if not _NAME_RE.match(name):
        raise ConfigError(f"{where}: strategy name {name!r} must be letters, digits, '_', '-', '.' or '+' "
                          "(it names a folder)")
    for forbidden, why in (("data", "every strategy trains and tests on the same data; put data settings in the "
                                    "base config"),
                           ("name", "run names are set by the experiment")):
        if forbidden in override:
            raise ConfigError(f"{where}: strategy {name!r} sets `{forbidden}`: {why}")
    training = override.get("training") or {}
    if isinstance(training, dict):
        for k in BUDGET_KEYS:
            if k in training:
                raise ConfigError(f"{where}: strategy {name!r} sets training.{k}: the budget is the same for every "
                                  "run; set it under `budget:`")
        if "seed" in training:
            raise ConfigError(f"{where}: strategy {name!r} sets training.seed: seeds are set by `seeds:`")


def load_experiment(source: str | Path | dict, output_dir: str | Path | None = None) -> Experiment:
    """Read and validate an experiment (a YAML file, an output folder holding experiment.yaml, or a dict)."""
    folder_default: Path | None = None
    if isinstance(source, dict):
        raw, where, base_dir, default_name = source, "experiment", Path.cwd(), "experiment"
    else:
        p = Path(source)
        if p.is_dir():
            if not (p / EXPERIMENT_FILE).is_file():
                raise ConfigError(f"{p}: a folder without {EXPERIMENT_FILE}; give an experiment YAML file")
            folder_default, p = p, p / EXPERIMENT_FILE
        raw = _read_yaml(p, "experiment file")
        where, base_dir, default_name = str(p), p.parent, p.stem
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with the keys {', '.join(TOP_KEYS)}")
    for key in raw:
        if key not in TOP_KEYS:
            raise _unknown(where, key, TOP_KEYS)

    name = raw.get("name", default_name)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"{where}: name: {name!r} must be letters, digits, '_', '-', '.' or '+' (it names a folder)")
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise ConfigError(f"{where}: description: expected text")

    # base config: a file, a mapping merged over it, or both
    base: dict[str, Any] = {}
    if raw.get("base_config") is not None:
        bc = raw["base_config"]
        if not isinstance(bc, str):
            raise ConfigError(f"{where}: base_config: expected a path to a config file (relative to the experiment)")
        bp = Path(bc) if Path(bc).is_absolute() else base_dir / bc
        loaded = _read_yaml(bp, "base_config") or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{bp}: expected a config mapping")
        base = loaded
    if raw.get("base") is not None:
        if not isinstance(raw["base"], dict):
            raise ConfigError(f"{where}: base: expected a config mapping; to point at a file use `base_config: PATH`")
        base = merge(base, raw["base"])
    if "base" not in raw and "base_config" not in raw:
        raise ConfigError(f"{where}: no base config; give `base_config: PATH` (relative to the experiment file) "
                          "and/or `base:` (a config mapping)")

    strategies_raw = raw.get("strategies")
    if not isinstance(strategies_raw, dict) or not strategies_raw:
        raise ConfigError(f"{where}: strategies: expected a mapping of strategy name -> partial config, e.g. "
                          "`strategies: {word: {vectorizer: {src: {split: word}}}}`")
    strategies: dict[str, dict] = {}
    for sname, override in strategies_raw.items():
        sname = str(sname)
        override = override or {}
        if not isinstance(override, dict):
            raise ConfigError(f"{where}: strategy {sname!r}: expected a partial config mapping, "
                              f"got {type(override).__name__}")
        _check_strategy(sname, override, where)
        strategies[sname] = override

    sizes = _int_list(raw.get("sizes"), where, "sizes", allow_all=True)
    sizes = sorted(sizes, key=lambda n: float("inf") if n is None else n)
    base_training = base.get("training") if isinstance(base.get("training"), dict) else {}
    base_seed = base_training.get("seed", 42)
    seeds = _int_list(raw.get("seeds", [base_seed]), where, "seeds", allow_all=False)

    budget = raw.get("budget") or {}
    if not isinstance(budget, dict):
        raise ConfigError(f"{where}: budget: expected a mapping such as `{{max_steps: 2000}}`")
    for k, v in budget.items():
        if k not in BUDGET_KEYS:
            raise _unknown(f"{where}: budget", k, BUDGET_KEYS)
        ok = v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                           and (k == "max_minutes" or isinstance(v, int)))
        if not ok:
            kind = "a positive number" if k == "max_minutes" else "a positive integer"
            raise ConfigError(f"{where}: budget.{k}: {v!r} is not valid; expected {kind}")
    if budget and all(v is None for v in budget.values()):
        raise ConfigError(f"{where}: budget: set at least one of {', '.join(BUDGET_KEYS)}")

    report_raw = raw.get("report") or {}
    if not isinstance(report_raw, dict):
        raise ConfigError(f"{where}: report: expected a mapping")
    report_fields = [f.name for f in dataclasses.fields(ReportOptions)]
    for k, v in report_raw.items():
        if k not in report_fields:
            raise _unknown(f"{where}: report", k, report_fields)
        if k == "alpha":
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1):
                raise ConfigError(f"{where}: report.alpha: {v!r} is not valid; expected a number between 0 and 1")
        elif isinstance(v, bool) or not isinstance(v, int) or v < (0 if k in ("seed", "sample_sentences") else 1):
            raise ConfigError(f"{where}: report.{k}: {v!r} is not valid; expected a positive integer")
    report = ReportOptions(**report_raw)

    out = output_dir or folder_default or raw.get("output_dir") or f"runs/compare/{name}"
    exp = Experiment(name=name, base=base, strategies=strategies, sizes=sizes, seeds=seeds, budget=dict(budget),
                     output_dir=Path(out), report=report, description=description, source=where)
    if not budget and not any(base_training.get(k) is not None for k in BUDGET_KEYS):
        raise ConfigError(f"{where}: no budget; set e.g. `budget: {{max_steps: 2000}}` (or max_minutes / max_epochs) "
                          "so that every run trains for the same budget")
    try:
        config_from_dict(exp.raw_config(None, sizes[0], seeds[0]))
        base_error = None
    except ConfigError as e:
        base_error = str(e)
    for sname in strategies:  # every strategy must make a valid config before anything trains
        try:
            config_from_dict(exp.raw_config(sname, sizes[0], seeds[0]))
        except ConfigError as e:
            if str(e) == base_error:  # the base is at fault, not the strategy
                raise ConfigError(f"{where}: the base config is invalid: {e} (strategy {sname!r} inherits it)") \
                    from None
            raise ConfigError(f"{where}: strategy {sname!r} makes an invalid config: {e}") from None
    return exp


# ------------------------------------------------------------------------------------------- results
def read_results(path: str | Path) -> list[dict[str, Any]]:
    """All records of ``results.jsonl`` (``path``: that file, the output folder or its report.md), in order."""
    p = Path(path)
    if p.is_dir():
        p = p / RESULTS_FILE
    elif p.suffix != ".jsonl":  # report.md or another file of the output folder
        p = p.parent / RESULTS_FILE
    if not p.is_file():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by an interruption
            continue
    return out


def _record_key(r: dict[str, Any]) -> tuple[str, str, int]:
    return (str(r.get("strategy")), str(r.get("size")), int(r.get("seed", 0)))


def latest_results(records: list[dict[str, Any]], runs: list[Run] | None = None) -> list[dict[str, Any]]:
    """The latest record of every run; with ``runs``, only those runs, in grid order."""
    latest: dict[tuple, dict] = {}
    for r in records:
        latest[_record_key(r)] = r
    if runs is None:
        return list(latest.values())
    return [latest[r.key] for r in runs if r.key in latest]


def _append(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")


def config_hash(cfg: Config) -> str:
    return hashlib.sha1(json.dumps(cfg.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def read_lines(path: Path) -> list[str]:
    """Lines written by :func:`write_lines` (empty lines are kept: an empty translation is a line)."""
    text = path.read_text(encoding="utf-8")
    if not text:
        return []
    return (text[:-1] if text.endswith("\n") else text).split("\n")


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(s.replace("\n", " ") + "\n" for s in lines), encoding="utf-8")


# ------------------------------------------------------------------------------------------- running
def _load_data(exp: Experiment, out: Path) -> dict[str, Any]:
    from ..data.splits import load_splits

    cfg0 = exp.run_config(next(iter(exp.strategies)), None, exp.seeds[0])
    splits = load_splits(cfg0.data, seed=exp.seeds[0])
    test = splits.get("test")
    if test is None or len(test) == 0:
        raise ConfigError(f"{exp.source}: the base config's data has no test split; a comparison scores every run "
                          "on it (set data.test)")
    n_train = len(splits["train"])
    for n in exp.sizes:
        if n is not None and n > n_train:
            raise ConfigError(f"{exp.source}: sizes: {n} is larger than the training data ({n_train} pairs); "
                              f"use at most {n_train}, or `all`")
    write_lines(out / TEST_SRC_FILE, list(test.src))
    write_lines(out / TEST_REF_FILE, list(test.tgt))
    return splits


def _normalised(d: Any) -> Any:
    return json.loads(json.dumps(d))


def _prepare_model_dir(model_dir: Path, cfg: Config, log: Callable) -> None:
    """Move a folder trained with a different config aside, so that resuming never mixes two configs."""
    cfg_file = model_dir / "config.yaml"
    if not cfg_file.is_file():
        return
    try:
        old = yaml.safe_load(cfg_file.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        old = None
    if _normalised(old) == _normalised(cfg.to_dict()):
        return
    stale = model_dir.with_name(model_dir.name + ".stale")
    if stale.exists():
        shutil.rmtree(stale)
    model_dir.rename(stale)
    log(f"  {model_dir}: trained with a different config; moved to {stale.name} and starting afresh")


def _coverage(model_dir: Path, metrics: dict[str, Any]) -> dict[str, Any] | None:
    if metrics.get("coverage"):
        return metrics["coverage"]
    p = model_dir / "coverage.json"  # written on a fresh start only; metrics lack it after a resume
    if p.is_file():
        rep = json.loads(p.read_text(encoding="utf-8"))
        return {k: {m: v.get(m) for m in ("type_coverage", "token_coverage")} for k, v in rep.items()}
    return None


def read_history(model_dir: Path) -> list[dict[str, Any]]:
    """The validation records of a model folder's train_log.jsonl (empty when there is none)."""
    p = model_dir / "train_log.jsonl"
    if not p.is_file():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


_METRIC_KEYS = ("test_bleu", "test_chrf", "test_bleu_lc", "valid_loss", "valid_bleu", "steps", "stop_reason",
                "train_minutes", "tokens_per_s", "parameters", "coverage", "test_sentences", "bleu_signature")


def _execute(exp: Experiment, run: Run, cfg: Config, splits: dict[str, Any], out: Path, progress: bool,
             log: Callable) -> dict[str, Any]:
    from ..translator import Translator

    model_dir = out / run.dirname
    record: dict[str, Any] = {"experiment": exp.name, "strategy": run.strategy, "size": run.label,
                              "train_pairs": len(splits["train"]), "seed": run.seed, "status": "ok",
                              "error": None, "traceback": None, **{k: None for k in _METRIC_KEYS},
                              "model_dir": run.dirname, "config_hash": config_hash(cfg)}
    t0 = time.time()
    try:
        _prepare_model_dir(model_dir, cfg, log)
        if not (model_dir / "metrics.json").is_file():  # metrics.json is written when training has finished
            train(cfg, model_dir, splits=splits, progress=progress, evaluate_test=False,
                  log=log if progress else (lambda *a, **k: None))
        metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
        history = read_history(model_dir)
        test = splits["test"]
        tr = Translator.load(model_dir, device=cfg.training.device)
        t1 = time.time()
        hyps = tr.translate(list(test.src))
        dt = max(time.time() - t1, 1e-9)
        s = score(hyps, list(test.tgt))
        write_lines(model_dir / HYPS_FILE, hyps)
        metrics["test"] = {**s, "beam_size": cfg.decoding.beam_size, "sentences_per_s": round(len(hyps) / dt, 1)}
        metrics["test_samples"] = [{"src": a, "ref": b, "hyp": c}
                                   for a, b, c in list(zip(test.src, test.tgt, hyps))[:5]]
        (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=1, ensure_ascii=False), encoding="utf-8")
        losses = [h["valid_loss"] for h in history if h.get("valid_loss") is not None]
        best = metrics.get("best") or {}
        record.update({
            "test_bleu": s["bleu"], "test_chrf": s["chrf"], "test_bleu_lc": s["bleu_lc"],
            "valid_loss": min(losses) if losses else best.get("valid_loss"),
            "valid_bleu": best.get("valid_bleu"), "steps": metrics.get("steps"),
            "stop_reason": metrics.get("stop_reason"), "train_minutes": metrics.get("train_minutes"),
            "tokens_per_s": metrics.get("tokens_per_s"), "parameters": metrics.get("parameters"),
            "coverage": _coverage(model_dir, metrics), "test_sentences": len(hyps),
            "bleu_signature": s["bleu_signature"],
        })
    except Exception as e:  # one failed run must not stop the grid; KeyboardInterrupt still does
        tb = traceback.format_exc().rstrip().splitlines()
        record.update({"status": "failed", "error": f"{type(e).__name__}: {e}", "traceback": "\n".join(tb[-15:])})
    record["wall_minutes"] = round((time.time() - t0) / 60, 2)
    record["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return record


def run_experiment(path_or_dict: str | Path | dict, output_dir: str | Path | None = None, report_only: bool = False,
                   progress: bool = True, log: Callable[..., Any] = print) -> Path:
    """Run (or resume) every run of an experiment, then write the report; returns the path of ``report.md``
    (``report.html``, ``results.jsonl`` and the model folders are beside it).

    ``report_only`` rebuilds ``report.md`` / ``report.html`` from ``results.jsonl`` without training.
    ``log`` receives one line per run, the summary table and the significance verdicts (``progress=False``
    also silences the training progress bar and the per-validation lines).
    """
    from .report import summary_table, write_report

    exp = load_experiment(path_or_dict, output_dir)
    out = exp.output_dir
    if report_only:
        if not (out / RESULTS_FILE).is_file():
            raise VectorseqError(f"{out / RESULTS_FILE}: no results yet; run the experiment first "
                                 "(without --report-only)")
        report = write_report(exp, out)
        log(f"report: {report} and {report.with_suffix('.html')}")
        return report

    out.mkdir(parents=True, exist_ok=True)
    (out / EXPERIMENT_FILE).write_text(yaml.safe_dump(exp.to_dict(), sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
    splits = _load_data(exp, out)
    runs = exp.runs()
    done = {_record_key(r): r for r in read_results(out)}
    subsets: dict[tuple, Any] = {}
    n_skipped = 0
    log(f"{exp.name}: {len(exp.strategies)} strategies x {len(exp.sizes)} sizes x {len(exp.seeds)} seeds = "
        f"{len(runs)} runs -> {out}")
    for i, run in enumerate(runs, 1):
        cfg = exp.run_config(run.strategy, run.size, run.seed)
        prev = done.get(run.key)
        if prev and prev.get("status") == "ok" and prev.get("config_hash") == config_hash(cfg):
            n_skipped += 1
            continue
        key = (run.size, run.seed)
        if key not in subsets:
            train_split = splits["train"] if run.size is None else \
                splits["train"].subset(run.size, mode="random", seed=run.seed)
            subsets[key] = {"train": train_split, "valid": splits["valid"], "test": splits["test"]}
        log(f"[{i}/{len(runs)}] {run.strategy}, {len(subsets[key]['train'])} pairs, seed {run.seed}")
        rec = _execute(exp, run, cfg, subsets[key], out, progress, log)
        _append(out / RESULTS_FILE, rec)
        if rec["status"] == "ok":
            log(f"  test BLEU {rec['test_bleu']:.1f}  chrF {rec['test_chrf']:.1f}  "
                f"({rec['steps']} steps, {rec['train_minutes']} min)")
        else:
            log(f"  FAILED: {rec['error']}")
    if n_skipped:
        log(f"{n_skipped} finished runs skipped (results.jsonl)")
    report = write_report(exp, out)
    log("\n" + summary_table(latest_results(read_results(out), runs)) + "\n")
    sig = json.loads((out / "significance.json").read_text(encoding="utf-8"))
    for s in sig:
        log(f"- {s['verdict']}")
    log(f"report: {report} and {report.with_suffix('.html')}")
    return report
