"""Decoding: greedy and batched beam search on small trained models (beam 1 = greedy, beam finds better
outputs, n-best lists, the length limit, the same outputs alone and in a padded batch, scores that are the
model's own log-probabilities)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vectorseq.data.batching import collate, make_batches
from vectorseq.decoding import Hypothesis, beam_search, greedy_search
from vectorseq.models import build_model
from vectorseq.vectorizer import BOS_ID, EOS_ID

from _fakes import FakeVocab, model_config as _cfg, random_source_batch as _random_batch


_Vocab = FakeVocab


def _train_copy_model(model_type: str, steps: int = 200):
    """A small model trained briefly on 'reverse the sequence': good enough to make search matter."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    V = 14
    cfg = _cfg(model_type, dropout=0.1)
    model = build_model(cfg, _Vocab(V), _Vocab(V))
    src = [rng.integers(4, V, rng.integers(3, 9)) for _ in range(600)]
    tgt = [s[::-1].copy() for s in src]
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    lens = np.array([len(s) + 1 for s in src])
    step = 0
    while step < steps:
        for idx in make_batches(lens, lens, 400, seed=0, epoch=step):
            b = collate(src, tgt, idx)
            logits = model(b.src, b.src_mask, b.tgt_in)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), b.tgt_out.reshape(-1), ignore_index=0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step >= steps:
                break
    return model.eval(), V


@pytest.fixture(scope="module")
def toy_models():
    return {t: _train_copy_model(t) for t in ("transformer", "rnn")}


@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
def test_beam_size_one_equals_greedy(toy_models, model_type):
    model, V = toy_models[model_type]
    src, mask = _random_batch(V, seed=3)
    greedy = greedy_search(model, src, mask)
    beam = beam_search(model, src, mask, beam_size=1, length_penalty=0.0)
    assert [h.tokens for h in greedy] == [b[0].tokens for b in beam]
    for g, b in zip(greedy, beam):
        assert g.score == pytest.approx(b[0].score, abs=1e-4)


@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
def test_beam_finds_higher_scoring_output_than_greedy(toy_models, model_type):
    model, V = toy_models[model_type]
    g = torch.Generator().manual_seed(7)
    src = torch.randint(4, V, (40, 8), generator=g)
    mask = torch.ones_like(src, dtype=torch.bool)
    greedy = greedy_search(model, src, mask)
    beam = beam_search(model, src, mask, beam_size=5, length_penalty=0.0)
    gs = np.array([h.score for h in greedy])
    bs = np.array([b[0].score for b in beam])
    # Beam search guarantees nothing per sentence (the greedy path can fall off the beam), but on a trained
    # model it must find higher-scoring outputs far more often than lower-scoring ones.
    better, worse = int((bs > gs + 1e-4).sum()), int((bs < gs - 1e-4).sum())
    assert better >= 5, f"beam search found a better output than greedy on only {better} of 40 sentences"
    assert better > 4 * worse, (better, worse)
    assert bs.sum() > gs.sum()
    assert all(b[0].tokens[-1] == EOS_ID for b in beam)


def test_beam_n_best_sorted_and_distinct(toy_models):
    model, V = toy_models["transformer"]
    src, mask = _random_batch(V, seed=5)
    res = beam_search(model, src, mask, beam_size=4, n_best=3)
    for hyps in res:
        assert len(hyps) == 3
        scores = [h.normalized for h in hyps]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(h.tokens) for h in hyps}) == 3


def test_max_length_is_respected():
    torch.manual_seed(0)
    V = 11
    model = build_model(_cfg("transformer"), _Vocab(V), _Vocab(V)).eval()  # untrained: rarely emits EOS
    src, mask = _random_batch(V)
    for hyps in (greedy_search(model, src, mask, 1.0, 2), [b[0] for b in beam_search(model, src, mask, 3, 1.0, 1.0, 2)]):
        for h, n in zip(hyps, mask.sum(1).tolist()):
            assert len(h.tokens) <= n + 2
            assert h.tokens[-1] == EOS_ID


def _search(kind: str, model, src, mask) -> list[Hypothesis]:
    if kind == "greedy":
        return greedy_search(model, src, mask)
    return [h for hyps in beam_search(model, src, mask, beam_size=4, n_best=3) for h in hyps]


@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
@pytest.mark.parametrize("kind", ["greedy", "beam"])
def test_search_gives_the_same_outputs_alone_and_in_a_padded_batch(toy_models, model_type, kind):
    model, V = toy_models[model_type]
    g = torch.Generator().manual_seed(11)
    lengths = [8, 3, 6, 1, 8, 5]
    src = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    for i, n in enumerate(lengths):
        src[i, :n] = torch.randint(4, V, (n,), generator=g)
    mask = src != 0
    batched = _search(kind, model, src, mask)
    alone = [h for i, n in enumerate(lengths) for h in _search(kind, model, src[i:i + 1, :n], mask[i:i + 1, :n])]
    assert [h.tokens for h in batched] == [h.tokens for h in alone]
    assert [h.score for h in batched] == pytest.approx([h.score for h in alone], abs=1e-4)


def _teacher_forced_log_prob(model, src, mask, tokens: list[int], forced_eos: bool) -> float:
    """The model's own log-probability of ``tokens`` (ending with EOS) given the source, by teacher forcing; an
    EOS forced at the length limit is not the model's choice and counts 0 (as the searches count it)."""
    tgt_in = torch.tensor([[BOS_ID] + tokens[:-1]])
    with torch.no_grad():
        logp = torch.log_softmax(model(src, mask, tgt_in).float(), -1)[0]
    chosen = logp[torch.arange(len(tokens)), torch.tensor(tokens)]
    return float(chosen[:-1].sum() if forced_eos else chosen.sum())


@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
@pytest.mark.parametrize("kind", ["greedy", "beam"])
def test_search_scores_are_the_models_log_probability_of_the_output(toy_models, model_type, kind):
    model, V = toy_models[model_type]
    src, mask = _random_batch(V, seed=13)
    per_row = [greedy_search(model, src[i:i + 1], mask[i:i + 1]) if kind == "greedy" else
               beam_search(model, src[i:i + 1], mask[i:i + 1], beam_size=4, n_best=3, length_penalty=1.0)[0]
               for i in range(src.size(0))]
    checked = natural = 0
    for i, hyps in enumerate(per_row):
        n = int(mask[i].sum())
        limit = int(n * 1.5) + 10  # the default length limit: a hypothesis that reaches it ends by force
        for h in hyps:
            assert h.tokens[-1] == EOS_ID and len(h.tokens) <= limit
            forced = len(h.tokens) == limit
            expected = _teacher_forced_log_prob(model, src[i:i + 1, :n], mask[i:i + 1, :n], h.tokens, forced)
            assert h.score == pytest.approx(expected, abs=1e-4)
            if kind == "beam":  # the rank is the score over the length penalty
                assert h.normalized == pytest.approx(h.score / ((5 + len(h.tokens)) / 6) ** 1.0)
            checked, natural = checked + 1, natural + (not forced)
    # most hypotheses must end by the model's own EOS, or the test would only check forced endings (how many
    # do depends on the toy model's training draws: 9-15 of 15 were seen across dropout streams)
    assert checked == (5 if kind == "greedy" else 15) and natural >= checked // 2
