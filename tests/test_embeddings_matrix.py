"""Tests of vectorseq.embeddings.matrix: the case fallbacks' order and the OOV rows' distribution."""
from __future__ import annotations

import numpy as np
import pytest

from _vectors import SPECIALS, write
from vectorseq.embeddings.matrix import build_matrix
from vectorseq.embeddings.scan import SAMPLE_SIZE
from vectorseq.errors import ConfigError


def test_fallback_order(tmp_path):
    p = write(tmp_path / "f.txt", "apple 1 0\nApple 2 0\nAPPLE 3 0\nbanana 4 0\nCHERRY 5 0\n")
    vocab = ["aPPle", "Banana", "cherry", "apple", "kiwi"]
    pm = build_matrix(p, vocab, cache_dir=False, specials=())
    assert pm.how == ["lower", "lower", "upper", "exact", "random"]
    assert pm.matrix[:4, 0].tolist() == [1, 4, 5, 1]
    pm = build_matrix(p, vocab, cache_dir=False, specials=(), fallbacks=("title", "upper", "lower"))
    assert pm.how[:2] == ["title", "lower"] and pm.matrix[0, 0] == 2
    pm = build_matrix(p, vocab, cache_dir=False, specials=(), fallbacks=())
    assert pm.how == ["random", "random", "random", "exact", "random"]
    with pytest.raises(ConfigError, match="unknown fallback"):
        build_matrix(p, vocab, cache_dir=False, fallbacks=("casefold",))


def _gaussian_file(tmp_path, n=3000, dim=4, seed=1):
    rng = np.random.default_rng(seed)
    mu, sigma = np.array([1.0, -2.0, 0.5, 3.0]), np.array([0.5, 2.0, 1.0, 0.1])
    rows = (rng.standard_normal((n, dim)) * sigma + mu).astype(np.float32)
    text = "".join(f"w{i} {' '.join(repr(float(x)) for x in row)}\n" for i, row in enumerate(rows))
    return write(tmp_path / "g.txt", text), rows, mu, sigma


def test_oov_rows_random_with_matched_moments(tmp_path):
    p, rows, mu, sigma = _gaussian_file(tmp_path)
    vocab = SPECIALS + [f"w{i}" for i in range(0, 3000, 3)] + [f"oov{i}" for i in range(5000)]
    pm = build_matrix(p, vocab, cache_dir=False, seed=7)
    assert pm.stats["moments_from"] == "matched"
    matched = pm.matrix[pm.pretrained_mask]
    oov = pm.matrix[[i for i, h in enumerate(pm.how) if h == "random"]]
    assert len(matched) == 1000 and len(oov) == 5000
    assert (np.abs(oov.mean(0) - matched.mean(0)) <= 4 * sigma / np.sqrt(1000) + 0.02).all()
    np.testing.assert_allclose(oov.std(0), matched.std(0), rtol=0.08)
    np.testing.assert_allclose(pm.stats["oov_mean"], matched.astype(np.float64).mean(0), rtol=1e-6)
    assert (np.abs(oov).sum(1) > 0).all()
    assert (pm.matrix[0] == 0).all() and pm.how[0] == "pad" and not pm.pretrained_mask[0]
    for i in (1, 2, 3):
        assert pm.how[i] == "special" and np.abs(pm.matrix[i]).sum() > 0
    assert len({tuple(pm.matrix[i]) for i in (1, 2, 3)}) == 3
    again = build_matrix(p, vocab, cache_dir=False, seed=7)
    np.testing.assert_array_equal(again.matrix, pm.matrix)
    other = build_matrix(p, vocab, cache_dir=False, seed=8)
    assert not np.array_equal(other.matrix, pm.matrix)
    zeros = build_matrix(p, vocab, cache_dir=False, oov="zeros")
    assert zeros.how[-1] == "zeros" and (zeros.matrix[-1] == 0).all() and np.abs(zeros.matrix[1]).sum() > 0
    mean = build_matrix(p, vocab, cache_dir=False, oov="mean")
    np.testing.assert_allclose(mean.matrix[-1], matched.mean(0), rtol=1e-5)


def test_oov_moments_from_file_sample_when_few_match(tmp_path):
    p, rows, mu, sigma = _gaussian_file(tmp_path)
    pm = build_matrix(p, ["w5", "w7"] + [f"oov{i}" for i in range(4000)], cache_dir=False, specials=())
    assert pm.stats["moments_from"] == "sample"
    oov = pm.matrix[2:]
    sample = rows[: SAMPLE_SIZE]
    assert (np.abs(oov.mean(0) - sample.mean(0)) <= 4 * sigma / np.sqrt(1000) + 0.02).all()
    np.testing.assert_allclose(oov.std(0), sample.std(0), rtol=0.08)
