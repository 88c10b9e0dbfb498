"""Models: incremental decoding equals the full forward pass, the key/value cache, tied and shared tables."""
from __future__ import annotations

import pytest
import torch

from vectorseq.models import build_model
from vectorseq.vectorizer import BOS_ID

from _fakes import FakeVocab, model_config as _cfg, random_source_batch as _random_batch


_Vocab = FakeVocab


@pytest.mark.parametrize("model_type,norm", [("transformer", "pre"), ("transformer", "post"), ("rnn", "pre")])
def test_incremental_decoding_matches_full_forward(model_type, norm):
    torch.manual_seed(0)
    V = 23
    model = build_model(_cfg(model_type, norm=norm), _Vocab(V), _Vocab(V)).eval()
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


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_transformer_cache_equals_uncached_prefix(norm):
    torch.manual_seed(1)
    V = 19
    model = build_model(_cfg("transformer", norm=norm), _Vocab(V), _Vocab(V)).eval()
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


def test_post_norm_normalizes_after_each_residual_and_has_no_final_norm():
    """model.norm: post is LN(x + F(x)) per sub-layer (every layer's output has zero mean, unit variance before
    the affine LayerNorm part, which starts at identity), and keeps no final LayerNorm weights."""
    torch.manual_seed(2)
    V = 21
    pre = build_model(_cfg("transformer", norm="pre"), _Vocab(V), _Vocab(V)).eval()
    post = build_model(_cfg("transformer", norm="post"), _Vocab(V), _Vocab(V)).eval()
    assert {k for k in pre.state_dict() if "enc_norm" in k or "dec_norm" in k} == {
        "enc_norm.weight", "enc_norm.bias", "dec_norm.weight", "dec_norm.bias"}
    assert not any("enc_norm" in k or "dec_norm" in k for k in post.state_dict())
    assert pre.num_parameters() - post.num_parameters() == 4 * 32
    src, mask = _random_batch(V)
    with torch.no_grad():
        memory = post.encode(src, mask).memory
    torch.testing.assert_close(memory.mean(-1), torch.zeros(memory.shape[:2]), atol=1e-5, rtol=0)
    torch.testing.assert_close(memory.var(-1, unbiased=False), torch.ones(memory.shape[:2]), atol=1e-3, rtol=0)
    post.load_state_dict({k: v for k, v in pre.state_dict().items() if "_norm." not in k})
    with torch.no_grad():  # same weights, other layout: other outputs
        assert not torch.allclose(post.encode(src, mask).memory, pre.encode(src, mask).memory, atol=1e-2)
