"""Tests of vectorseq.embeddings.coverage: exact type and token coverage numbers."""
from __future__ import annotations

import json

import pytest

from _vectors import write
from vectorseq.embeddings.coverage import coverage_report
from vectorseq.embeddings.matrix import build_matrix


def test_coverage_report_exact_numbers(tmp_path):
    p = write(tmp_path / "c.txt", "the 1 0\ncat 2 0\nparis 3 0\nDOG 4 0\n")
    vocab = ["<pad>", "<unk>", "the", "cat", "Paris", "dog", "zebra", "yak", "emu"]
    counts = {"the": 50, "cat": 10, "Paris": 5, "dog": 3, "zebra": 7, "yak": 7, "emu": 1,
              "<unk>": 99, "notinvocab": 4}
    pm = build_matrix(p, vocab, cache_dir=False)
    report = coverage_report(vocab, pm, counts)
    assert report == pm.coverage(counts)
    json.dumps(report)
    assert report["types"] == 7 and report["types_covered"] == 4 and report["unmatched"] == 3
    assert report["type_coverage"] == pytest.approx(4 / 7)
    assert report["matched"] == {"exact": 2, "lower": 1, "title": 0, "upper": 1, "subword": 0}
    assert report["tokens"] == 83 and report["tokens_covered"] == 68
    assert report["token_coverage"] == pytest.approx(68 / 83)
    assert report["matched_tokens"] == {"exact": 60, "lower": 5, "title": 0, "upper": 3, "subword": 0}
    assert report["tokens_outside_vocabulary"] == 4
    assert report["top_unmatched"] == [{"word": "zebra", "count": 7}, {"word": "yak", "count": 7},
                                       {"word": "emu", "count": 1}]
    no_counts = coverage_report(vocab, pm)
    assert no_counts["token_coverage"] is None and no_counts["top_unmatched"][0] == {"word": "zebra", "count": None}
    assert len(coverage_report(vocab, pm, counts, top=2)["top_unmatched"]) == 2


def test_the_report_fingerprints_the_pretrained_rows_so_runs_on_other_vectors_tell_apart(tmp_path):
    """Two vector files with the same words: the same values give the same fingerprint (whatever the random OOV
    rows), one changed value another; a run's record carries it, so fastText vectors retrained elsewhere show."""
    vocab = ["<pad>", "<unk>", "the", "cat", "zebra"]
    same_a = build_matrix(write(tmp_path / "a.txt", "the 1 0\ncat 2 0\n"), vocab, cache_dir=False, seed=1)
    same_b = build_matrix(write(tmp_path / "b.txt", "cat 2 0\nthe 1 0\n"), vocab, cache_dir=False, seed=2)
    other = build_matrix(write(tmp_path / "c.txt", "the 1 0\ncat 2 0.5\n"), vocab, cache_dir=False, seed=1)
    fp = [coverage_report(vocab, pm)["vectors_sha256"] for pm in (same_a, same_b, other)]
    assert fp[0] == fp[1] != fp[2] and len(fp[0]) == 16
