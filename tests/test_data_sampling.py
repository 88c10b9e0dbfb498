"""Tests for vectorseq/data/sampling.py: reservoir samples of lines and pairs, adapting on a sample."""
from __future__ import annotations

import gzip
from collections import Counter

import pytest

from _streaming_corpus import BAD_UTF8_LINE, WORDS, expected_pairs, files, make_corpus  # noqa: F401 (fixture)
from vectorseq.data.sampling import adapt_on_sample, sample_lines, sample_pairs
from vectorseq.errors import DataError
from vectorseq.vectorizer import TextVectorizer


def test_reservoir_sample_size_determinism_and_uniformity(tmp_path):
    path = tmp_path / "mono.txt.gz"
    path.write_bytes(gzip.compress("".join(f"line {i}\n" for i in range(10_000)).encode()))
    a = sample_lines(path, 1000, seed=0)
    assert len(a) == 1000 and len(set(a)) == 1000
    assert a == sample_lines(path, 1000, seed=0)
    assert a != sample_lines(path, 1000, seed=1)
    deciles = Counter(int(x.split()[1]) // 1000 for x in a)
    assert set(deciles) == set(range(10))  # every decile represented ...
    assert all(60 <= c <= 140 for c in deciles.values()), deciles  # ... about equally (expected 100 each)
    numbers = [int(x.split()[1]) for x in a]
    assert numbers == sorted(numbers)  # returned in stream order
    # more requested than available: everything, once
    small = tmp_path / "small.txt"
    small.write_bytes(b"x\n\n\xff bad\ny\nz\n")  # the empty and the invalid line are left out
    assert sorted(sample_lines(small, 10, seed=0)) == ["x", "y", "z"]
    # several sources and a TSV column
    tsv = tmp_path / "p.tsv"
    tsv.write_text("a\tA\nb\tB\n")
    assert sorted(sample_lines([small, (tsv, 1)], 100)) == ["A", "B", "x", "y", "z"]


def test_adapt_on_sample(tmp_path):
    src, tgt = make_corpus(300)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("\n".join(src) + "\n")
    b.write_text("\n".join(tgt) + "\n")
    def new() -> TextVectorizer:
        return TextVectorizer(split="whitespace", standardize=None)

    full = adapt_on_sample(new(), [a, b], n=None)  # every line, streamed
    assert full.get_vocabulary() == new().adapt(src + tgt).get_vocabulary()
    part = adapt_on_sample(new(), [a, b], n=100, seed=2)
    assert part.vocabulary_size() < full.vocabulary_size()
    vocab = set(part.get_vocabulary())
    assert any(w.startswith("s") for w in vocab - set(WORDS)) and any(w.startswith("t") for w in vocab - set(WORDS))


def test_sample_pairs_keeps_pairs_aligned_and_validates_the_whole_corpus(files, tmp_path):
    want = expected_pairs(*files)
    sample = sample_pairs(files[0], files[1], n=100, seed=3)
    assert len(sample) == 100 and sample.skipped == {"invalid_utf8": 1, "empty": 1}
    assert set(sample.pairs()) <= set(want)  # aligned: every sampled (src, tgt) is a real pair
    assert sample.pairs() == sample_pairs(files[0], files[1], n=100, seed=3).pairs()
    assert sample.pairs() != sample_pairs(files[0], files[1], n=100, seed=4).pairs()
    assert "reservoir sample of 100 of 498 pairs" in sample.source
    assert sample_pairs(files[0], files[1], n=10_000).pairs() == want  # everything, in file order
    with pytest.raises(DataError) as e:
        sample_pairs(files[0], files[1], n=10, on_error="raise")
    assert e.value.line == BAD_UTF8_LINE
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("x\ny\nz\n")
    b.write_text("X\nY\n")
    with pytest.raises(DataError, match="has 3 lines but"):
        sample_pairs(a, b, n=1)
