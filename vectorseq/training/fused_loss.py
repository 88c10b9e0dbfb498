"""Label-smoothed cross-entropy over a large vocabulary, without the ``[tokens, V]`` log-probabilities.

``F.cross_entropy(logits, gold, label_smoothing=eps)`` writes the log-softmax of every logit, reads it again for
the gold and the smoothing terms, and its backward materialises a dense gradient of the log-probabilities
before turning it into the logits' gradient: five or six passes over a tensor of ``tokens x V`` floats (for
Transformer-tiny about 2,500 x 8,000: 80 MB, far beyond the caches). The profile put the log-softmax and its
backward at ~13% of a training step (benchmarks/RESULTS.md, issue 16).

The same loss needs only each row's log-sum-exp, gold logit and mean logit::

    loss_i = lse_i - (1 - eps) * x_i[gold_i] - eps * mean_c x_ic        (= (1-eps) * nll_i + eps * smooth_i)

and its gradient is ``softmax(x_i) - (1 - eps) * onehot(gold_i) - eps / V``. :func:`smoothed_cross_entropy`
computes both a block of rows at a time (a block stays in cache between its few element-wise passes), keeps
no log-probabilities, and returns the summed NLL as a by-product (the plain cross-entropy costs a second pass
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
        lse = torch.empty(n, dtype=logits.dtype, device=logits.device)
        mean = torch.empty_like(lse)
        for s in range(0, n, BLOCK_ROWS):
            block = logits[s:s + BLOCK_ROWS]
            torch.logsumexp(block, 1, out=lse[s:s + BLOCK_ROWS])
            torch.mean(block, 1, out=mean[s:s + BLOCK_ROWS])
        gold_logit = logits.gather(1, gold[:, None]).squeeze(1)
        nll = lse - gold_logit
        loss = (nll - eps * (mean - gold_logit)).sum()  # = sum(lse - (1-eps) x_gold - eps mean)
        nll_sum = nll.sum()
        ctx.save_for_backward(logits, gold, lse)
        ctx.eps = eps
        ctx.mark_non_differentiable(nll_sum)
        return loss, nll_sum

    @staticmethod
    def backward(ctx, grad_loss: Tensor, _grad_nll: Tensor) -> tuple[Tensor, None, None]:  # type: ignore[override]
        logits, gold, lse = ctx.saved_tensors
        eps, n, V = ctx.eps, logits.size(0), logits.size(1)
        grad = torch.empty_like(logits)
        g = grad_loss.to(logits.dtype)
        for s in range(0, n, BLOCK_ROWS):
            out = grad[s:s + BLOCK_ROWS]
            torch.sub(logits[s:s + BLOCK_ROWS], lse[s:s + BLOCK_ROWS, None], out=out)
            out.exp_().sub_(eps / V).mul_(g)  # (softmax - eps/V) * g, while the block is in cache
        grad.scatter_add_(1, gold[:, None], (-(1.0 - eps) * g).expand(n, 1))
        return grad, None, None


def smoothed_cross_entropy(logits: Tensor, gold: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """``(loss, nll)``: the label-smoothed cross-entropy of ``logits [N, V]`` against ``gold [N]`` summed over
    the rows (``F.cross_entropy(..., label_smoothing=eps, reduction="sum")``), and the summed plain NLL (no
    gradient). Every row is a real token: the caller leaves padding out."""
    return _SmoothedCrossEntropy.apply(logits, gold, float(eps))
