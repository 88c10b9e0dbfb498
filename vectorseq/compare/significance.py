"""Paired significance of a BLEU difference that accounts for seeds: a paired bootstrap over test sentences and
seeds, on sentence statistics.

Why this test? A comparison trains every strategy with the same seeds (1 to 3 of them, rarely more). A test on
per-seed scores alone (a paired t-test over seeds) has almost no power with 2-3 seeds and ignores how much
the test set itself decides; a bootstrap over the sentences of one seed ignores that another seed can rank
the systems differently. So we resample both, keeping every pairing:

1. every sentence's BLEU statistics (hypothesis/reference lengths, matched and total n-grams for n = 1..4) are
   extracted once per system and seed with sacreBLEU's own :class:`~sacrebleu.metrics.BLEU` (default 13a
   tokenization, cased, exponential smoothing: the same BLEU as :func:`vectorseq.evaluation.score`);
2. ``n_samples`` (default 1000) resamples of the test sentences are drawn with replacement from a seeded
   generator; the *same* resample serves every system and seed (that is what makes the test paired);
3. on every resample, each seed's corpus BLEU of A and of B is recomputed from the summed statistics; with
   ``k >= 2`` seeds, ``k`` seeds are also drawn with replacement (a seed of A is always paired with the same
   seed number of B: they trained on the same subset), and the resampled difference ``d_i`` is the mean over
   the drawn seeds of ``BLEU_A,seed - BLEU_B,seed``. With one seed this is Koehn's (2004) paired bootstrap;
4. the observed difference ``d_obs`` is the difference of the mean corpus BLEU over the seeds; the two-sided
   p-value is the share of centred resampled differences at least as extreme:
   ``p = (1 + #{i : |d_i - mean(d)| >= |d_obs|}) / (n_samples + 1)`` (the centring follows Moses'
   ``bootstrap-hypothesis-difference-significance.pl`` and sacreBLEU). Identical outputs give ``d_obs = 0``
   and every ``d_i = 0``, hence ``p = 1``. Seeds that disagree widen the spread of ``d_i``, so a difference
   that one seed shows and another does not is not called significant.

Why not ``sacrebleu.significance.PairedTest``? It counts resamples whose centred difference is *strictly
greater* than the observed one, so two identical systems get ``p = 1 / (n + 1)`` (a "significant" difference
of 0 BLEU); it also knows nothing of seeds and prints through a logger.

The 95% interval of the difference is the 2.5th-97.5th percentile range of ``d_i``. :func:`winner` names the
best system of a group and whether it is significantly better than the runner-up.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
from sacrebleu.metrics import BLEU, CHRF

DEFAULT_SAMPLES = 1000
DEFAULT_SEED = 12345


@dataclass
class PairedResult:
    """The outcome of one paired test of system A against system B on the same test sentences (and seeds)."""

    name_a: str
    name_b: str
    score_a: float  # corpus BLEU of A (the mean over seeds)
    score_b: float
    delta: float  # score_a - score_b
    ci_low: float  # 95% interval of the resampled difference
    ci_high: float
    p_value: float
    n_samples: int
    sentences: int
    metric: str = "BLEU"
    seeds: int = 1  # seed pairs tested
    seed_numbers: list[int] = field(default_factory=list)  # which, when known

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha

    def to_dict(self) -> dict:
        return asdict(self)


def _metric(name: str):
    if name.lower() == "bleu":
        return BLEU()
    if name.lower() == "chrf":
        return CHRF()
    raise ValueError(f"unknown metric {name!r}; use 'bleu' or 'chrf'")


def _sentence_stats(metric, hyps: list[str], refs: list[str]) -> np.ndarray:
    return np.asarray(metric._extract_corpus_statistics(hyps, [refs]), dtype=np.float64)


def _scores_from_stats(metric, stats: np.ndarray) -> np.ndarray:
    return np.array([metric._compute_score_from_stats(row.tolist()).score for row in stats])


class Resampler:
    """The sentence resamples of one test set, and each system's corpus and resampled scores, computed once per
    system output (a report tests every pair of strategies on the same resamples)."""

    def __init__(self, references: Sequence[str], n_samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                 metric: str = "bleu"):
        self.refs = list(references)
        if not self.refs:
            raise ValueError("paired test needs at least one test sentence")
        self.metric, self.label = _metric(metric), "BLEU" if metric.lower() == "bleu" else "chrF"
        self.n_samples, self.seed = n_samples, seed
        n = len(self.refs)
        idx = np.random.default_rng(seed).integers(0, n, size=(n_samples, n))
        self.counts = np.stack([np.bincount(row, minlength=n) for row in idx]).astype(np.float64)  # [S, n]
        self._corpus: dict[tuple, float] = {}
        self._resampled: dict[tuple, np.ndarray] = {}

    def check(self, hyps: Sequence[str], other: Sequence[str]) -> None:
        if not (len(hyps) == len(other) == len(self.refs)):
            raise ValueError(f"paired test needs aligned outputs: {len(hyps)} and {len(other)} hypotheses, "
                             f"{len(self.refs)} references")

    def corpus(self, hyps: Sequence[str]) -> float:
        key = tuple(hyps)
        if key not in self._corpus:
            self._corpus[key] = self.metric.corpus_score(list(hyps), [self.refs]).score
        return self._corpus[key]

    def resampled(self, hyps: Sequence[str]) -> np.ndarray:
        """The corpus score of ``hyps`` on every resample: [n_samples]."""
        key = tuple(hyps)
        if key not in self._resampled:
            self._resampled[key] = _scores_from_stats(self.metric,
                                                      self.counts @ _sentence_stats(self.metric, list(hyps), self.refs))
        return self._resampled[key]


def _seed_draws(per_seed: np.ndarray, seed: int) -> np.ndarray:
    """Per resample, the mean difference over ``k`` seeds drawn with replacement (pairs kept): [S]."""
    k, s = per_seed.shape
    draw = np.random.default_rng((seed, k)).integers(0, k, size=(s, k))  # its own stream: seeds of any count
    return per_seed[draw, np.arange(s)[:, None]].mean(axis=1)


def seeded_bootstrap(hyps_a: Sequence[Sequence[str]], hyps_b: Sequence[Sequence[str]], references: Sequence[str],
                     *, name_a: str = "A", name_b: str = "B", n_samples: int = DEFAULT_SAMPLES,
                     seed: int = DEFAULT_SEED, metric: str = "bleu", seed_numbers: Sequence[int] = (),
                     resampler: Resampler | None = None) -> PairedResult:
    """Paired bootstrap of A against B over test sentences and seeds (see the module docstring).

    ``hyps_a[k]`` and ``hyps_b[k]``: the test translations of seed ``k`` (the same seed number for both).
    ``resampler``: shared resamples of ``references`` (then ``n_samples``, ``seed``, ``metric`` are its own).
    """
    a, b = [list(h) for h in hyps_a], [list(h) for h in hyps_b]
    if not a or len(a) != len(b):
        raise ValueError(f"paired test needs the same seeds for both systems: {len(a)} and {len(b)} outputs")
    rs = resampler or Resampler(references, n_samples, seed, metric)
    for x, y in zip(a, b):
        rs.check(x, y)
    full_a = float(np.mean([rs.corpus(h) for h in a]))
    full_b = float(np.mean([rs.corpus(h) for h in b]))
    delta = full_a - full_b
    head = (name_a, name_b, round(full_a, 2), round(full_b, 2))
    tail = dict(n_samples=rs.n_samples, sentences=len(rs.refs), metric=rs.label, seeds=len(a),
                seed_numbers=list(seed_numbers))
    if a == b:  # identical outputs: no resample can differ
        return PairedResult(*head, 0.0, 0.0, 0.0, 1.0, **tail)
    per_seed = np.stack([rs.resampled(x) - rs.resampled(y) for x, y in zip(a, b)])  # [k, S]
    d = per_seed[0] if len(a) == 1 else _seed_draws(per_seed, rs.seed)
    extreme = np.abs(d - d.mean()) >= abs(delta) - 1e-9
    p = (1 + int(extreme.sum())) / (rs.n_samples + 1)
    lo, hi = np.percentile(d, [2.5, 97.5])
    return PairedResult(*head, round(delta, 2), round(float(lo), 2), round(float(hi), 2), round(p, 4), **tail)


def paired_bootstrap(hyps_a: Sequence[str], hyps_b: Sequence[str], references: Sequence[str], *,
                     name_a: str = "A", name_b: str = "B", n_samples: int = DEFAULT_SAMPLES,
                     seed: int = DEFAULT_SEED, metric: str = "bleu") -> PairedResult:
    """Paired bootstrap test of ``hyps_a`` against ``hyps_b``, one seed each (Koehn 2004)."""
    return seeded_bootstrap([hyps_a], [hyps_b], references, name_a=name_a, name_b=name_b, n_samples=n_samples,
                            seed=seed, metric=metric)


def format_p(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return "p < 0.01"
    return f"p = {p:.2f}"


def verdict(result: PairedResult, where: str = "", alpha: float = 0.05) -> str:
    """A plain-language sentence, e.g. ``glove_finetune beats learned by 4.1 BLEU at 3000 pairs (p < 0.01)``."""
    at = f" {where}" if where else ""
    if result.significant(alpha) and result.delta != 0:
        win, lose = (result.name_a, result.name_b) if result.delta > 0 else (result.name_b, result.name_a)
        return f"{win} beats {lose} by {abs(result.delta):.1f} {result.metric}{at} ({format_p(result.p_value)})"
    return f"no significant difference between {result.name_a} and {result.name_b}{at} ({format_p(result.p_value)})"


def winner(ranked: Sequence[str], tests: dict[tuple[str, str], PairedResult], alpha: float = 0.05) -> dict:
    """The winner of a group of systems: ``ranked`` best mean score first, ``tests[(a, b)]`` their paired tests.

    Returns ``{"winner": NAME or None, "tied": [names], "untested": [names], "beaten_by": [names], "result": the
    test the verdict rests on or None}``: the best system wins when it is significantly better than the runner-up;
    otherwise ``winner`` is None and ``tied`` lists every system not significantly worse than the best.
    ``untested``: the systems without a test against the best (no seed both have translations of), neither tied
    nor beaten. ``beaten_by``: systems significantly better than the best on the seeds both finished (the best's
    mean is over more seeds, or other ones): then nobody wins and nobody is tied.
    """
    if not ranked:
        return {"winner": None, "tied": [], "untested": [], "beaten_by": [], "result": None}
    best = ranked[0]

    def test(other: str) -> PairedResult | None:
        return tests.get((best, other)) or tests.get((other, best))

    def lead(t: PairedResult) -> float:  # best minus the other, whichever way round the test was stored
        return t.delta if t.name_a == best else -t.delta

    untested = [s for s in ranked[1:] if test(s) is None]
    tested = [s for s in ranked[1:] if s not in untested]
    out = {"winner": None, "tied": [], "untested": untested, "beaten_by": [], "result": None}
    if not tested:
        return {**out, "winner": best if len(ranked) == 1 else None}
    beaten_by = [s for s in tested if test(s).significant(alpha) and lead(test(s)) < 0]
    if beaten_by:
        return {**out, "beaten_by": beaten_by, "result": test(beaten_by[0])}
    first = test(tested[0])
    if first.significant(alpha) and lead(first) > 0:
        return {**out, "winner": best, "result": first}
    tied = [best] + [s for s in tested if not (test(s).significant(alpha) and lead(test(s)) > 0)]
    return {**out, "tied": tied, "result": first}
