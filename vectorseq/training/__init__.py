"""Training: from a config to a model folder.

:func:`train` (:mod:`~vectorseq.training.pipeline`) reads as its stages, each in its own module:

1. **prepare** (:mod:`~vectorseq.training.prepare`): device and processes (:mod:`~vectorseq.training.distributed`),
   seeds, the splits, the vectorizers adapted on the training text and saved, the training text encoded once,
   the pretrained vectors (their width recorded in the config), the model with its input layers fitted on the
   training ids (coverage report), and the batch source (:mod:`vectorseq.data.batch_source`: in memory or
   streamed);
2. **fit** (:mod:`~vectorseq.training.loop`): epochs of updates (:mod:`~vectorseq.training.step`: teacher
   forcing, label-smoothed cross-entropy with padding ignored, gradient accumulation and clipping) with AdamW
   and a warmup + inverse-sqrt, constant or plateau learning rate (:mod:`~vectorseq.training.optim`); every
   ``valid_every`` updates the validator (:mod:`~vectorseq.training.validation`) writes one line of
   ``train_log.jsonl``, the best weights to ``model.safetensors`` and everything resume needs to
   ``checkpoints/last`` (:mod:`~vectorseq.training.state`), and applies early stopping;
3. **finish**: stop by steps, epochs, minutes or patience, then draw ``training_curve.png``
   (:mod:`~vectorseq.training.curve`), score the test split with the configured search
   (:func:`vectorseq.evaluation.evaluate`) and write ``metrics.json``.

A run interrupted at any point resumes from ``checkpoints/last`` with the same batches, the same RNG states
and therefore the same losses as an uninterrupted run (tested).

Distributed training (torchrun/DDP) uses the same loop: every rank takes a disjoint slice of each epoch's
batches and DDP averages the gradients; only rank 0 validates and writes files.
"""
from __future__ import annotations

from .distributed import Dist, setup_distributed
from .loop import stop_class
from .optim import learning_rate_factor, param_groups
from .pipeline import TrainResult, train
from .prepare import encode_corpus, make_vectorizer
from .state import TrainState
from .step import batch_loss
from .validation import validate

__all__ = ["train", "TrainResult", "TrainState", "Dist", "setup_distributed", "batch_loss", "param_groups",
           "learning_rate_factor", "encode_corpus", "make_vectorizer", "validate", "stop_class"]
