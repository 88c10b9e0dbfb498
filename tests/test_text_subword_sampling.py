"""Subword regularization (vectorseq/text/subword_sampling.py, TextVectorizer.sample_many): unigram sampling and
BPE-dropout that differ across epochs, repeat exactly for the same (seed, epoch, sentence) -- also in another
process -- and decode back to the deterministic text."""
from __future__ import annotations

import json
from collections import Counter
import subprocess
import sys

import numpy as np
import pytest

from vectorseq.data.synthetic import builtin_splits
from vectorseq.errors import VectorseqError
from vectorseq.text.subword_sampling import SamplingSpec, sentence_uniforms
from vectorseq.vectorizer import TextVectorizer



@pytest.fixture(scope="module")
def texts() -> list[str]:
    return list(builtin_splits(n_train=600, n_val=10, n_test=10, seed=4)["train"].src)


@pytest.fixture(scope="module", params=["unigram", "bpe"])
def vec(request, texts) -> TextVectorizer:
    return TextVectorizer(standardize="none", split="sentencepiece", max_tokens=200,
                          sentencepiece_model_type=request.param).adapt(texts)


def _spec(vec: TextVectorizer, alpha: float = 0.3) -> SamplingSpec:
    return SamplingSpec(alpha, -1)


def test_samples_differ_across_epochs_repeat_for_the_same_epoch_and_decode_to_the_same_text(vec, texts):
    spec = _spec(vec)
    e0 = vec.sample_many(texts, spec, seed=1, epoch=0)
    assert e0 == vec.sample_many(texts, spec, seed=1, epoch=0)
    e1 = vec.sample_many(texts, spec, seed=1, epoch=1)
    changed = sum(a != b for a, b in zip(e0, e1))
    assert changed > len(texts) // 10, f"only {changed} of {len(texts)} sentences changed between epochs"
    assert vec.sample_many(texts, spec, seed=2, epoch=0) != e0
    det = vec.encode_many(texts)
    assert sum(a != b for a, b in zip(e0, det)) > len(texts) // 10  # it does sample
    for ids, d in zip(e0, det):
        assert vec.decode(ids) == vec.decode(d)


def test_a_sentence_sample_depends_only_on_its_key_not_on_its_neighbours(vec, texts):
    spec = _spec(vec)
    everything = vec.sample_many(texts, spec, seed=1, epoch=3)
    some = vec.sample_many(texts[100:140], spec, seed=1, epoch=3, keys=range(100, 140))
    assert some == everything[100:140]


def test_samples_are_the_same_in_another_process(vec, tmp_path, texts):
    # SentencePiece's own sampler gives other samples in every process; ours must not (resume, DDP)
    vec.save(tmp_path / "v")
    (tmp_path / "t.txt").write_text("\n".join(texts[:50]), encoding="utf-8")
    code = ("import sys, json; from vectorseq.vectorizer import TextVectorizer, SamplingSpec; "
            f"v = TextVectorizer.load({str(tmp_path / 'v')!r}); "
            f"t = open({str(tmp_path / 't.txt')!r}, encoding='utf-8').read().split('\\n'); "
            "print(json.dumps(v.sample_many(t, SamplingSpec(0.3), seed=1, epoch=5)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert json.loads(out) == vec.sample_many(texts[:50], _spec(vec), seed=1, epoch=5)


def test_bpe_dropout_with_a_vanishing_rate_is_sentencepiece_bpe(texts):
    vec = TextVectorizer(standardize="none", split="sentencepiece", max_tokens=200).adapt(texts)
    assert vec.sample_many(texts, SamplingSpec(1e-12), seed=0, epoch=0) == vec.encode_many(texts)


def test_a_higher_dropout_gives_more_pieces(texts):
    vec = TextVectorizer(standardize="none", split="sentencepiece", max_tokens=200).adapt(texts)
    n = [sum(map(len, vec.sample_many(texts, SamplingSpec(a), seed=0, epoch=0))) for a in (0.05, 0.5)]
    assert n[0] < n[1]


def test_sentence_uniforms_are_uniform_and_keyed():
    u = sentence_uniforms(3, 1, np.arange(20000))
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.01
    assert np.array_equal(u[5:9], sentence_uniforms(3, 1, np.arange(5, 9)))
    assert not np.array_equal(u, sentence_uniforms(3, 2, np.arange(20000)))


@pytest.mark.parametrize("model_type, spec, match", [
    ("bpe", SamplingSpec(1.0), r"drop probability and must be in \(0, 1\)"),
    ("bpe", SamplingSpec(0.0), r"must be in \(0, 1\)"),
    ("bpe", SamplingSpec(0.1, 5), r"nbest applies to unigram models only"),
    ("unigram", SamplingSpec(0.0), r"must be > 0"),
    ("unigram", SamplingSpec(0.1, 0), r"nbest must be -1"),
    ("unigram", SamplingSpec("x"), r"must be a number"),
])
def test_bad_sampling_settings_are_one_line_errors(model_type, spec, match):
    with pytest.raises(VectorseqError, match=match):
        spec.check(model_type)


def test_sampling_needs_sentencepiece():
    vec = TextVectorizer(split="word").adapt(["a b c"])
    with pytest.raises(VectorseqError, match="subword sampling needs split='sentencepiece'"):
        vec.sample_many(["a b"], SamplingSpec(0.1), seed=0, epoch=0)


def _exact_distribution(vec: TextVectorizer, text: str, alpha: float) -> dict[tuple, float]:
    """P(x)^alpha over every segmentation of ``text`` (SentencePiece's n-best, asked for all of them)."""
    sp = vec._sp._sp
    cands = sp.nbest_encode(text, nbest_size=512)  # SentencePiece's limit
    assert len(cands) < 512, "not every segmentation was enumerated"
    logp = np.array([alpha * sum(sp.get_score(i) for i in c) for c in cands])
    p = np.exp(logp - logp.max())
    return {tuple(c): q for c, q in zip(cands, p / p.sum())}


@pytest.mark.parametrize("nbest", [-1, 4])
def test_unigram_draws_follow_p_to_the_alpha(texts, nbest):
    vec = TextVectorizer(standardize="none", split="sentencepiece", max_tokens=200,
                         sentencepiece_model_type="unigram").adapt(texts)
    text, alpha, n = "Sunday 2041", 0.5, 6000
    exact = _exact_distribution(vec, text, alpha)
    if nbest > 0:  # only the n best compete
        best = dict(sorted(exact.items(), key=lambda kv: -kv[1])[:nbest])
        exact = {k: v / sum(best.values()) for k, v in best.items()}
    draws = vec.sample_many([text] * n, SamplingSpec(alpha, nbest), seed=0, epoch=0, keys=range(n))
    seen = {k: 0 for k in exact}
    for d in draws:
        seen[tuple(d)] += 1  # a KeyError would be a segmentation that does not exist
    tv = 0.5 * sum(abs(seen[k] / n - p) for k, p in exact.items())
    assert len(exact) > 3 and tv < 0.04, f"total variation {tv:.3f} over {len(exact)} segmentations"


def test_a_literal_control_token_in_the_text_is_never_a_control_id(texts):
    vec = TextVectorizer(standardize="none", split="sentencepiece", max_tokens=200,
                         sentencepiece_model_type="unigram").adapt(texts + ["a </s> <s> <pad> b"])
    for ids in vec.sample_many(["a </s> <s> b"] * 20, SamplingSpec(0.5), seed=0, epoch=0):
        assert not {0, 2, 3} & set(ids)


def _reference_bpe_dropout(vec: TextVectorizer, word: str, alpha: float, rng: np.random.Generator) -> tuple:
    """Provilkov et al.'s algorithm as written: every step, every merge candidate is dropped with
    probability alpha, the best remaining one is applied (the check of the cached, lazy sampler)."""
    sp = vec._sp._sp
    ids = {sp.id_to_piece(i): i for i in range(4, sp.get_piece_size())}
    symbols = list("\u2581" + word)
    while True:
        cands = [(sp.get_score(ids[a + b]), -i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))
                 if a + b in ids and rng.random() >= alpha]
        if not cands:
            return tuple(ids.get(s, 1) for s in symbols)
        i = -max(cands)[1]
        symbols[i: i + 2] = [symbols[i] + symbols[i + 1]]


def test_bpe_dropout_follows_the_reference_algorithm(texts):
    vec = TextVectorizer(standardize="none", split="sentencepiece", max_tokens=200).adapt(texts)
    word, alpha, n = "September", 0.3, 5000
    rng = np.random.default_rng(0)
    want = Counter(_reference_bpe_dropout(vec, word, alpha, rng) for _ in range(n))
    got = Counter(tuple(x) for x in vec.sample_many([word] * n, SamplingSpec(alpha), seed=0, epoch=0, keys=range(n)))
    tv = 0.5 * sum(abs(got[k] - want[k]) / n for k in set(got) | set(want))
    assert len(want) > 3 and tv < 0.05, f"total variation {tv:.3f} over {len(want)} segmentations"
