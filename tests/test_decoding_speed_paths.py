"""Decoding's speed paths return what the plain paths returned (issue 16).

``beam_search`` keeps its bookkeeping in Python lists and the Transformer decodes through its layers' lean
``step`` methods; ``tests/_reference_beam.py`` holds the search as it was (tensor bookkeeping) and a decoder
that runs the layers' ``forward`` with a cache. On small trained models, padded batches, several beam sizes,
n-best lists, length penalties and forced endings, both give the same hypotheses with the same scores.
"""
from __future__ import annotations

import pytest
import torch

from vectorseq.decoding import beam_search

from _fakes import random_source_batch
from _reference_beam import LayerPathDecoder, reference_beam_search
from test_decoding import _train_copy_model


@pytest.fixture(scope="module")
def trained():
    return {t: _train_copy_model(t) for t in ("transformer", "rnn")}


def _same(fast, ref):
    assert [[h.tokens for h in hs] for hs in fast] == [[h.tokens for h in hs] for hs in ref]
    for hs, rs in zip(fast, ref):
        for h, r in zip(hs, rs):
            assert h.score == pytest.approx(r.score, abs=1e-5)
            assert h.normalized == pytest.approx(r.normalized, abs=1e-5)


@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
@pytest.mark.parametrize("beam, n_best, alpha, ratio", [(5, 1, 1.0, 1.5), (4, 3, 0.6, 1.5), (2, 2, 0.0, 1.5),
                                                         (5, 5, 1.0, 0.3)])  # ratio 0.3: forced endings
def test_beam_search_equals_the_tensor_bookkeeping_reference(trained, model_type, beam, n_best, alpha, ratio):
    model, V = trained[model_type]
    for seed in range(3):
        src, mask = random_source_batch(V, seed=seed)
        kw = dict(beam_size=beam, n_best=n_best, length_penalty=alpha, max_length_ratio=ratio, max_length_extra=2)
        fast = beam_search(model, src, mask, **kw)
        _same(fast, reference_beam_search(model, src, mask, **kw))
        assert all(len(hs) == n_best for hs in fast)


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_transformer_step_path_equals_the_layer_forward_path(trained, norm):
    model, V = trained["transformer"]
    if norm == "post":  # an untrained post-norm model of the same size: the other residual layout
        from vectorseq.models import build_model
        from _fakes import FakeVocab, model_config
        torch.manual_seed(3)
        model = build_model(model_config("transformer", norm="post"), FakeVocab(V), FakeVocab(V)).eval()
    src, mask = random_source_batch(V, seed=7)
    for batch in (src, src[:1]):  # a padded batch, and one sentence (the dispatch-bound case)
        m = mask[: batch.size(0)]
        _same(beam_search(model, batch, m, beam_size=5, n_best=2),
              reference_beam_search(LayerPathDecoder(model), batch, m, beam_size=5, n_best=2))
