"""The training step's speed paths give what the plain path gives (issue 16).

* ``batch_loss`` projects only the real target positions: its loss and gradients equal those of the plain
  path (every position through the output layer, padding ignored by the loss) with dropout on, for both
  model types, within float32 rounding (rel 1e-5).
* The CPU loss (``training.fused_loss.smoothed_cross_entropy``) gives PyTorch's label-smoothed cross-entropy,
  its gradient and the plain NLL on an 8,000-word output over row counts that do and do not fill its blocks.
* The CPU dropout mask (``models.dropout.Dropout``) has nn.Dropout's distribution: keep rate 1 - p, kept
  values scaled by 1 / (1 - p), the gradient is the mask, and the same seed gives the same mask.
* The CPU attention (``models.transformer._plain_attention``) gives PyTorch's fused kernel's outputs and
  gradients with padding masks, causal masks and one-token queries (rel 1e-5).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vectorseq.data.batching import collate, make_batches
from vectorseq.models import build_model
from vectorseq.models.dropout import Dropout
from vectorseq.models.transformer import _plain_attention, attention
from vectorseq.training import batch_loss
from vectorseq.vectorizer import PAD_ID

from _fakes import FakeVocab, model_config


def _plain_loss(model, b, label_smoothing):
    logits = model(b.src, b.src_mask, b.tgt_in)  # every position, padding included
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), b.tgt_out.reshape(-1), ignore_index=PAD_ID,
                           label_smoothing=label_smoothing, reduction="sum")


def _batch(V=20, n=40, seed=0):
    rng = np.random.default_rng(seed)
    src = [rng.integers(4, V, rng.integers(2, 12)) for _ in range(n)]
    tgt = [rng.integers(4, V, rng.integers(2, 15)) for _ in range(n)]
    lens_s, lens_t = np.array([len(s) + 1 for s in src]), np.array([len(t) + 1 for t in tgt])
    idx = make_batches(lens_s, lens_t, 10_000, seed=0)[0]
    b = collate(src, tgt, idx)
    assert (b.tgt_out == PAD_ID).any()  # padded rows, or the test would not test anything
    return b


def _grads(model):
    return [p.grad.clone() for p in model.parameters() if p.grad is not None]


@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_real_positions_loss_and_gradients_equal_the_plain_path(model_type, label_smoothing):
    V = 20
    torch.manual_seed(0)
    model = build_model(model_config(model_type, dropout=0.3), FakeVocab(V), FakeVocab(V)).train()
    b = _batch(V)
    torch.manual_seed(1)  # same dropout draws in both passes: the output layer has no dropout
    plain = _plain_loss(model, b, label_smoothing)
    plain.backward()
    g_plain = _grads(model)
    model.zero_grad()
    torch.manual_seed(1)
    fast, nll = batch_loss(model, b, label_smoothing)
    fast.backward()
    assert fast.item() == pytest.approx(plain.item(), rel=1e-5)
    for a, c in zip(_grads(model), g_plain):
        torch.testing.assert_close(a, c, rtol=1e-4, atol=1e-6)
    if label_smoothing:  # the NLL is the plain unsmoothed cross-entropy
        torch.manual_seed(1)
        ref = F.cross_entropy(model(b.src, b.src_mask, b.tgt_in).reshape(-1, V), b.tgt_out.reshape(-1),
                              ignore_index=PAD_ID, reduction="sum")
        assert nll.item() == pytest.approx(ref.item(), rel=1e-5)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("rows", [1, 64, 1000])
def test_the_blockwise_loss_equals_pytorch_s_cross_entropy(eps, rows):
    from vectorseq.training.fused_loss import smoothed_cross_entropy

    torch.manual_seed(rows)
    x = (torch.randn(rows, 8000) * 4).requires_grad_()
    gold = torch.randint(0, 8000, (rows,))
    upstream = 0.37  # the loss is divided by the batch's tokens before backward
    x64 = x.detach().double().requires_grad_()  # the truth, to which float32 paths round differently
    ref = F.cross_entropy(x64, gold, label_smoothing=eps, reduction="sum")
    (g_true,) = torch.autograd.grad(ref * upstream, x64)
    (g_torch,) = torch.autograd.grad(F.cross_entropy(x, gold, label_smoothing=eps, reduction="sum") * upstream, x)
    loss, nll = smoothed_cross_entropy(x, gold, eps)
    (g,) = torch.autograd.grad(loss * upstream, x)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    assert nll.item() == pytest.approx(F.cross_entropy(x64, gold, reduction="sum").item(), rel=1e-6)
    assert not nll.requires_grad
    err, torch_err = (g.double() - g_true).abs().max().item(), (g_torch.double() - g_true).abs().max().item()
    assert err <= max(torch_err, 1e-7), (err, torch_err)  # at least as close to the truth as PyTorch's fp32


def test_the_blockwise_loss_writes_its_gradient_over_intermediate_logits_only():
    """Logits computed inside the graph are overwritten by their gradient (no fresh [N, V] tensor): the same
    gradient reaches the weights as when they are a leaf (left untouched), and a second backward raises."""
    from vectorseq.training.fused_loss import smoothed_cross_entropy

    torch.manual_seed(0)
    h, w = torch.randn(130, 16), torch.randn(8000, 16, requires_grad=True)
    gold = torch.randint(0, 8000, (130,))
    leaf = (h @ w.detach().T).requires_grad_()
    before = leaf.detach().clone()
    (g_leaf,) = torch.autograd.grad(smoothed_cross_entropy(leaf, gold, 0.1)[0] * 0.37, leaf)
    assert leaf.detach().equal(before)  # a leaf is never overwritten
    logits = h @ w.T
    loss, _ = smoothed_cross_entropy(logits, gold, 0.1)
    (loss * 0.37).backward(retain_graph=True)
    torch.testing.assert_close(w.grad, g_leaf.T @ h, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(logits.detach(), g_leaf)  # the logits now hold their gradient
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_cpu_dropout_keeps_one_minus_p_and_rescales():
    p, x = 0.3, torch.ones(1_000_000)
    torch.manual_seed(0)
    y = Dropout(p).train()(x)
    kept = y != 0
    assert kept.float().mean().item() == pytest.approx(1 - p, abs=0.002)  # 1M draws: sd 0.0005
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / (1 - p)))
    assert y.mean().item() == pytest.approx(1.0, abs=0.004)  # expectation preserved


def test_cpu_dropout_gradient_is_its_mask_and_seeded():
    x = torch.randn(64, 33, requires_grad=True)
    torch.manual_seed(5)
    y = Dropout(0.5).train()(x)
    y.sum().backward()
    torch.testing.assert_close(x.grad, (y.detach() != 0).float() * 2.0)
    torch.manual_seed(5)
    assert torch.equal(Dropout(0.5).train()(x.detach()), y.detach())


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_cpu_dropout_edges_and_eval_match_nn_dropout(p):
    x = torch.randn(10, 10)
    assert torch.equal(Dropout(p).train()(x), torch.nn.Dropout(p).train()(x))
    assert torch.equal(Dropout(0.3).eval()(x), x)


@pytest.mark.parametrize("T, S, causal, masked", [(7, 7, False, True), (7, 7, True, False), (1, 9, False, True),
                                                   (4, 11, False, False), (12, 12, True, False)])
def test_cpu_attention_equals_pytorch_s_fused_kernel(T, S, causal, masked):
    """The CPU's matmul-softmax-matmul attention against F.scaled_dot_product_attention: the same outputs and
    gradients to float rounding, with padding masks (rows of every length down to one key), causal masks and
    one-token queries."""
    torch.manual_seed(T * 100 + S)
    q = torch.randn(4, 2, T, 16, requires_grad=True)
    k, v = (torch.randn(4, 2, S, 16, requires_grad=True) for _ in range(2))
    mask = (torch.arange(S)[None, :] < torch.tensor([S, S - 3, 2, 1])[:, None])[:, None, None, :] if masked else None
    ours = _plain_attention(q, k, v, mask, 0.0, causal)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    g = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad(ours, (q, k, v), g), torch.autograd.grad(ref, (q, k, v), g)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert attention(q, k, v, mask, 0.0, causal).equal(ours)  # the CPU path is the one the model calls
