"""The experiment file: what a comparison trains, parsed by the config engine.

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
    seeds_per_size: {all: [1]}           # optional: other seeds at some sizes (fewer where runs are long)
    budget: {max_steps: 2000}            # max_steps / max_minutes / max_epochs, the same for every run, or
    # budget: {max_steps_per_pair: 0.5, min_steps: 500, max_steps: 20000, patience: 5}   # scaled with the data
    # budget: {max_epochs: 30, per_size: {all: {max_epochs: 10}}}                       # or given per size
    size_overrides:                      # optional: a partial config per training-set size, e.g. the model size
      1000: {model: {d_model: 128}}
      all: {model: {d_model: 256}}
    cut:                                 # optional: cells of the grid not trained, each with its reason
      - {strategies: [bytes, 'gbst*'], sizes: [all], reason: 4x the cost per update; 10 BLEU behind at 3,000}
    output_dir: runs/compare/builtin     # optional; `--output` overrides it
    report: {sample_sentences: 5, bootstrap_samples: 1000, alpha: 0.05, seed: 12345}   # optional

The keys are the fields of :class:`ExperimentFile`, :class:`Budget` and :class:`ReportOptions`, read by
:func:`vectorseq.config.build_dataclass` exactly like a config (unknown keys get a did-you-mean, wrong types
name the key). What a type cannot say is checked here: names that make folder names, sizes and seeds, the keys
a strategy may not change, and that every strategy makes a valid config before anything trains.
:func:`load_experiment` turns the file into an :class:`Experiment`: the base resolved, the grid of
:class:`Run` cells, and the config of each run.

Budgets that scale with the data
    ``max_steps_per_pair: r`` gives a run of ``n`` training pairs ``max_steps = ceil(r * n)`` updates, raised to
    ``min_steps`` and lowered to ``max_steps`` when those are given (so ``r`` is about ``r * batch pairs``
    epochs at every size). ``min_steps`` is also ``training.min_steps``: patience may not stop a run before it;
    ``patience`` sets ``training.patience`` for every run. ``per_size: {SIZE: {keys}}`` replaces budget keys at
    one size (``all`` for the whole split). :meth:`Experiment.budget_for` gives the training keys of a size.

Per-size configs
    ``size_overrides: {SIZE: partial config}`` is merged over the base at that size, before the strategy (the
    strategy is merged last, as everywhere): the usual use is a larger model for more data. It may not change
    ``data``, ``name``, ``training.seed`` or the budget keys.

Cutting cells
    ``cut: [{strategies: PATTERNS, sizes: SIZES, seeds: SEEDS, reason: TEXT}, ...]`` removes cells from the grid
    (``strategies`` are shell patterns; a key left out cuts at every size / seed). The reason is required: the
    report and ``--plan`` list every cut cell with it, so a reader sees the grid that was stated, what was cut and
    why. Deleting an entry puts its cells back (finished cells are never retrained: their configs are unchanged).

Strategies may not change ``data``, ``training.seed``, ``name`` or the budget keys (an error says so): what
is held equal is described in :mod:`vectorseq.compare.experiment`. The one exception is the direction set of a
multilingual model (:data:`DIRECTION_KEYS`: ``data.directions``, ``zero_shot``, ``tag_placement``,
``sampling_temperature``): a strategy may train several directions, as long as they include the base config's
direction, on whose test split every run is scored. The budget stays the number of updates, so a multilingual
run spends the same total updates over all its directions (equal total budget, not equal updates per
direction), and ``data.subset`` (the size) counts pairs per direction.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config, DataConfig, build_dataclass, config_from_dict, merge, read_yaml
from ..data.directions import Direction, direction_plan
from ..errors import ConfigError
from .strategies import resolve_strategy

EXPERIMENT_FILE = "experiment.yaml"
BUDGET_KEYS = ("max_steps", "max_minutes", "max_epochs")  # replaced together: a budget names its stopping rule
CONVERGENCE_KEYS = ("min_steps", "patience")  # set for every run when the budget gives them
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_NAME_RULE = "must be letters, digits, '_', '-', '.' or '+' (it names a folder)"


def _key(default: Any, doc: str, expected: str | None = None) -> Any:
    """A field of the experiment file: its documentation and, for messages, what it accepts."""
    meta = {"doc": doc, **({"expected": expected} if expected else {})}
    return field(default=default, metadata=meta)


@dataclass
class Budget:
    """The ``budget:`` section: the stopping keys every run shares (those not given are set to null)."""

    max_steps: int | None = _key(None, "Updates per run.", "a positive integer")
    max_minutes: float | None = _key(None, "Training minutes per run (depends on the machine).", "a positive number")
    max_epochs: int | None = _key(None, "Passes over each run's training pairs.", "a positive integer")
    max_steps_per_pair: float | None = _key(
        None, "Updates per training pair: max_steps = ceil(this x pairs), at least min_steps, at most max_steps.",
        "a positive number")
    min_steps: int | None = _key(None, "training.min_steps of every run: patience may not stop a run before it "
                                       "(and the floor of a scaled max_steps).", "a positive integer")
    patience: int | None = _key(None, "training.patience of every run: validations without improvement before "
                                      "a run stops (converged).", "a positive integer")
    per_size: dict[Any, Any] | None = _key(
        None, "Budget keys per training-set size, replacing the others there, e.g. "
              "`per_size: {1000: {max_epochs: 60}, all: {max_epochs: 20}}`.",
        "a mapping of size (as in `sizes`, or all) -> budget keys")

    def given(self) -> dict[str, Any]:
        """The keys the file sets."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def check(self, where: str, path: str = "budget") -> None:
        for k, v in self.given().items():
            if k != "per_size" and v <= 0:
                kind = "a positive number" if k in ("max_minutes", "max_steps_per_pair") else "a positive integer"
                raise ConfigError(f"{where}: {path}.{k}: {v!r} is not valid; expected {kind}")
        if self.min_steps and self.max_steps and self.min_steps > self.max_steps:
            raise ConfigError(f"{where}: {path}.min_steps ({self.min_steps}) is larger than {path}.max_steps "
                              f"({self.max_steps}); lower min_steps or raise max_steps")


@dataclass
class ReportOptions:
    """The ``report:`` section of an experiment file."""

    sample_sentences: int = _key(5, "Test sentences shown side by side.")
    bootstrap_samples: int = _key(1000, "Paired bootstrap resamples.")
    alpha: float = _key(0.05, "Significance level of the verdicts.", "a number between 0 and 1")
    seed: int = _key(12345, "Seed of the bootstrap resampling.")

    def check(self, where: str) -> None:
        if not 0 < self.alpha < 1:
            raise ConfigError(f"{where}: report.alpha: {self.alpha!r} is not valid; expected a number between 0 and 1")
        if self.bootstrap_samples < 1:
            raise ConfigError(f"{where}: report.bootstrap_samples: {self.bootstrap_samples!r} is not valid; "
                              "expected a positive integer")


_SIZES = "positive integers, or null / all for the whole training split"
_STRATEGIES = ("a list of library strategies (`strategies: [learned_word, learned_subword]`), or a mapping of "
               "strategy name -> partial config, e.g. `strategies: {word: {vectorizer: {src: {split: word}}}}`, "
               "optionally starting `from:` a library strategy")


@dataclass
class ExperimentFile:
    """The keys of an experiment file, as written."""

    name: str | None = _key(None, "Names the output folder (default: the file's name).", "text")
    description: str | None = _key(None, "Shown at the top of the report.", "text")
    base_config: str | None = _key(None, "A config file, relative to the experiment file.",
                                   "a path to a config file (relative to the experiment)")
    base: dict[str, Any] | None = _key(None, "A config mapping merged over base_config.",
                                       "a config mapping; to point at a file use `base_config: PATH`")
    strategies: dict[str, Any] | list[str] | None = _key(
        None, "Strategy name -> partial config merged over the base (`from: NAME` starts from the strategy "
              "library, vectorseq.compare.strategies), or a list of library names.", _STRATEGIES)
    sizes: list[int | str | None] | int | str | None = _key(None, "Training pairs per run.", _SIZES)
    seeds: list[int] | int | None = _key(None, "Seeds (default: the base's training.seed).", "non-negative integers")
    seeds_per_size: dict[Any, Any] | None = _key(
        None, "Training-set size -> its seeds, where they differ from `seeds` (e.g. fewer seeds for the long runs).",
        "a mapping of size (as in `sizes`, or all) -> a list of seeds, e.g. `{all: [1]}`")
    budget: Budget = field(default_factory=Budget, metadata={"doc": "The stopping keys every run shares."})
    size_overrides: dict[Any, Any] | None = _key(
        None, "Training-set size -> a partial config merged over the base at that size (e.g. the model size).",
        "a mapping of size (as in `sizes`, or all) -> a partial config, e.g. `{1000: {model: {d_model: 128}}}`")
    cut: list[Any] | None = _key(
        None, "Cells of the grid not trained, each with its reason (listed in the report and the plan).",
        "a list of `{strategies: [PATTERNS], sizes: [SIZES], seeds: [SEEDS], reason: TEXT}` (only reason required)")
    output_dir: str | None = _key(None, "The output folder (default runs/compare/NAME).", "a path")
    report: ReportOptions = field(default_factory=ReportOptions, metadata={"doc": "What the report shows."})


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
        """Identifies the run's records in results.jsonl (see :func:`vectorseq.compare.results.record_key`)."""
        return (self.strategy, str(self.label), self.seed)

    @property
    def dirname(self) -> str:
        return f"runs/{self.strategy}/n{self.label}_s{self.seed}"


@dataclass(frozen=True)
class Cut:
    """One ``cut:`` entry: the cells it removes from the grid (None: at every size / seed) and why."""

    strategies: tuple[str, ...] | None  # shell patterns
    sizes: tuple[int | None, ...] | None
    seeds: tuple[int, ...] | None
    reason: str

    def covers(self, run: Run) -> bool:
        return ((self.strategies is None or any(fnmatch.fnmatchcase(run.strategy, p) for p in self.strategies))
                and (self.sizes is None or run.size in self.sizes)
                and (self.seeds is None or run.seed in self.seeds))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.strategies is not None:
            out["strategies"] = list(self.strategies)
        if self.sizes is not None:
            out["sizes"] = ["all" if n is None else n for n in self.sizes]
        if self.seeds is not None:
            out["seeds"] = list(self.seeds)
        return {**out, "reason": self.reason}


@dataclass
class Experiment:
    """A validated experiment: the base config, the strategies and the grid they are run on."""

    name: str
    base: dict[str, Any]
    strategies: dict[str, dict[str, Any]]
    sizes: list[int | None]
    seeds: list[int]  # every seed of the grid, `seeds` first (the order in which verdicts pair seeds)
    seeds_per_size: dict[int | None, list[int]] = field(default_factory=dict)  # sizes whose seeds differ
    budget: dict[str, Any] = field(default_factory=dict)  # the budget keys the file sets (per_size keyed like sizes)
    size_overrides: dict[int | None, dict[str, Any]] = field(default_factory=dict)  # None = the whole split
    cuts: list[Cut] = field(default_factory=list)  # cells of the stated grid not trained, with their reasons
    all_pairs: int | None = None  # pairs of the whole training split, once the data is loaded (scaled budgets)
    output_dir: Path = Path("runs/compare/experiment")
    report: ReportOptions = field(default_factory=ReportOptions)
    description: str = ""
    source: str = "experiment"

    def stated_runs(self) -> list[Run]:
        """Every cell of the stated grid (strategies x sizes x seeds), cut or not, smallest size first."""
        return [Run(s, n, seed) for n in self.sizes for seed in self.seeds_at(n) for s in self.strategies]

    def runs(self) -> list[Run]:
        """The grid to train: the stated grid without its cut cells, smallest size first, so that a first
        complete picture arrives early."""
        return [r for r in self.stated_runs() if self.cut_reason(r) is None]

    def cut_reason(self, run: Run) -> str | None:
        """Why ``run`` is cut from the grid (the first ``cut:`` entry covering it), or None."""
        return next((c.reason for c in self.cuts if c.covers(run)), None)

    def runs_matching(self, strategies: list[str] | None = None, sizes: list[str] | None = None,
                      seeds: list[int] | None = None) -> list[Run]:
        """The part of the grid whose strategy matches one of ``strategies`` (shell patterns such as ``subword_*``),
        whose size is one of ``sizes`` (numbers, or ``all``) and whose seed is one of ``seeds``; None: no
        restriction. One machine can run a part of a grid (say, the strategies whose pretrained vectors it holds)
        while another runs the rest."""
        for pattern in strategies or []:
            if not fnmatch.filter(self.strategies, pattern):
                raise ConfigError(f"{self.source}: --strategies {pattern!r} matches none of the experiment's "
                                  f"strategies ({', '.join(self.strategies)})")
        labels = [str("all" if n is None else n) for n in self.sizes]
        for size in sizes or []:
            if str(size) not in labels:
                raise ConfigError(f"{self.source}: --sizes {size!r} is not one of the experiment's sizes "
                                  f"({', '.join(labels)})")
        every_seed = sorted({sd for n in self.sizes for sd in self.seeds_at(n)})
        for seed in seeds or []:
            if seed not in every_seed:
                raise ConfigError(f"{self.source}: --seeds {seed!r} is not one of the experiment's seeds "
                                  f"({', '.join(map(str, every_seed))})")
        return [r for r in self.runs()
                if (strategies is None or any(fnmatch.fnmatchcase(r.strategy, p) for p in strategies))
                and (sizes is None or str(r.label) in {str(s) for s in sizes})
                and (seeds is None or r.seed in seeds)]

    def seeds_at(self, size: int | None) -> list[int]:
        """The seeds trained at ``size`` pairs."""
        return self.seeds_per_size.get(size, self.seeds)

    def budget_for(self, size: int | None) -> dict[str, Any]:
        """The training keys the budget sets for runs of ``size`` pairs (empty: the base config's own)."""
        b = {k: v for k, v in self.budget.items() if k != "per_size"}
        b.update((self.budget.get("per_size") or {}).get(size, {}))
        out = {k: b[k] for k in CONVERGENCE_KEYS if b.get(k) is not None}
        if not any(b.get(k) is not None for k in (*BUDGET_KEYS, "max_steps_per_pair")):
            return out
        out.update({k: b.get(k) for k in BUDGET_KEYS})
        if b.get("max_steps_per_pair") is not None:
            pairs = size if size is not None else self.all_pairs
            # before the data is loaded (checking the configs) the size of `all` is unknown: a bound stands in
            steps = math.ceil(b["max_steps_per_pair"] * pairs) if pairs else (b.get("max_steps") or 1)
            steps = max(steps, b.get("min_steps") or 1)
            out["max_steps"] = min(steps, b["max_steps"]) if b.get("max_steps") else steps
        return out

    def raw_config(self, strategy: str | None, size: int | None, seed: int) -> dict[str, Any]:
        """The config mapping of one run before validation (``strategy=None``: the base with budget and subset)."""
        label = "all" if size is None else size
        raw = merge(merge(self.base, self.size_overrides.get(size, {})),
                    self.strategies[strategy] if strategy is not None else {})
        training: dict[str, Any] = {"seed": seed, "resume": True, **self.budget_for(size)}
        return merge(raw, {"name": f"{strategy or 'base'}-n{label}-s{seed}",
                           "data": {"subset": size, "subset_mode": "random"}, "training": training})

    def test_direction(self) -> Direction:
        """The base config's one direction: every run, multilingual ones included, is scored on its test split."""
        data = build_dataclass(DataConfig, self.base.get("data"), "data", self.source)
        if data.directions is not None and len(data.directions) != 1:
            raise ConfigError(f"{self.source}: the base config trains {len(data.directions)} directions; give it one "
                              "(data.src_lang/tgt_lang), the test direction, and set data.directions in strategies")
        return Direction.parse(data.directions[0]) if data.directions else Direction(data.src_lang, data.tgt_lang)

    def run_config(self, strategy: str, size: int | None, seed: int) -> Config:
        """The validated config of one run."""
        try:
            return config_from_dict(self.raw_config(strategy, size, seed))
        except ConfigError as e:
            raise ConfigError(f"{self.source}: strategy {strategy!r} makes an invalid config: {e}") from None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "base": self.base,
                "strategies": self.strategies, "sizes": ["all" if n is None else n for n in self.sizes],
                "seeds": self.seeds,
                "seeds_per_size": _size_keyed({"o": self.seeds_per_size}, "o")["o"] or None,
                "budget": _size_keyed(self.budget, "per_size"),
                "size_overrides": _size_keyed({"o": self.size_overrides}, "o")["o"] or None,
                "cut": [c.to_dict() for c in self.cuts] or None,
                "output_dir": str(self.output_dir),
                "report": dataclasses.asdict(self.report)}


def _size_keyed(d: dict[str, Any], key: str) -> dict[str, Any]:
    """``d`` with its ``key`` mapping keyed as the file writes sizes (None -> ``all``)."""
    if not d.get(key):
        return dict(d)
    return {**d, key: {"all" if n is None else n: v for n, v in d[key].items()}}


# ------------------------------------------------------------------------------------------- loading
@dataclass
class _Source:
    """Where an experiment comes from: its mapping, the name messages use, and the defaults it implies."""

    raw: Any
    where: str
    base_dir: Path  # base_config paths are relative to it
    default_name: str
    folder: Path | None = None  # an output folder given instead of a file: the default output folder


def _read_source(source: str | Path | dict) -> _Source:
    if isinstance(source, dict):
        return _Source(source, "experiment", Path.cwd(), "experiment")
    p, folder = Path(source), None
    if p.is_dir():
        if not (p / EXPERIMENT_FILE).is_file():
            raise ConfigError(f"{p}: a folder without {EXPERIMENT_FILE}; give an experiment YAML file")
        folder, p = p, p / EXPERIMENT_FILE
    return _Source(read_yaml(p, "experiment file"), str(p), p.parent, p.stem, folder)


def _resolve_base(spec: ExperimentFile, src: _Source) -> dict[str, Any]:
    """The base config mapping: the base_config file, with ``base`` merged over it."""
    if spec.base is None and spec.base_config is None:
        raise ConfigError(f"{src.where}: no base config; give `base_config: PATH` (relative to the experiment file) "
                          "and/or `base:` (a config mapping)")
    base: dict[str, Any] = {}
    if spec.base_config is not None:
        bp = Path(spec.base_config)
        bp = bp if bp.is_absolute() else src.base_dir / bp
        base = read_yaml(bp, "base_config") or {}
        if not isinstance(base, dict):
            raise ConfigError(f"{bp}: expected a config mapping")
    return merge(base, spec.base or {})


#: The ``data`` keys a strategy may set: the direction set of a multilingual model (see the module docstring).
DIRECTION_KEYS = ("directions", "zero_shot", "tag_placement", "sampling_temperature")


def _check_strategy(name: str, override: Any, where: str, what: str = "strategy") -> None:
    """What a strategy (or a size override, ``what``) may not change."""
    if what == "strategy" and not _NAME_RE.match(name):
        raise ConfigError(f"{where}: strategy name {name!r} {_NAME_RULE}")
    if not isinstance(override, dict):
        raise ConfigError(f"{where}: {what} {name!r}: expected a partial config mapping, "
                          f"got {type(override).__name__}")
    for forbidden, why in (("data", "every strategy trains and tests on the same data; put data settings in the "
                                    "base config"),
                           ("name", "run names are set by the experiment")):
        if forbidden == "data" and what == "strategy" and _only_direction_keys(override.get("data")):
            continue  # a direction set is a strategy axis
        if forbidden in override:
            raise ConfigError(f"{where}: {what} {name!r} sets `{forbidden}`: {why}"
                              + (f" (a strategy may set only data.{', data.'.join(DIRECTION_KEYS)})"
                                 if forbidden == "data" and what == "strategy" else ""))
    training = override.get("training") or {}
    if isinstance(training, dict):
        for k in (*BUDGET_KEYS, *CONVERGENCE_KEYS):
            if k in training:
                raise ConfigError(f"{where}: {what} {name!r} sets training.{k}: the budget is the same for every "
                                  "run (or set per size); set it under `budget:`")
        if "seed" in training:
            raise ConfigError(f"{where}: {what} {name!r} sets training.seed: seeds are set by `seeds:`")


def _only_direction_keys(data: Any) -> bool:
    return isinstance(data, dict) and bool(data) and all(k in DIRECTION_KEYS for k in data)


def _check_directions(exp: "Experiment", cfg: Config) -> None:
    """A strategy's directions include the base's one direction: the test split every run is scored on."""
    base, plan = exp.test_direction(), direction_plan(cfg.data)
    if base not in plan.trained:
        raise ConfigError(f"data.directions: it trains {', '.join(d.name for d in plan.trained)} but not "
                          f"{base.name}, the base config's direction (data.src_lang -> data.tgt_lang), on whose "
                          "test split every run is scored; add it to data.directions")


def _strategies(spec: ExperimentFile, where: str) -> dict[str, dict[str, Any]]:
    if not spec.strategies:
        raise ConfigError(f"{where}: strategies: expected {_STRATEGIES}")
    given = spec.strategies
    if isinstance(given, list):  # library names, taken as they are
        given = {str(n): {"from": n} for n in given}
    out = {}
    for name, override in given.items():
        partial = resolve_strategy(str(name), override, f"{where}: strategies")
        _check_strategy(str(name), partial, where)
        out[str(name)] = partial
    return out


def _int_list(value: Any, where: str, key: str, allow_all: bool) -> list[int | None]:
    """sizes (positive, or None for `all`) and seeds (non-negative): at least one, no duplicates."""
    out: list[int | None] = []
    for v in value if isinstance(value, list) else [value]:
        if allow_all and (v is None or (isinstance(v, str) and v.lower() == "all")):
            out.append(None)
        elif isinstance(v, int) and not isinstance(v, bool) and v >= (1 if allow_all else 0):
            out.append(v)
        else:
            accepted = _SIZES if allow_all else "non-negative integers"
            raise ConfigError(f"{where}: {key}: {v!r} is not valid; expected {accepted}")
    if not out:
        raise ConfigError(f"{where}: {key}: give at least one value")
    if len(set(out)) != len(out):
        raise ConfigError(f"{where}: {key}: {out} has duplicates")
    return out


def _grid(spec: ExperimentFile, base: dict[str, Any], where: str) -> tuple[list[int | None], list[int]]:
    """The sizes (ascending, `all` last) and the seeds (default: the base's training.seed)."""
    sizes = _int_list(spec.sizes, where, "sizes", allow_all=True)
    base_training = base.get("training") if isinstance(base.get("training"), dict) else {}
    seeds = spec.seeds if spec.seeds is not None else [base_training.get("seed", 42)]
    return (sorted(sizes, key=lambda n: float("inf") if n is None else n),
            _int_list(seeds, where, "seeds", allow_all=False))


def _size_of(key: Any, sizes: list[int | None], where: str, path: str) -> int | None:
    """A size named as a mapping key (``1000``, ``"1000"``, ``all``), which must be one of ``sizes``."""
    if key is None or (isinstance(key, str) and key.lower() == "all"):
        n = None
    elif isinstance(key, int) and not isinstance(key, bool):
        n = key
    elif isinstance(key, str) and key.isdigit():
        n = int(key)
    else:
        raise ConfigError(f"{where}: {path}: {key!r} is not a size; expected one of `sizes` or all")
    if n not in sizes:
        named = ", ".join("all" if x is None else str(x) for x in sizes)
        raise ConfigError(f"{where}: {path}: size {key!r} is not in `sizes` ({named}); add it there or remove it")
    return n


def _budget(spec: ExperimentFile, sizes: list[int | None], where: str) -> dict[str, Any]:
    """The budget keys the file sets, its ``per_size`` sections validated like the budget and keyed by size."""
    budget = spec.budget.given()
    per = budget.pop("per_size", None)
    if per is None:
        return budget
    out: dict[int | None, dict[str, Any]] = {}
    for key, raw in per.items():
        path = f"budget.per_size.{key}"
        b: Budget = build_dataclass(Budget, raw, path=path, source=where)
        if b.per_size is not None:
            raise ConfigError(f"{where}: {path}.per_size: per_size sections do not nest; give the keys directly")
        b.check(where, path)
        out[_size_of(key, sizes, where, "budget.per_size")] = b.given()
    return {**budget, "per_size": out}


def _seeds_per_size(spec: ExperimentFile, sizes: list[int | None], seeds: list[int],
                    where: str) -> tuple[dict[int | None, list[int]], list[int]]:
    """``seeds_per_size``: size -> its seeds; and every seed of the grid, ``seeds`` first."""
    out: dict[int | None, list[int]] = {}
    for key, raw in (spec.seeds_per_size or {}).items():
        n = _size_of(key, sizes, where, "seeds_per_size")
        out[n] = [int(sd) for sd in _int_list(raw, where, f"seeds_per_size.{key}", allow_all=False)]
    every = list(seeds) + [sd for n in out for sd in out[n] if sd not in seeds]
    return out, list(dict.fromkeys(every))


def _size_overrides(spec: ExperimentFile, sizes: list[int | None], where: str) -> dict[int | None, dict[str, Any]]:
    """``size_overrides``: size -> partial config, with the same limits as a strategy."""
    out = {}
    for key, raw in (spec.size_overrides or {}).items():
        n = _size_of(key, sizes, where, "size_overrides")
        _check_strategy(str(key), raw, where, what="size_overrides")
        out[n] = raw
    return out


def _cuts(spec: ExperimentFile, strategies: dict[str, Any], sizes: list[int | None], seeds: list[int],
          where: str) -> list[Cut]:
    """``cut:``: each entry's patterns, sizes and seeds must name parts of the grid, and it must say why."""
    out = []
    for i, raw in enumerate(spec.cut or []):
        path = f"cut[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: {path}: expected a mapping such as `{{strategies: [bytes], sizes: [all], "
                              f"reason: ...}}`, got {type(raw).__name__}")
        unknown = sorted(set(raw) - {"strategies", "sizes", "seeds", "reason"})
        if unknown:
            raise ConfigError(f"{where}: {path}: unknown key {unknown[0]!r}; expected strategies, sizes, seeds, reason")
        reason = raw.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: {path}: give its `reason:` (a cut without a reason is not allowed: the "
                              "report shows it beside the cut cells)")
        pats = raw.get("strategies")
        if pats is not None:
            pats = [str(p) for p in (pats if isinstance(pats, list) else [pats])]
            for p in pats:
                if not fnmatch.filter(strategies, p):
                    raise ConfigError(f"{where}: {path}.strategies: {p!r} matches none of the experiment's "
                                      f"strategies ({', '.join(strategies)})")
        cut_sizes = None if raw.get("sizes") is None else \
            [_size_of(k, sizes, where, f"{path}.sizes") for k in (raw["sizes"] if isinstance(raw["sizes"], list)
                                                                 else [raw["sizes"]])]
        cut_seeds = None if raw.get("seeds") is None else \
            _int_list(raw["seeds"], where, f"{path}.seeds", allow_all=False)
        for sd in cut_seeds or []:
            if sd not in seeds:
                raise ConfigError(f"{where}: {path}.seeds: seed {sd} is not one of the grid's seeds "
                                  f"({', '.join(map(str, seeds))})")
        out.append(Cut(tuple(pats) if pats is not None else None,
                       tuple(cut_sizes) if cut_sizes is not None else None,
                       tuple(int(s) for s in cut_seeds) if cut_seeds is not None else None, reason.strip()))
    return out


def _check_configs(exp: Experiment) -> None:
    """Every run must train for a budget, and every strategy must make a valid config, before anything trains."""
    base_training = exp.base.get("training") if isinstance(exp.base.get("training"), dict) else {}
    if not exp.budget and not any(base_training.get(k) is not None for k in BUDGET_KEYS):
        raise ConfigError(f"{exp.source}: no budget; set e.g. `budget: {{max_steps: 2000}}` (or max_minutes / "
                          "max_epochs) so that every run trains for the same budget")
    seed = exp.seeds[0]
    for size in exp.sizes:  # budgets and size overrides can differ per size: every size is checked
        at = "" if len(exp.sizes) == 1 else f" (at size {'all' if size is None else size})"
        try:
            config_from_dict(exp.raw_config(None, size, seed))
            base_error = None
        except ConfigError as e:
            base_error = str(e)
        for name in exp.strategies:
            try:
                _check_directions(exp, config_from_dict(exp.raw_config(name, size, seed)))
            except ConfigError as e:
                if str(e) == base_error:  # the base is at fault, not the strategy
                    raise ConfigError(f"{exp.source}: the base config is invalid: {e} (strategy {name!r} "
                                      f"inherits it){at}") from None
                raise ConfigError(f"{exp.source}: strategy {name!r} makes an invalid config: {e}{at}") from None


def load_experiment(source: str | Path | dict, output_dir: str | Path | None = None) -> Experiment:
    """Read and validate an experiment (a YAML file, an output folder holding experiment.yaml, or a dict)."""
    src = _read_source(source)
    where = src.where
    spec: ExperimentFile = build_dataclass(ExperimentFile, src.raw, source=where)
    name = src.default_name if spec.name is None else spec.name
    if not _NAME_RE.match(name):
        raise ConfigError(f"{where}: name: {name!r} {_NAME_RULE}")
    spec.budget.check(where)
    spec.report.check(where)
    base = _resolve_base(spec, src)
    strategies = _strategies(spec, where)
    sizes, seeds = _grid(spec, base, where)
    seeds_per_size, seeds = _seeds_per_size(spec, sizes, seeds, where)
    out = output_dir or src.folder or spec.output_dir or f"runs/compare/{name}"
    exp = Experiment(name=name, base=base, strategies=strategies, sizes=sizes, seeds=seeds,
                     seeds_per_size=seeds_per_size, budget=_budget(spec, sizes, where), size_overrides=_size_overrides(spec, sizes, where),
                     output_dir=Path(out), report=spec.report,
                     description=spec.description or "", source=where)
    exp.cuts = _cuts(spec, strategies, sizes, seeds, where)
    for c in exp.cuts:
        if not any(c.covers(r) for r in exp.stated_runs()):
            raise ConfigError(f"{where}: cut: the entry with reason {c.reason!r} covers no cell of the grid "
                              "(its strategies, sizes and seeds never meet); fix or remove it")
    if exp.cuts and not exp.runs():
        raise ConfigError(f"{where}: cut: every cell of the grid is cut; nothing would train")
    _check_configs(exp)
    return exp
