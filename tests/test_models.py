"""Models: incremental decoding equals the full forward pass, the key/value cache, tied and shared tables, and
the RNN variants (GRU, Luong attention, unidirectional encoder) train and translate."""
from __future__ import annotations

import pytest
import torch

from vectorseq.models import build_model
from vectorseq.models.rnn import BahdanauAttention, LuongAttention
from vectorseq.training import train
from vectorseq.translator import Translator
from vectorseq.vectorizer import BOS_ID

from _fakes import FakeVocab, model_config as _cfg, random_source_batch as _random_batch
from _tiny_training import quiet, tiny_config


_Vocab = FakeVocab


@pytest.mark.parametrize("model_type, variant", [("transformer", {}), ("transformer", {"norm": "post"}), ("rnn", {}),
                                                  ("rnn", {"rnn_cell": "gru"}), ("rnn", {"attention": "luong"}),
                                                  ("rnn", {"bidirectional": False})])
def test_incremental_decoding_matches_full_forward(model_type, variant):
    torch.manual_seed(0)
    V = 23
    model = build_model(_cfg(model_type, **variant), _Vocab(V), _Vocab(V)).eval()
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


@pytest.mark.parametrize("variant, check", [
    ({"rnn_cell": "gru"}, lambda m: isinstance(m.encoder, torch.nn.GRU) and m.encoder.bidirectional),
    ({"attention": "luong"}, lambda m: isinstance(m.attn, LuongAttention) and isinstance(m.encoder, torch.nn.LSTM)),
    ({"bidirectional": False}, lambda m: not m.encoder.bidirectional and isinstance(m.attn, BahdanauAttention)),
])
def test_rnn_variants_train_save_and_translate(tmp_path, variant, check):
    """GRU cells, Luong attention and a unidirectional encoder: each trains (the validation loss falls), is
    saved, and loads into the same variant that translates as the trained model did."""
    cfg = tiny_config(model={"type": "rnn", "d_model": 32, "encoder_layers": 1, "decoder_layers": 1,
                             "dropout": 0.0, **variant},
                      training={"max_steps": 16, "valid_every": 8, "lr": 0.01})
    res = train(cfg, tmp_path / "m", progress=False, evaluate_test=False, log=quiet)
    assert res.history[-1]["valid_loss"] < res.history[0]["valid_loss"]
    tr = Translator.load(tmp_path / "m")
    assert check(tr.model), tr.model
    texts = ["two thousand and forty-one", "the second", "March 2, 2021"]
    out = tr.translate(texts, beam=2)
    assert len(out) == 3 and all(isinstance(t, str) for t in out)
    assert out == Translator.load(tmp_path / "m").translate(texts, beam=2)


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
