"""A 500-pair corpus with two bad lines, and helpers, for the streaming tests (windowed, torch_dataset,
sampling).

Every sentence holds a unique token, the vectorizer (whitespace split, no standardization) maps ids back to
the exact text, so batches can be checked *by content* against what ``read_parallel`` reads.
"""
from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest
import torch

from vectorseq.data.parallel import read_parallel
from vectorseq.data.windowed import StreamingBatches
from vectorseq.vectorizer import BOS_ID, EOS_ID, PAD_ID, TextVectorizer

N_PAIRS = 500
BAD_UTF8_LINE = 7  # 1-based line numbers of the two bad pairs
EMPTY_LINE = 12
WORDS = "a man woman dog runs in the park with ball red blue big small child plays on grass".split()


def make_corpus(n: int = N_PAIRS, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    src, tgt = [], []
    for i in range(n):
        k = 60 if i % 97 == 5 else rng.randint(1, 25)  # a few pairs longer than the test budget's share
        src.append(f"s{i} " + " ".join(rng.choice(WORDS) for _ in range(k)))
        tgt.append(f"t{i} " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 25))))
    return src, tgt


def write_pair_files(tmp_path: Path, gz: bool = False, bad: bool = True) -> tuple[Path, Path]:
    src, tgt = make_corpus()
    src_raw = [s.encode() for s in src]
    tgt_raw = [t.encode() for t in tgt]
    if bad:
        src_raw[BAD_UTF8_LINE - 1] = b"s-bad \xff\xfe latin1 caf\xe9"
        tgt_raw[EMPTY_LINE - 1] = b"   "
    suffix = ".gz" if gz else ".txt"
    out = []
    for name, lines in (("src", src_raw), ("tgt", tgt_raw)):
        data = b"\n".join(lines) + b"\n"
        p = tmp_path / f"{name}{suffix}"
        p.write_bytes(gzip.compress(data) if gz else data)
        out.append(p)
    return out[0], out[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    return write_pair_files(tmp_path_factory.mktemp("stream"))


@pytest.fixture(scope="module")
def vec() -> TextVectorizer:
    src, tgt = make_corpus()
    return TextVectorizer(standardize=None, split="whitespace").adapt(src + tgt)


def decoded_pairs(batches, vec: TextVectorizer) -> list[tuple[str, str]]:
    """The (source, target) texts of every row of every batch, checking each batch's layout on the way."""
    vocab = vec.get_vocabulary()
    out = []
    for b in batches:
        assert b.src.shape[0] == b.tgt_in.shape[0] == b.tgt_out.shape[0]
        assert torch.equal(b.src_mask, b.src != PAD_ID)
        assert (b.tgt_in[:, 0] == BOS_ID).all()
        assert int(b.src_mask.sum()) == b.n_src_tokens
        assert int((b.tgt_out != PAD_ID).sum()) == b.n_tgt_tokens
        for r in range(b.src.shape[0]):
            s = [i for i in b.src[r].tolist() if i != PAD_ID]
            t = [i for i in b.tgt_out[r].tolist() if i != PAD_ID]
            assert s[-1] == EOS_ID and t[-1] == EOS_ID
            out.append((" ".join(vocab[i] for i in s[:-1]), " ".join(vocab[i] for i in t[:-1])))
    return out


def expected_pairs(src: Path, tgt: Path) -> list[tuple[str, str]]:
    return read_parallel(src, tgt, on_error="skip").pairs()


def stream(files, vec, **kw) -> StreamingBatches:
    kw.setdefault("batch_tokens", 200)
    return StreamingBatches(files[0], files[1], vec, vec, **kw)
