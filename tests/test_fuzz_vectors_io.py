"""Fuzz tests of the pretrained-vectors readers (vectorseq.embeddings.vectors_io through build_matrix): random
bytes, text files whose header lies about the count or the width, truncated text / word2vec binary / gzip /
.npy files, .npy arrays of any dtype and shape with word lists that do not fit. Allowed outcomes: a matrix, or
a one-line VectorseqError (tests/_fuzz.py). And what the module promises: text is never read as word2vec binary,
and every vector that is used is finite and of the detected width."""
from __future__ import annotations

import gzip
import io
import struct

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from _fuzz import FAST, outcome
from vectorseq.embeddings.matrix import build_matrix
from vectorseq.embeddings.vectors_io import detect_format, stream_vectors, vectors_dim

WORDS = ["the", "cat", "3", "é", "a b", "<unk>"]
VOCAB = ["<pad>", "<unk>", "<s>", "</s>", "the", "cat", "3", "é", "dog"]
_word = st.one_of(st.sampled_from(WORDS), st.text(st.characters(blacklist_categories=("Cs",)), min_size=1,
                                                     max_size=6))
_number = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32).map(repr),
                    st.sampled_from(["1e40", "-0", "0x10", "nan", "1_0", "", "--1", "1e", "٣"]))


#: a word of a text file: anything but NUL (a file with NUL bytes is not text, and float32 bytes often hold it)
_text_word = st.one_of(st.sampled_from(WORDS), st.text(st.characters(blacklist_categories=("Cs",),
                                                                     blacklist_characters="\x00"),
                                                       min_size=1, max_size=6))


@st.composite
def text_vectors(draw) -> bytes:
    """A GloVe / word2vec text file that may lie: header count and width drawn apart from the lines."""
    dim = draw(st.integers(1, 6))
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        width = dim if draw(st.booleans()) else draw(st.integers(0, 8))
        lines.append(" ".join([draw(_text_word)] + [draw(_number) for _ in range(width)]))
    if draw(st.booleans()):
        lines.insert(0, f"{draw(st.integers(0, 12))} {draw(st.one_of(st.just(dim), st.integers(0, 300)))}")
    eol = draw(st.sampled_from(["\n", "\r\n", ""]))
    data = eol.join(lines).encode("utf-8", "surrogatepass")
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + data


@st.composite
def w2v_binary(draw) -> bytes:
    """A word2vec binary file whose header may lie about the count or the width, with any float32 bytes."""
    dim = draw(st.integers(1, 5))
    count = draw(st.integers(0, 6))
    head = f"{draw(st.one_of(st.just(count), st.integers(0, 10)))} {draw(st.one_of(st.just(dim), st.integers(0, 9)))}\n"
    body = b""
    for _ in range(count):
        word = draw(_word).replace(" ", "_").encode("utf-8", "surrogatepass")
        vec = draw(st.lists(st.floats(width=32, allow_nan=True), min_size=dim, max_size=dim))
        body += word + b" " + struct.pack(f"<{dim}f", *vec) + (b"\n" if draw(st.booleans()) else b"")
    return head.encode() + body


@st.composite
def npy_file(draw) -> bytes:
    dtype = draw(st.sampled_from(["<f4", "<f8", "<i8", "|u1", "<f2", "|b1", "<U3", "<c8"]))
    shape = draw(st.sampled_from([(0, 3), (3, 0), (4, 3), (6, 2), (5,), (2, 2, 2), ()]))
    arr = np.zeros(shape, dtype=dtype)
    if arr.dtype.kind == "f" and arr.size:
        arr.flat[draw(st.integers(0, arr.size - 1))] = draw(st.sampled_from([np.nan, np.inf, 1e30, -2.5]))
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _cut(data: bytes, where: float) -> bytes:
    return data[: int(len(data) * where)]


_files = st.one_of(
    text_vectors(), w2v_binary(), npy_file(), st.binary(max_size=300),
    st.builds(_cut, st.one_of(text_vectors(), w2v_binary(), npy_file()), st.floats(0, 1)),  # truncated
)


def _read_all(path, fmt: str, words) -> None:
    """Everything a user of these files does: the width, every entry, and the matrix of a vocabulary."""
    dim = vectors_dim(path, format=fmt, words=words)
    stream, info = stream_vectors(path, format=fmt, words=words)
    for word, handle in stream:
        vec = stream.vector(handle)
        assert vec is None or vec.shape == (stream.dim,)
    pm = build_matrix(path, VOCAB, cache_dir=False, format=fmt, words=words, on_error="skip")
    assert pm.matrix.shape == (len(VOCAB), dim) and np.isfinite(pm.matrix).all()
    return info


@FAST
@given(data=_files, gz=st.booleans(), name=st.sampled_from(["v.txt", "v.vec", "v.bin", "v.npy", "v.gz"]),
       fmt=st.sampled_from(["auto", "auto", "glove", "word2vec", "word2vec-binary", "npy", "fasttext-bin"]),
       word_list=st.one_of(st.none(), st.lists(_word, max_size=8)))
def test_any_file_is_vectors_or_a_clean_error(tmp_path_factory, data, gz, name, fmt, word_list):
    d = tmp_path_factory.mktemp("v")
    path = d / name
    path.write_bytes(gzip.compress(data) if gz else data)
    if word_list is not None:
        (d / "v.vocab").write_text("\n".join(word_list) + "\n", encoding="utf-8", errors="surrogatepass")
    outcome(lambda: _read_all(path, fmt, None))


@FAST
@given(data=text_vectors())
@example(data=b"0 1\nthe \xd9\xa3\nthe\nthe\nthe\nthe\nthe\nthe\nthe")  # found by this test (see below)
def test_text_is_never_read_as_binary(tmp_path_factory, data):
    """Detection must never turn text into float32 values (issue 17, item 3)."""
    path = tmp_path_factory.mktemp("t") / "v.txt"
    path.write_bytes(data)
    kind, info = outcome(lambda: detect_format(path))
    if kind == "ok":
        assert info.format in ("glove", "word2vec"), info


def test_non_ascii_digits_after_a_header_stay_text(tmp_path):
    """Found by the fuzzer: UTF-8 bytes of ``٣`` (Arabic-Indic 3) passed the "not all printable ASCII" test, so
    this text file was read as word2vec binary (``cat`` = 1e22). UTF-8 text is text."""
    path = tmp_path / "v.vec"
    path.write_text("2 1\ncat ٣\ndog ٤\n", encoding="utf-8")
    assert detect_format(path).format == "word2vec"
    kind, err = outcome(lambda: build_matrix(path, VOCAB, cache_dir=False))
    assert kind == "error" and "v.vec:2:" in str(err) and "not a number" in str(err)


def test_a_npy_header_cut_inside_its_dict_is_a_clean_error(tmp_path):
    """Found by benchmarks/fuzz_inputs.py (atheris): numpy tokenizes the .npy header, and an unclosed bracket
    raised tokenize.TokenError, which is no ValueError."""
    buf = io.BytesIO()
    np.save(buf, np.ones((2, 3), "<f4"))
    path = tmp_path / "v.npy"
    path.write_bytes(buf.getvalue().replace(b"'shape': (2, 3)", b"'shape': (2, 3 "))
    (tmp_path / "v.vocab").write_text("the\ncat\n")
    kind, err = outcome(lambda: build_matrix(path, VOCAB, cache_dir=False))
    assert kind == "error" and "cannot read the .npy array (TokenError" in str(err)


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec-binary"])
def test_a_header_of_zero_dimensions_is_a_clean_error(tmp_path, fmt):
    """Found by test_any_file_is_vectors_or_a_clean_error: ``0 0`` read as word2vec divided by zero later."""
    path = tmp_path / "v.txt"
    path.write_bytes(b"0 0\n\x00")
    kind, err = outcome(lambda: build_matrix(path, VOCAB, cache_dir=False, format=fmt))
    assert kind == "error" and "header gives 0 dimensions" in str(err)
