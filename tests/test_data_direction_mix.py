"""Temperature sampling over directions: the mix matches its target, is reproducible, DDP-consistent, resumable."""
from __future__ import annotations

import numpy as np
import pytest

from vectorseq.data.batch_source import InMemorySource
from vectorseq.data.direction_mix import DirectionMixSource
from vectorseq.data.directions import temperature_probabilities
from vectorseq.errors import VectorseqError
from vectorseq.text.language_tags import Tagging

SIZES = (4000, 1000, 250)  # a large, a middle and a small direction


def _mix(temperature: float, seed: int = 0) -> DirectionMixSource:
    rng = np.random.default_rng(5)
    sources = []
    for d, n in enumerate(SIZES):  # ids 10+d mark the direction; lengths 3..12
        src = [np.full(rng.integers(3, 13), 10 + d) for _ in range(n)]
        tgt = [np.full(rng.integers(3, 13), 10 + d) for _ in range(n)]
        sources.append(InMemorySource(src, tgt, batch_tokens=60, seed=seed, tagging=Tagging(src_prefix=100 + d)))
    return DirectionMixSource(sources, ["en-de", "en-fr", "en-cs"], temperature, seed)


def test_temperature_probabilities():
    assert np.allclose(temperature_probabilities(SIZES, 1.0), np.array(SIZES) / sum(SIZES))
    assert np.allclose(temperature_probabilities(SIZES, 1e6), 1 / 3, atol=1e-4)
    p5 = temperature_probabilities(SIZES, 5.0)
    assert p5[2] > SIZES[2] / sum(SIZES) and np.isclose(p5.sum(), 1)
    with pytest.raises(VectorseqError):
        temperature_probabilities([10, 0], 1.0)


@pytest.mark.parametrize("temperature", [1.0, 5.0, 100.0])
def test_the_mix_over_many_batches_matches_its_target(temperature):
    source = _mix(temperature)
    counts = np.zeros(3)
    for epoch in range(1, 4):
        for update in source.updates(epoch, 0, 0, 1, 1):
            (batch,) = update
            tags = batch.src[:, 0].unique().tolist()
            assert len(tags) == 1  # a batch holds one direction, its tag before every source
            counts[tags[0] - 100] += 1
            assert (batch.src[:, 1] == tags[0] - 90).all()  # and that direction's sentences
    share = counts / counts.sum()
    target = temperature_probabilities(SIZES, temperature)
    assert np.abs(share - target).max() < 0.03, (share, target)


def test_reproducible_resumable_and_the_same_across_processes():
    a, b = _mix(5.0), _mix(5.0)
    first = [u[0].src for u in a.updates(2, 0, 0, 1, 2)]
    again = [u[0].src for u in b.updates(2, 0, 0, 1, 2)]
    assert all(x.equal(y) for x, y in zip(first, again)) and len(first) == len(again)
    resumed = [u[0].src for u in b.updates(2, 7, 0, 1, 2)]
    assert all(x.equal(y) for x, y in zip(first[7:], resumed))
    # world 2 x accumulate 1 sees per update the batches world 1 x accumulate 2 sees
    one = list(a.updates(3, 0, 0, 1, 2))
    r0, r1 = list(a.updates(3, 0, 0, 2, 1)), list(a.updates(3, 0, 1, 2, 1))
    assert len(one) == len(r0) == len(r1)
    for u in range(len(one)):
        assert one[u][0].src.equal(r0[u][0].src) and one[u][1].src.equal(r1[u][0].src)
    assert not _mix(5.0).draws(2, 50).tolist() == _mix(5.0, seed=1).draws(2, 50).tolist()
    assert not a.draws(2, 50).tolist() == a.draws(3, 50).tolist()
