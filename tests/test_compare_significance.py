"""Tests for vectorseq/compare/significance.py: the paired bootstrap test and its verdicts."""
from __future__ import annotations

import random

from vectorseq.compare import paired_bootstrap, verdict


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
