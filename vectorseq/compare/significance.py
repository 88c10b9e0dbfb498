"""Paired significance of a BLEU difference: paired bootstrap resampling over sentence statistics.

Why not ``sacrebleu.significance.PairedTest``? sacreBLEU 2.x does expose a paired bootstrap test
(``PairedTest(named_systems, metrics, references, test_type="bs")``), but it counts resamples whose centred
difference is *strictly greater* than the observed one, so two identical systems get
``p = 1 / (n + 1)`` (0.001 with 1000 samples), i.e. a "significant" difference of 0 BLEU. It also needs a
baseline-vs-systems layout and prints through a logger. We therefore run the same test ourselves, on the
same sufficient statistics sacreBLEU uses:

1. every sentence's BLEU statistics (hypothesis/reference lengths, matched and total n-grams for n = 1..4)
   are extracted once with sacreBLEU's own :class:`~sacrebleu.metrics.BLEU` (default 13a tokenization, cased,
   exponential smoothing: the same BLEU as :func:`vectorseq.evaluation.score`);
2. ``n_samples`` (default 1000) resamples of the test sentences are drawn with replacement from a seeded
   generator; the *same* resample is used for both systems (that is what makes the test paired);
3. on every resample, corpus BLEU of A and of B is recomputed from the summed statistics and the difference
   ``d_i = BLEU_A - BLEU_B`` recorded;
4. the two-sided p-value is the share of centred resampled differences at least as extreme as the observed
   one: ``p = (1 + #{i : |d_i - mean(d)| >= |d_obs|}) / (n_samples + 1)`` (Koehn 2004; the centring follows
   Moses' ``bootstrap-hypothesis-difference-significance.pl`` and sacreBLEU). Identical outputs give
   ``d_obs = 0`` and every ``d_i = 0``, hence ``p = 1``.

The 95% interval of the difference is the 2.5th-97.5th percentile range of ``d_i``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from sacrebleu.metrics import BLEU, CHRF

DEFAULT_SAMPLES = 1000
DEFAULT_SEED = 12345


@dataclass
class PairedResult:
    """The outcome of one paired test of system A against system B on the same test sentences."""

    name_a: str
    name_b: str
    score_a: float  # corpus BLEU of A
    score_b: float
    delta: float  # score_a - score_b
    ci_low: float  # 95% interval of the resampled difference
    ci_high: float
    p_value: float
    n_samples: int
    sentences: int
    metric: str = "BLEU"

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


def paired_bootstrap(hyps_a: Sequence[str], hyps_b: Sequence[str], references: Sequence[str], *,
                     name_a: str = "A", name_b: str = "B", n_samples: int = DEFAULT_SAMPLES,
                     seed: int = DEFAULT_SEED, metric: str = "bleu") -> PairedResult:
    """Paired bootstrap test of ``hyps_a`` against ``hyps_b`` (see the module docstring)."""
    hyps_a, hyps_b, refs = list(hyps_a), list(hyps_b), list(references)
    if not (len(hyps_a) == len(hyps_b) == len(refs)):
        raise ValueError(f"paired test needs aligned outputs: {len(hyps_a)} and {len(hyps_b)} hypotheses, "
                         f"{len(refs)} references")
    if not refs:
        raise ValueError("paired test needs at least one test sentence")
    m = _metric(metric)
    label = "BLEU" if metric.lower() == "bleu" else "chrF"
    full_a = m.corpus_score(hyps_a, [refs]).score
    full_b = m.corpus_score(hyps_b, [refs]).score
    delta = full_a - full_b
    n = len(refs)
    if hyps_a == hyps_b:  # identical outputs: no resample can differ
        return PairedResult(name_a, name_b, round(full_a, 2), round(full_b, 2), 0.0, 0.0, 0.0, 1.0,
                            n_samples, n, label)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_samples, n))
    if hasattr(m, "_extract_corpus_statistics") and hasattr(m, "_compute_score_from_stats"):
        counts = np.stack([np.bincount(row, minlength=n) for row in idx]).astype(np.float64)  # [S, n]
        sa = _scores_from_stats(m, counts @ _sentence_stats(m, hyps_a, refs))
        sb = _scores_from_stats(m, counts @ _sentence_stats(m, hyps_b, refs))
    else:  # pragma: no cover - a sacreBLEU without the statistics API: slow but equivalent
        sa = np.array([m.corpus_score([hyps_a[i] for i in r], [[refs[i] for i in r]]).score for r in idx])
        sb = np.array([m.corpus_score([hyps_b[i] for i in r], [[refs[i] for i in r]]).score for r in idx])
    d = sa - sb
    extreme = np.abs(d - d.mean()) >= abs(delta) - 1e-9
    p = (1 + int(extreme.sum())) / (n_samples + 1)
    lo, hi = np.percentile(d, [2.5, 97.5])
    return PairedResult(name_a, name_b, round(full_a, 2), round(full_b, 2), round(delta, 2), round(float(lo), 2),
                        round(float(hi), 2), round(p, 4), n_samples, n, label)


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
