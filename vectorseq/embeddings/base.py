"""The input layer: the one interface between a model, the trainer and how token ids become vectors.

Models never build their own embedding tables; they receive two :class:`InputLayer` objects from the embedding
factory (:func:`vectorseq.embeddings.factory.build_input_layer`), so a new way of vectorizing never changes
model code, and the trainer only calls the methods below, so it never reaches into a layer.

- ``forward(ids [B, T], mask [B, T] or None) -> (x [B, T', d_model], mask [B, T'] or None)``: ``T'`` may differ
  from ``T`` (a bag of words drops repeats, a sentence vector adds a slot, learned segmentation downsamples);
- ``uses_positions``: whether the model should add positional information (False for a bag of words);
- ``output_table``: the ``nn.Embedding`` the decoder's output layer may tie to (or None);
- ``output_dim``: always d_model;
- ``parameter_groups()``: optimizer groups of its own (an embedding table: no weight decay, its own learning
  rate multiplier); every other parameter goes to the model's ordinary groups;
- ``fit(train_ids, vectorizer, pretrained)``: learn what comes from the training data before the first update
  (pretrained rows and the table's policy, IDF weights); returns a report for the model folder or None;
- ``restore()``: after a checkpoint was loaded, re-apply what lives outside the tensors (gradient masks);
- ``on_step(step)``: called before every update; returns a message when the layer changed (unfreezing).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from torch import Tensor, nn

from ..errors import ConfigError


class InputLayer(nn.Module):
    """Base class of every input layer (see the module docstring for the contract)."""

    uses_positions = True

    def __init__(self, d_model: int, policy: str = "learned", lr_multiplier: float = 1.0):
        super().__init__()
        self.output_dim = d_model
        self.policy = policy
        self.lr_multiplier = lr_multiplier

    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:  # pragma: no cover
        raise NotImplementedError

    @property
    def output_table(self) -> nn.Embedding | None:
        """The token table the decoder's output projection may tie to."""
        return getattr(self, "token_embedding", None)

    def parameter_groups(self) -> list[dict[str, Any]]:
        table = self.output_table
        if table is None:
            return []
        return [{"params": [table.weight], "weight_decay": 0.0, "lr_mult": self.lr_multiplier}]

    def fit(self, train_ids: Sequence[np.ndarray], vectorizer: Any, pretrained: Any = None) -> dict | None:
        """Layers without a table policy accept neither pretrained vectors nor a policy other than learned."""
        if pretrained is not None or self.policy != "learned":
            raise ConfigError(f"embeddings: vectors and policy {self.policy!r} need input: embedding, "
                              f"not {type(self).__name__}")
        return None

    def restore(self) -> None:
        """Nothing to re-apply by default."""

    def on_step(self, step: int) -> str | None:
        """Nothing changes during training by default."""
        return None
