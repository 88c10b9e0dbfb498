"""Dropout with a cheaper mask on CPU.

``nn.Dropout`` draws its mask with ``bernoulli_``, which on CPU costs about three times ``torch.rand``
plus a comparison (benchmarks/RESULTS.md, "Training step"): on the Transformer-tiny config the masks
were 10-15% of a training step. The mask drawn here has the same distribution (each element kept with
probability ``1 - p``, kept ones scaled by ``1 / (1 - p)``) from the same global generator, so seeding,
resume and DDP work as before; only the random stream differs from ``nn.Dropout``'s. On other devices,
in eval mode and for ``p`` of 0 or 1 it is ``nn.Dropout`` itself.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


class Dropout(nn.Dropout):
    def forward(self, x: Tensor) -> Tensor:
        if not self.training or x.device.type != "cpu" or not 0.0 < self.p < 1.0:
            return super().forward(x)
        # rand >= p keeps an element with probability 1 - p. ge_ in place turns the uniform draws into the
        # 1.0/0.0 mask (no bool tensor, no conversion pass) and it is scaled in place, so the autograd graph
        # holds one float mask, as nn.Dropout's does
        keep = torch.rand_like(x).ge_(self.p).mul_(1.0 / (1.0 - self.p))
        return x * keep
