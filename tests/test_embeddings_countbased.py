"""Count-based inputs (bag, token_features, sentence_vector) and one_hot as real seq2seq model inputs.

What is checked: the TF-IDF weights inside the layers equal scikit-learn's; the bag is invariant to word
order (encoder memory and logits) and collapses duplicates with tf counted; token_features and
sentence_vector actually use the IDF; sentence_vector adds exactly one slot holding the projected TF-IDF
vector; every input trains, decodes, and survives a safetensors round trip; one_hot refuses impractical
vocabularies; a full training run with a bag input writes a model folder that translates like the
in-memory model and carries the IDF fitted on the training data.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from vectorseq.modelfolder import load_weights, save_weights
from vectorseq.config import config_from_dict
from vectorseq.data.batching import collate, make_batches
from vectorseq.decoding import greedy_search
from vectorseq.embeddings.countbased import (
    BagInput,
    SentenceVectorInput,
    TokenFeaturesInput,
    build_count_input,
    compute_idf,
    fit_idf,
)
from vectorseq.embeddings.factory import OneHotInput, build_input_layer
from vectorseq.errors import ConfigError
from vectorseq.models import build_model
from vectorseq.vectorizer import EOS_ID, PAD_ID, TextVectorizer
from _fakes import FakeVocab

COUNT_KINDS = ["bag", "token_features", "sentence_vector"]


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models on shared CPUs: one intra-op thread is fastest and avoids oversubscription."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

CORPUS = [
    "the cat sat on the mat",
    "the dog sat",
    "a cat and a dog and a bird",
    "on the mat the mat the mat",
    "bird",
    "dog dog dog cat",
]


_Vocab = FakeVocab


def _cfg(model_type: str, src_input: str, **model):
    base = {"d_model": 32, "ff_size": 64, "heads": 4, "encoder_layers": 1, "decoder_layers": 1, "dropout": 0.0}
    if model_type == "rnn":
        base = {"d_model": 32, "encoder_layers": 1, "decoder_layers": 1, "dropout": 0.0}
    base.update(model)
    return config_from_dict({"model": {"type": model_type, **base}, "training": {"max_steps": 1},
                             "embeddings": {"src": {"input": src_input}},
                             "vectorizer": {"src": {"split": "whitespace", "max_tokens": None}}})


def _padded(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    T = max(len(r) for r in rows)
    ids = torch.full((len(rows), T), PAD_ID, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
    return ids, ids != PAD_ID


def _random_sources(V: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Sources with repeated tokens, varied lengths and a final EOS, as the trainer builds them."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for n in (7, 5, 9, 3, 1):
        body = torch.randint(4, min(V, 12), (n,), generator=g).tolist()  # small range: duplicates guaranteed
        rows.append(body + [EOS_ID])
    return _padded(rows)


def _permute_tokens(ids: torch.Tensor, mask: torch.Tensor, seed: int = 1) -> torch.Tensor:
    """Shuffle the real tokens of every row (EOS included), leaving the padding where it is."""
    g = torch.Generator().manual_seed(seed)
    out = ids.clone()
    for b in range(ids.size(0)):
        n = int(mask[b].sum())
        out[b, :n] = ids[b, :n][torch.randperm(n, generator=g)]
    return out


# ------------------------------------------------------------------------------------------ TF-IDF values
def _tokens_vectorizer():
    return TextVectorizer(split="whitespace", standardize=None).adapt(CORPUS)


def test_tfidf_weights_equal_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = _tokens_vectorizer()
    vocab = vec.get_vocabulary()
    train_ids = [np.asarray(vec.encode(t), dtype=np.int64) for t in CORPUS]  # what the trainer encodes
    layer = build_count_input("bag", vec, 16)
    fit_idf(layer, train_ids)

    # scikit-learn sees the same documents as the model: the tokens, then the EOS every source gets
    docs = [t + " </s>" for t in CORPUS]
    sk = TfidfVectorizer(analyzer=lambda s: s.split(), vocabulary={w: i for i, w in enumerate(vocab)})
    X = sk.fit_transform(docs).toarray()
    np.testing.assert_allclose(layer.idf.numpy()[1:], sk.idf_[1:], rtol=1e-6)  # <pad> never occurs
    assert layer.idf[EOS_ID].item() == pytest.approx(1.0)

    ids, mask = _padded([list(a) + [EOS_ID] for a in train_ids])
    st = layer.term_stats(ids, mask)
    for b in range(len(CORPUS)):
        n = int(mask[b].sum())
        expected = X[b, ids[b, :n].numpy()]
        np.testing.assert_allclose(st.tfidf[b, :n].numpy(), expected, rtol=1e-5, atol=1e-7)
        assert float(st.tfidf[b, n:].abs().sum()) == 0.0
        assert math.isclose(float((st.tfidf[b] ** 2 * st.first[b]).sum()), 1.0, rel_tol=1e-5)

    # the bag carries exactly these weights: one row per distinct term, sorted by id
    with torch.no_grad():
        x, keep = layer(ids, mask)
    for b in range(len(CORPUS)):
        terms = np.flatnonzero(X[b])  # sorted ids of the distinct terms
        assert int(keep[b].sum()) == len(terms)
        emb = layer.token_embedding.weight[torch.from_numpy(terms)] * layer.scale
        want = emb * torch.from_numpy(X[b, terms]).float()[:, None]
        torch.testing.assert_close(x[b, : len(terms)], want, rtol=1e-5, atol=1e-6)
        assert float(x[b, len(terms):].abs().sum()) == 0.0


def test_compute_idf_counts_documents_not_occurrences():
    idf = compute_idf([[4, 4, 4, 5], [5], [6]], vocab_size=8)
    n = 3
    smooth = lambda df: math.log((1 + n) / (1 + df)) + 1  # noqa: E731
    assert idf[4] == pytest.approx(smooth(1))  # three occurrences, one document
    assert idf[5] == pytest.approx(smooth(2))
    assert idf[7] == pytest.approx(smooth(0))  # never seen: the largest idf
    assert idf[EOS_ID] == pytest.approx(1.0)  # every source ends with EOS
    assert idf[PAD_ID] == 0.0
    with pytest.raises(ConfigError, match="out of range"):
        compute_idf([[4, 9]], vocab_size=8)


def test_layer_starts_from_the_vectorizers_idf():
    vec = TextVectorizer(split="whitespace", standardize=None, output_mode="tf_idf").adapt(CORPUS)
    layer = build_count_input("token_features", vec, 16)
    want = np.asarray(vec.idf_, dtype=np.float64).copy()
    want[EOS_ID], want[PAD_ID] = 1.0, 0.0
    np.testing.assert_allclose(layer.idf.numpy(), want, rtol=1e-6)
    # a vectorizer without idf (int mode, the default for training) gives uniform idf: tf only
    plain = build_count_input("token_features", _tokens_vectorizer(), 16)
    assert plain.idf[0] == 0 and bool((plain.idf[1:] == 1).all())


# ------------------------------------------------------------------------------------------ bag
def test_bag_collapses_duplicates_and_counts_tf():
    layer = BagInput(10, 8)
    layer.set_idf(np.array([0, 1, 1, 1, 2.0, 3.0, 1, 1, 1, 1]))
    ids, mask = _padded([[5, 4, 4, 5, 4, EOS_ID], [4, EOS_ID]])
    with torch.no_grad():
        x, keep = layer(ids, mask)
    assert x.shape == (2, 3, 8)  # three distinct terms in the longest row
    assert keep.tolist() == [[True, True, True], [True, True, False]]
    # row 0: terms EOS (tf 1, idf 1), 4 (tf 3, idf 2), 5 (tf 2, idf 3), sorted by id
    raw = torch.tensor([1.0, 6.0, 6.0])
    w = raw / raw.norm()
    emb = layer.token_embedding.weight[torch.tensor([EOS_ID, 4, 5])] * layer.scale
    torch.testing.assert_close(x[0], emb * w[:, None])
    assert float(x[1, 2].abs().sum()) == 0.0
    assert BagInput.uses_positions is False


@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
def test_bag_is_invariant_to_word_order(model_type):
    torch.manual_seed(0)
    V = 23
    model = build_model(_cfg(model_type, "bag"), _Vocab(V), _Vocab(V)).eval()
    model.src_input.set_idf(np.r_[0.0, np.linspace(1.0, 3.0, V - 1)])
    src, mask = _random_sources(V)
    perm = _permute_tokens(src, mask)
    assert not torch.equal(perm, src)
    tgt_in = torch.cat([torch.full((src.size(0), 1), 2), torch.randint(4, V, (src.size(0), 5))], 1)
    with torch.no_grad():
        a, b = model.encode(src, mask), model.encode(perm, mask)
        assert torch.equal(a.memory_mask, b.memory_mask)
        torch.testing.assert_close(a.memory, b.memory, rtol=0, atol=1e-6)
        torch.testing.assert_close(model(src, mask, tgt_in), model(perm, mask, tgt_in), rtol=0, atol=1e-5)
        hyp_a = [h.tokens for h in greedy_search(model, src, mask)]
        hyp_b = [h.tokens for h in greedy_search(model, perm, mask)]
    assert hyp_a == hyp_b

    # the same check fails for an ordinary embedding input: the test can tell order-sensitive inputs apart
    torch.manual_seed(0)
    ordered = build_model(_cfg(model_type, "embedding"), _Vocab(V), _Vocab(V)).eval()
    with torch.no_grad():
        diff = (ordered(src, mask, tgt_in) - ordered(perm, mask, tgt_in)).abs().max()
    assert diff > 1e-3


# ------------------------------------------------------------------------------------------ features, slot
def test_sentence_vector_adds_exactly_one_slot():
    V, d = 15, 8
    layer = SentenceVectorInput(V, d)
    layer.set_idf(np.r_[0.0, np.linspace(1.0, 2.5, V - 1)])
    ids, mask = _padded([[4, 5, 4, EOS_ID], [6, EOS_ID]])
    x, m = layer(ids, mask)
    assert x.shape == (2, ids.size(1) + 1, d)
    assert m[:, 0].all() and torch.equal(m[:, 1:], mask)
    torch.testing.assert_close(x[:, 1:], layer.token_embedding(ids) * layer.scale)
    # the slot is the dense l2-normalised TF-IDF vector [V] times the projection
    for b in range(2):
        counts = torch.bincount(ids[b][mask[b]], minlength=V).float()
        dense = counts * layer.idf
        dense = dense / dense.norm()
        torch.testing.assert_close(x[b, 0], dense @ layer.sentence_proj, rtol=1e-5, atol=1e-6)
    assert layer.uses_positions


@pytest.mark.parametrize("kind", COUNT_KINDS)
def test_the_idf_is_actually_used(kind):
    torch.manual_seed(0)
    V = 23
    model = build_model(_cfg("transformer", kind), _Vocab(V), _Vocab(V)).eval()
    src, mask = _random_sources(V)
    tgt_in = torch.cat([torch.full((src.size(0), 1), 2), torch.randint(4, V, (src.size(0), 5))], 1)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        model.src_input.set_idf(np.r_[0.0, rng.uniform(1, 4, V - 1)])
        before = model(src, mask, tgt_in)
        model.src_input.set_idf(np.r_[0.0, rng.uniform(1, 4, V - 1)])
        after = model(src, mask, tgt_in)
    assert (before - after).abs().max() > 1e-3


def test_token_features_keep_one_position_per_token():
    layer = TokenFeaturesInput(12, 8)
    ids, mask = _padded([[4, 4, 5, EOS_ID], [6, EOS_ID]])
    x, m = layer(ids, mask)
    assert x.shape == (2, 4, 8) and torch.equal(m, mask)
    assert layer.proj.in_features == 8 + 2 and layer.uses_positions


def test_unknown_count_input_is_refused():
    with pytest.raises(ConfigError, match="bag"):
        build_count_input("tfidf_scalars", _Vocab(10), 8)


# ------------------------------------------------------------------------------------------ one_hot
def test_one_hot_refuses_an_impractical_vocabulary():
    side = config_from_dict({"training": {"max_steps": 1}, "embeddings": {"src": {"input": "one_hot"}}}).embeddings.src
    with pytest.raises(ConfigError, match=r"16\.4 GB"):
        build_input_layer(side, _Vocab(1_000_000), 32, batch_tokens=4096)
    layer = build_input_layer(side, _Vocab(50), 32, batch_tokens=4096)
    assert isinstance(layer, OneHotInput)
    ids, mask = _padded([[4, 7, EOS_ID]])
    x, m = layer(ids, mask)
    torch.testing.assert_close(x[0], layer.linear.weight.T[ids[0]])  # one-hot times W selects columns


# ------------------------------------------------------------------------------------------ training
@pytest.fixture(scope="module")
def tiny_task():
    from vectorseq.data.synthetic import builtin_splits

    s = builtin_splits(n_train=300, n_val=0, n_test=0, seed=0)["train"]
    vec = TextVectorizer(split="word", standardize=None).adapt(itertools.chain(s.src, s.tgt))
    src = [np.asarray(ids, dtype=np.int64) for ids in vec.encode_many(s.src)]
    tgt = [np.asarray(ids, dtype=np.int64) for ids in vec.encode_many(s.tgt)]
    return vec, src, tgt


@pytest.mark.parametrize("model_type,kind", [("transformer", k) for k in COUNT_KINDS + ["one_hot"]]
                         + [("rnn", k) for k in COUNT_KINDS])
def test_each_input_trains_translates_and_round_trips(model_type, kind, tiny_task, tmp_path):
    vec, src_ids, tgt_ids = tiny_task
    torch.manual_seed(0)
    cfg = _cfg(model_type, kind)
    model = build_model(cfg, vec, vec)
    fit_idf(model.src_input, src_ids)
    assert float(model.src_input.idf[4:].std()) > 0 if kind != "one_hot" else True
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    batches = make_batches(np.array([len(s) + 1 for s in src_ids]), np.array([len(t) + 1 for t in tgt_ids]),
                           batch_tokens=400, seed=0)
    losses = []
    model.train()
    for step in range(30):
        b = collate(src_ids, tgt_ids, batches[step % len(batches)])
        logits = model(b.src, b.src_mask, b.tgt_in)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), b.tgt_out.reshape(-1),
                                                 ignore_index=PAD_ID)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < 0.75 * np.mean(losses[:5]), losses

    model.eval()
    b = collate(src_ids, tgt_ids, np.arange(6))
    hyps = greedy_search(model, b.src, b.src_mask)
    assert len(hyps) == 6 and all(h.tokens and h.tokens[-1] == EOS_ID for h in hyps)
    texts = [vec.decode(h.tokens) for h in hyps]
    assert all(isinstance(t, str) for t in texts)

    # safetensors round trip: a fresh model (other random init, uniform idf) gets everything back
    save_weights(model, tmp_path / "m.safetensors")
    torch.manual_seed(123)
    loaded = build_model(cfg, vec, vec).eval()
    load_weights(loaded, tmp_path / "m.safetensors")
    if kind != "one_hot":
        assert torch.equal(loaded.src_input.idf, model.src_input.idf)
    with torch.no_grad():
        assert torch.equal(loaded(b.src, b.src_mask, b.tgt_in), model(b.src, b.src_mask, b.tgt_in))
    assert [h.tokens for h in greedy_search(loaded, b.src, b.src_mask)] == [h.tokens for h in hyps]


def test_full_training_run_with_a_bag_input(tmp_path):
    from vectorseq.data.synthetic import builtin_splits
    from vectorseq.training import encode_corpus, train
    from vectorseq.translator import Translator

    s = builtin_splits(n_train=200, n_val=10, n_test=6, seed=0)
    splits = {"train": s["train"], "valid": s["val"], "test": s["test"]}
    cfg = config_from_dict({
        "model": {"type": "transformer", "d_model": 32, "ff_size": 64, "heads": 4, "encoder_layers": 1,
                  "decoder_layers": 1, "dropout": 0.0},
        "embeddings": {"src": {"input": "bag"}},
        "vectorizer": {"shared": True, "src": {"split": "word", "max_tokens": None}},
        "training": {"max_steps": 24, "valid_every": 12, "batch_tokens": 400, "warmup_steps": 5, "lr": 0.003,
                     "threads": 1, "device": "cpu", "valid_max_sentences": 5},
        "decoding": {"beam_size": 1},
    })
    out = tmp_path / "model"
    result = train(cfg, out, splits=splits, progress=False, log=lambda *a, **k: None)
    assert (out / "model.safetensors").is_file() and result.steps == 24

    tr = Translator.load(out)
    assert isinstance(tr.model.src_input, BagInput)
    # the IDF in the model folder is the one fitted on the training sources (applied with no extra file)
    want = compute_idf(encode_corpus(tr.src_vectorizer, s["train"].src), tr.src_vectorizer.vocabulary_size())
    np.testing.assert_allclose(tr.model.src_input.idf.numpy(), want, rtol=1e-6)
    # the translations the in-memory model produced at the end of training (metrics.json test samples)
    samples = result.metrics["test_samples"]
    assert tr.translate([x["src"] for x in samples]) == [x["hyp"] for x in samples]
