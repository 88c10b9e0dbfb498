"""Tests for vectorseq/compare/significance.py: the paired bootstrap test and its verdicts."""
from __future__ import annotations

import random

from vectorseq.compare import paired_bootstrap, verdict
from vectorseq.compare.significance import seeded_bootstrap, winner


def _corpus(n: int = 200, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = "the a cat dog sat ran on under mat house red big small quickly today".split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(5, 12))) for _ in range(n)]


def test_identical_systems_are_not_significantly_different():
    refs = _corpus()
    rng = random.Random(1)
    hyps = [" ".join(w for w in r.split() if rng.random() > 0.3) for r in refs]
    res = paired_bootstrap(hyps, list(hyps), refs, name_a="A", name_b="B")
    assert res.delta == 0 and res.p_value == 1.0 and not res.significant()
    assert verdict(res, "at 3,000 pairs") == "no significant difference between A and B at 3,000 pairs (p = 1.00)"


def test_clearly_better_system_is_significantly_better():
    refs = _corpus()
    rng = random.Random(2)
    good = [" ".join(w for w in r.split() if rng.random() > 0.1) for r in refs]
    bad = [" ".join(w for w in r.split() if rng.random() > 0.5) for r in refs]
    res = paired_bootstrap(bad, good, refs, name_a="learned", name_b="glove_finetune", n_samples=1000, seed=7)
    assert res.delta < 0 and res.p_value < 0.05 and res.ci_high < 0
    text = verdict(res, "at 3,000 pairs")
    assert text.startswith(f"glove_finetune beats learned by {abs(res.delta):.1f} BLEU at 3,000 pairs (p <")
    # seeded: the same answer every time
    assert paired_bootstrap(bad, good, refs, n_samples=1000, seed=7).p_value == res.p_value


def test_small_differences_on_noisy_outputs_are_not_significant():
    refs = _corpus(300, seed=3)
    rng = random.Random(4)
    a = [" ".join(w for w in r.split() if rng.random() > 0.4) for r in refs]
    b = list(a)
    b[0], b[1] = refs[0], ""  # one sentence better, one worse
    res = paired_bootstrap(a, b, refs)
    assert res.p_value > 0.05 and verdict(res).startswith("no significant difference between A and B (p =")


def _drop(refs: list[str], keep: float, seed: int) -> list[str]:
    """A system that keeps each reference word with probability ``keep`` (its own noise per seed)."""
    rng = random.Random(seed)
    return [" ".join(w for w in r.split() if rng.random() < keep) for r in refs]


def test_several_seeds_identical_systems_tie_and_a_clearly_better_system_wins():
    refs = _corpus()
    seeds = [1, 2, 3]
    a = [_drop(refs, 0.6, s) for s in seeds]
    same = seeded_bootstrap(a, [list(h) for h in a], refs, name_a="A", name_b="B", seed_numbers=seeds)
    assert (same.delta, same.p_value, same.seeds, same.seed_numbers) == (0.0, 1.0, 3, seeds)
    better = [_drop(refs, 0.9, 10 + s) for s in seeds]
    res = seeded_bootstrap(a, better, refs, name_a="A", name_b="C")
    assert res.seeds == 3 and res.delta < -5 and res.p_value < 0.01 and res.ci_high < 0
    # the observed difference is the difference of the seeds' mean corpus BLEU
    means = [sum(paired_bootstrap(x, y, refs).score_a for x, y in zip(s, s)) / 3 for s in (a, better)]
    assert abs(res.delta - round(means[0] - means[1], 2)) < 0.011
    tests = {("C", "A"): res, ("C", "B"): seeded_bootstrap(better, a, refs, name_a="C", name_b="B")}
    assert winner(["C", "A", "B"], tests)["winner"] == "C"
    # A and B identical, C significantly worse than A: A and B tie
    worse = seeded_bootstrap(better, a, refs, name_a="A", name_b="C")
    tie = winner(["A", "B", "C"], {("A", "B"): same, ("A", "C"): worse})
    assert tie["winner"] is None and tie["tied"] == ["A", "B"] and tie["beaten_by"] == []


def test_a_difference_one_seed_shows_and_another_reverses_is_not_significant():
    """One seed of A is much better, the other much worse: over sentences alone each seed looks significant,
    but with the seeds resampled the verdict is no significant difference."""
    refs = _corpus(300, seed=5)
    a = [_drop(refs, 0.9, 1), _drop(refs, 0.5, 2)]
    b = [_drop(refs, 0.5, 3), _drop(refs, 0.9, 4)]
    assert paired_bootstrap(a[0], b[0], refs).significant() and paired_bootstrap(a[1], b[1], refs).significant()
    assert not seeded_bootstrap(a, b, refs).significant()


def test_a_system_without_a_test_against_the_best_is_neither_tied_nor_beaten():
    refs = _corpus()
    a = [_drop(refs, 0.6, 1)]
    same = seeded_bootstrap(a, [list(h) for h in a], refs, name_a="A", name_b="B")
    w = winner(["A", "B", "C"], {("A", "B"): same})  # C: no seed with translations on both sides
    assert (w["winner"], w["tied"], w["untested"]) == (None, ["A", "B"], ["C"])
    w = winner(["C", "A", "B"], {("A", "B"): same})  # the best mean has no test at all: no verdict
    assert (w["winner"], w["tied"], w["untested"], w["result"]) == (None, [], ["A", "B"], None)


def test_the_best_mean_significantly_beaten_on_the_common_seeds_does_not_win():
    """Unequal seeds: C has the best mean over its one seed, but A beats it on that seed (A's second seed pulls
    its mean down). Neither wins; the result names the test that contradicts the ranking."""
    refs = _corpus()
    a_seed1 = [_drop(refs, 0.9, 1)]
    c_seed1 = [_drop(refs, 0.6, 2)]
    a_over_c = seeded_bootstrap(a_seed1, c_seed1, refs, name_a="A", name_b="C", seed_numbers=[1])
    assert a_over_c.significant() and a_over_c.delta > 0
    w = winner(["C", "A"], {("A", "C"): a_over_c})
    assert (w["winner"], w["tied"], w["beaten_by"], w["result"]) == (None, [], ["A"], a_over_c)
    # stored the other way round (C as A of the test, a negative delta): the same verdict
    c_vs_a = seeded_bootstrap(c_seed1, a_seed1, refs, name_a="C", name_b="A", seed_numbers=[1])
    assert winner(["C", "A"], {("C", "A"): c_vs_a})["beaten_by"] == ["A"]
    assert winner(["A", "C"], {("C", "A"): c_vs_a})["winner"] == "A"
