"""Label-smoothed cross-entropy over a large vocabulary, without the ``[tokens, V]`` log-probabilities.

``F.cross_entropy(logits, gold, label_smoothing=eps)`` writes the log-softmax of every logit, reads it again for
the gold and the smoothing terms, and its backward materialises a dense gradient of the log-probabilities
before turning it into the logits' gradient: five or six passes over a tensor of ``tokens x V`` floats (for
Transformer-tiny about 2,500 x 8,000: 80 MB, far beyond the caches). The profile put the log-softmax and its
backward at ~13% of a training step (benchmarks/RESULTS.md, issue 16).

The same loss needs only each row's gold log-probability and mean log-probability::

    loss_i = -(1 - eps) * logp_i[gold_i] - eps * mean_c logp_ic        (= (1-eps) * nll_i + eps * smooth_i)

and its gradient is ``softmax(x_i) - (1 - eps) * onehot(gold_i) - eps / V``. :func:`smoothed_cross_entropy`
computes both a block of rows at a time (a block stays in cache between its few element-wise passes), keeps
no log-probabilities (the backward recomputes the block's softmax from the logits: cheaper than storing and
re-reading 80 MB), and returns the summed NLL as a by-product (the plain cross-entropy costs a second pass
otherwise). Loss and gradients equal PyTorch's within float32 rounding (tests/test_training_speed_paths.py).
"""
from __future__ import annotations

import torch
from torch import Tensor

#: Rows per block: 64 rows of an 8,000-word vocabulary are 2 MB of float32, a block that stays in cache.
BLOCK_ROWS = 64


class _SmoothedCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits: Tensor, gold: Tensor, eps: float) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        n = logits.size(0)
        gold_logp = torch.empty(n, dtype=logits.dtype, device=logits.device)
        mean_logp = torch.empty_like(gold_logp)
        for s in range(0, n, BLOCK_ROWS):
            # PyTorch's fused log-softmax kernel on a block that stays in cache: one exp per element, where
            # logsumexp + mean of the logits cost a subtraction and an exp into temporaries (benchmarks/RESULTS.md)
            logp = torch.log_softmax(logits[s:s + BLOCK_ROWS], 1)
            torch.mean(logp, 1, out=mean_logp[s:s + BLOCK_ROWS])
            torch.gather(logp, 1, gold[s:s + BLOCK_ROWS, None], out=gold_logp[s:s + BLOCK_ROWS, None])
        nll_sum = -gold_logp.sum()
        loss = -((1.0 - eps) * gold_logp + eps * mean_logp).sum()
        ctx.save_for_backward(logits, gold)
        ctx.eps = eps
        ctx.overwrite = logits.grad_fn is not None and logits.is_contiguous()  # an intermediate only the loss reads
        ctx.mark_non_differentiable(nll_sum)
        return loss, nll_sum

    @staticmethod
    def backward(ctx, grad_loss: Tensor, _grad_nll: Tensor) -> tuple[Tensor, None, None]:  # type: ignore[override]
        logits, gold = ctx.saved_tensors
        eps, n, V = ctx.eps, logits.size(0), logits.size(1)
        if ctx.overwrite:
            # The gradient is written over the logits: nothing reads them after the loss (the output layer's
            # backward needs its input and weight, not its output), and their pages are mapped already, where a
            # fresh [N, V] tensor costs ~30 ms of page faults per Transformer-tiny step (benchmarks/RESULTS.md).
            # A second backward through the graph fails on autograd's version check of the saved logits.
            grad = logits
        else:  # a leaf or a tensor the caller may still read: leave it alone
            grad = torch.empty_like(logits)
        g = grad_loss.to(logits.dtype)
        for s in range(0, n, BLOCK_ROWS):
            # the fused softmax kernel, then (softmax - eps/V) * g while the block is in cache
            grad[s:s + BLOCK_ROWS].copy_(torch.softmax(logits[s:s + BLOCK_ROWS], 1)).sub_(eps / V).mul_(g)
        grad.scatter_add_(1, gold[:, None], (-(1.0 - eps) * g).expand(n, 1))
        return grad, None, None


def smoothed_cross_entropy(logits: Tensor, gold: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """``(loss, nll)``: the label-smoothed cross-entropy of ``logits [N, V]`` against ``gold [N]`` summed over
    the rows (``F.cross_entropy(..., label_smoothing=eps, reduction="sum")``), and the summed plain NLL (no
    gradient). Every row is a real token: the caller leaves padding out.

    When ``logits`` is an intermediate result (it has a ``grad_fn``), the backward writes the gradient over it:
    do not read the logits after ``backward()`` (a second backward through the graph raises autograd's
    "modified by an inplace operation"). A leaf tensor is never overwritten."""
    return _SmoothedCrossEntropy.apply(logits, gold, float(eps))
