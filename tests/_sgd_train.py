"""``vectorseq`` with plain SGD (no momentum, no weight decay) in place of AdamW: a probe for the DDP tests.

AdamW divides each gradient by its own running magnitude, so a gradient twice too large (ranks summed instead
of averaged, or a wrong ``accumulate`` divisor) leaves its updates unchanged: equal AdamW parameters cannot
show that gradients are averaged. An SGD update is ``lr x gradient``, so they can. Run as a script (also under
torchrun) with the arguments of ``vectorseq``: ``python tests/_sgd_train.py train CONFIG --output DIR``.
"""
from __future__ import annotations

import sys

import torch

import vectorseq.training.pipeline as pipeline
from vectorseq.cli import main
from vectorseq.training.optim import param_groups


def plain_sgd(model: torch.nn.Module, cfg) -> torch.optim.Optimizer:
    # the trainer's own groups (it sets each group's lr from lr_mult), without weight decay
    groups = [{**g, "weight_decay": 0.0} for g in param_groups(model, cfg)]
    return torch.optim.SGD(groups, lr=cfg.training.lr, momentum=0.0)


if __name__ == "__main__":
    pipeline.build_optimizer = plain_sgd  # the pipeline's only optimizer
    sys.exit(main())
