"""Models: incremental decoding equals the full forward pass, the key/value cache, tied and shared tables."""
from __future__ import annotations

import pytest
import torch

from vectorseq.models import build_model
from vectorseq.vectorizer import BOS_ID

from _fakes import FakeVocab, model_config as _cfg, random_source_batch as _random_batch


_Vocab = FakeVocab


@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
def test_incremental_decoding_matches_full_forward(model_type):
    torch.manual_seed(0)
    V = 23
    model = build_model(_cfg(model_type), _Vocab(V), _Vocab(V)).eval()
    src, mask = _random_batch(V)
    tgt_in = torch.cat([torch.full((5, 1), BOS_ID), torch.randint(4, V, (5, 6))], 1)
    with torch.no_grad():
        full = model(src, mask, tgt_in)  # teacher forcing, all positions at once
        state = model.init_decoder_state(model.encode(src, mask))
        steps = []
        for t in range(tgt_in.size(1)):
            logits, state = model.decode_step(tgt_in[:, t], state)
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), full, rtol=1e-4, atol=1e-5)


def test_transformer_cache_equals_uncached_prefix():
    torch.manual_seed(1)
    V = 19
    model = build_model(_cfg("transformer"), _Vocab(V), _Vocab(V)).eval()
    src, mask = _random_batch(V)
    prefix = torch.cat([torch.full((5, 1), BOS_ID), torch.randint(4, V, (5, 5))], 1)
    with torch.no_grad():
        enc = model.encode(src, mask)
        state = model.init_decoder_state(enc)
        for t in range(prefix.size(1)):
            cached, state = model.decode_step(prefix[:, t], state)
            uncached = model.decode_prefix(prefix[:, : t + 1], enc)
            torch.testing.assert_close(cached, uncached, rtol=1e-4, atol=1e-5)


def test_tied_and_shared_embeddings_are_one_table():
    V = 17
    v = _Vocab(V)
    m = build_model(_cfg("transformer", share_embeddings=True, tie_embeddings=True), v, v)
    assert m.src_input is m.tgt_input
    assert m.output.tied.weight is m.tgt_input.token_embedding.weight
    untied = build_model(_cfg("transformer", share_embeddings=False, tie_embeddings=False), v, v)
    assert untied.num_parameters() > m.num_parameters()


@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
def test_cross_attention_is_a_distribution_over_real_source_positions(model_type):
    """What `vectorseq.explain` draws: per layer and target step, probabilities over the source that sum to
    one, zero on padding; asking for them leaves the layer's output unchanged."""
    torch.manual_seed(2)
    V = 21
    model = build_model(_cfg(model_type), _Vocab(V), _Vocab(V)).eval()
    src, mask = _random_batch(V)
    tgt_in = torch.cat([torch.full((5, 1), BOS_ID), torch.randint(4, V, (5, 4))], 1)
    with torch.no_grad():
        att = model.cross_attention(src, mask, tgt_in)
    assert att.shape[1:] == (5, 5, src.size(1)) and att.shape[0] >= 1
    torch.testing.assert_close(att.sum(-1), torch.ones(att.shape[:-1]))
    assert bool((att.masked_select(~mask[None, :, None, :].expand_as(att)) == 0).all())
    assert not mask.all(), "the random batch should contain padding, or the zero check above checks nothing"
    if model_type == "transformer":
        layer = model.decoder[0].cross_attn
        x = torch.randn(5, 3, model.d_model)
        kv = layer.memory_kv(model.encode(src, mask).memory)
        with torch.no_grad():
            torch.testing.assert_close(layer(x, kv, mask, weights=[]), layer(x, kv, mask), rtol=1e-4, atol=1e-5)
