"""One update: the loss of a batch, gradients accumulated over an update's batches, clipping, the optimizer step.

The loss is label-smoothed cross-entropy summed over the real target tokens (padding ignored), with teacher
forcing. Each batch's loss is divided by its target tokens and by the number of accumulated batches, so an
update's gradient is the mean per-token gradient of its batches (and DDP averages the ranks).
"""
from __future__ import annotations

import contextlib
import time
from typing import Any

import torch
import torch.nn.functional as F

from ..data.batching import Batch
from ..vectorizer import PAD_ID
from .fused_loss import smoothed_cross_entropy


def batch_loss(model: torch.nn.Module, batch: Batch, label_smoothing: float,
               need_nll: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Summed label-smoothed loss and (if ``need_nll``) summed NLL over the real target tokens of a batch.

    Only the real target positions go through the output layer and the loss (``keep``): padding is about a
    quarter of a bucketed Transformer-tiny batch, and projecting it onto 8,000 classes was pure waste. On the
    CPU the loss is :func:`~vectorseq.training.fused_loss.smoothed_cross_entropy` (no [tokens, V]
    log-probabilities; the NLL comes free); elsewhere PyTorch's fused kernel, and training passes
    ``need_nll=False`` to skip the second cross-entropy there.
    """
    keep = batch.tgt_out != PAD_ID
    logits = model(batch.src, batch.src_mask, batch.tgt_in, keep)  # [real target tokens, V]
    flat, gold = logits.float(), batch.tgt_out[keep]
    if flat.device.type == "cpu":  # on a GPU its Python loop over row blocks would cost more than it saves
        loss, nll = smoothed_cross_entropy(flat, gold, label_smoothing)
        return loss, (nll if need_nll or label_smoothing == 0.0 else None)
    loss = F.cross_entropy(flat, gold, label_smoothing=label_smoothing, reduction="sum")
    if label_smoothing == 0.0:
        return loss, loss.detach()
    if not need_nll:
        return loss, None
    with torch.no_grad():
        nll = F.cross_entropy(flat, gold, reduction="sum")
    return loss, nll


class Meter:
    """Training loss and token counts since the last validation, and tokens since the progress bar's last look."""

    def __init__(self) -> None:
        self.reset()
        self.bar_tokens, self.bar_t0 = 0, time.time()

    def reset(self) -> None:
        self.loss_sum: Any = 0.0  # a device tensor once batches are added: no host sync per step
        self.tgt_tokens = 0  # target tokens of completed updates (the loss's denominator)
        self.tokens, self.t0 = 0, time.time()  # source + target tokens, for tokens/s

    def add(self, loss: torch.Tensor, batch: Batch) -> None:
        self.loss_sum = self.loss_sum + loss.detach()
        self.tokens += batch.n_src_tokens + batch.n_tgt_tokens
        self.bar_tokens += batch.n_src_tokens + batch.n_tgt_tokens

    def bar_rate(self, world: int) -> float:
        """Tokens/s of all ranks since the last call (for the progress bar)."""
        now = time.time()
        rate = self.bar_tokens * world / max(now - self.bar_t0, 1e-9)
        self.bar_tokens, self.bar_t0 = 0, now
        return rate


class UpdateStep:
    """Forward and backward over one update's batches, then clip and step the optimizer."""

    def __init__(self, model: torch.nn.Module, ddp_model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 device: torch.device, tc: Any, world: int):
        self.model, self.ddp_model, self.optimizer = model, ddp_model, optimizer
        self.device, self.world = device, world
        self.label_smoothing, self.clip_norm = tc.label_smoothing, tc.clip_norm
        self.amp = tc.amp and device.type == "cuda" and torch.cuda.is_bf16_supported()

    def __call__(self, group: list[Batch], meter: Meter) -> None:
        acc = len(group)
        n_tgt = 0
        for j, batch in enumerate(group):
            if self.device.type == "cuda":
                batch = batch.pin_memory()
            batch = batch.to(self.device, non_blocking=True)
            sync = j == acc - 1 or self.world == 1  # DDP all-reduces the gradients on the last batch only
            with (contextlib.nullcontext() if sync else self.ddp_model.no_sync()), \
                    torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.amp):
                loss, _ = batch_loss(self.ddp_model, batch, self.label_smoothing, need_nll=False)
                # per-token loss of this batch, averaged over accumulated batches (DDP averages ranks)
                (loss / (batch.n_tgt_tokens * acc)).backward()
            meter.add(loss, batch)
            n_tgt += batch.n_tgt_tokens
        if self.clip_norm:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        meter.tgt_tokens += n_tgt
