"""The embedding factory: how token ids become the vectors a model reads.

Models never build their own embedding tables; they receive an *input layer* from
:func:`build_input_layer`, so a new way of vectorizing (pretrained vectors, count-based features) never
changes model code. Every input layer has the same interface:

- ``forward(ids [B, T], mask [B, T] or None) -> (x [B, T', d_model], mask [B, T'] or None)``;
- ``uses_positions``: whether the model should add positional information (False for a bag of words);
- ``token_embedding``: the ``nn.Embedding`` the decoder's output layer may tie to (or None);
- ``output_dim``: always d_model.

Training policies for a table (``learned``, ``frozen``, ``finetune``, ``partial``, ``unfreeze_after``) are
applied here too: ``partial`` keeps the rows that came from pretrained vectors frozen with a gradient mask
(a persistent boolean buffer, so it survives save/load and resume), while the other rows learn.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import ConfigError


class EmbeddingInput(nn.Module):
    """A token embedding table (learned or pretrained), scaled to unit size, projected to d_model if needed."""

    uses_positions = True

    def __init__(self, vocab_size: int, d_model: int, dim: int | None = None, scale: float | None = None,
                 projection: str = "linear"):
        super().__init__()
        dim = dim or d_model
        self.output_dim = d_model
        self.token_embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        nn.init.normal_(self.token_embedding.weight, std=dim ** -0.5)
        with torch.no_grad():
            self.token_embedding.weight[0].zero_()
        # Learned tables start with entries of std dim^-0.5; scaling by sqrt(dim) gives unit-size inputs.
        # Pretrained tables keep their values and get 1/std instead (see load_pretrained).
        self.register_buffer("scale", torch.tensor(scale if scale is not None else math.sqrt(dim)))
        self.register_buffer("trainable_rows", torch.ones(vocab_size, dtype=torch.bool))
        self._mask_hook = None
        if dim == d_model:
            self.proj: nn.Module = nn.Identity()
        elif projection == "linear":
            self.proj = nn.Linear(dim, d_model, bias=False)
            # keep unit-scale inputs at unit scale (Linear's default init would shrink them to ~0.58, below
            # the positional signal); std 1/sqrt(dim) preserves the variance
            nn.init.normal_(self.proj.weight, std=dim ** -0.5)
        else:  # pad_truncate
            self.proj = _PadTruncate(dim, d_model)

    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        return self.proj(self.token_embedding(ids) * self.scale), mask

    # -------------------------------------------------------------- pretrained vectors and policies
    def load_pretrained(self, matrix: np.ndarray, pretrained_rows: np.ndarray) -> None:
        """Copy a [V, dim] matrix in; remember which rows came from the vectors file."""
        w = torch.from_numpy(np.asarray(matrix, dtype=np.float32))
        if w.shape != self.token_embedding.weight.shape:
            raise ConfigError(f"pretrained matrix has shape {tuple(w.shape)}, the table needs "
                              f"{tuple(self.token_embedding.weight.shape)}")
        with torch.no_grad():
            self.token_embedding.weight.copy_(w)
            rows = torch.from_numpy(np.asarray(pretrained_rows, dtype=bool))
            std = float(w[rows].std()) if rows.any() else float(w.std())
            self.scale.fill_(1.0 / max(std, 1e-6))
        self.pretrained_rows = torch.from_numpy(np.asarray(pretrained_rows, dtype=bool))

    def apply_policy(self, policy: str, pretrained_rows: Tensor | None = None) -> None:
        """learned/finetune: every row trains; frozen: none; partial: only rows not from pretrained vectors."""
        w = self.token_embedding.weight
        if policy in ("learned", "finetune"):
            w.requires_grad_(True)
            self.trainable_rows.fill_(True)
        elif policy == "frozen":
            w.requires_grad_(False)
            self.trainable_rows.fill_(False)
        elif policy == "partial":
            if pretrained_rows is None:
                raise ConfigError("policy: partial needs pretrained vectors (embeddings.*.vectors)")
            w.requires_grad_(True)
            self.trainable_rows.copy_(~pretrained_rows)
        else:
            raise ConfigError(f"unknown embedding policy {policy!r}")
        self._install_hook()

    def unfreeze(self) -> None:
        self.token_embedding.weight.requires_grad_(True)
        self.trainable_rows.fill_(True)

    def _install_hook(self) -> None:
        """Mask the table's gradient row by row (partial); a frozen table needs no hook."""
        if self._mask_hook is None and self.token_embedding.weight.requires_grad:
            def hook(grad: Tensor) -> Tensor:
                if bool(self.trainable_rows.all()):
                    return grad
                return grad * self.trainable_rows[:, None].to(grad.dtype)
            self._mask_hook = self.token_embedding.weight.register_hook(hook)

    @property
    def is_frozen(self) -> bool:
        return not self.token_embedding.weight.requires_grad or not bool(self.trainable_rows.any())


class _PadTruncate(nn.Module):
    """Fit vectors of width ``dim`` to ``d_model`` by zero-padding or cutting (no parameters)."""

    def __init__(self, dim: int, d_model: int):
        super().__init__()
        self.dim, self.d_model = dim, d_model

    def forward(self, x: Tensor) -> Tensor:
        if self.dim > self.d_model:
            return x[..., : self.d_model]
        return nn.functional.pad(x, (0, self.d_model - self.dim))


class OneHotInput(nn.Module):
    """No embedding table: a linear layer over one-hot vectors (the seed's 'one-hot' encoding).

    Mathematically a one-hot vector times a weight matrix selects a row, so this computes the product
    explicitly to make the cost of one-hot inputs visible and measurable. It refuses vocabularies whose
    one-hot batches would be impractically large and says how much memory they would take.
    """

    uses_positions = True
    token_embedding = None

    def __init__(self, vocab_size: int, d_model: int, max_batch_tokens: int = 8192, limit_gb: float = 2.0):
        super().__init__()
        need = vocab_size * max_batch_tokens * 4 / 1e9
        if need > limit_gb:
            raise ConfigError(
                f"embeddings.src.input: one_hot with a {vocab_size}-token vocabulary needs {need:.1f} GB per "
                f"batch of {max_batch_tokens} tokens (limit {limit_gb} GB); lower vectorizer max_tokens or "
                "training.batch_tokens, or use input: embedding"
            )
        self.vocab_size, self.output_dim = vocab_size, d_model
        self.linear = nn.Linear(vocab_size, d_model, bias=False)
        nn.init.normal_(self.linear.weight, std=1.0)

    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        onehot = nn.functional.one_hot(ids, self.vocab_size).to(self.linear.weight.dtype)
        return self.linear(onehot), mask


def build_input_layer(side_cfg: Any, vectorizer: Any, d_model: int, *, batch_tokens: int = 4096,
                      shared_with: nn.Module | None = None) -> nn.Module:
    """Build the input layer of one side from its ``embeddings.src``/``embeddings.tgt`` config.

    ``shared_with``: reuse this input layer (encoder and decoder share one table).
    Pretrained vectors are *not* read here; see :func:`init_pretrained` (called only when training starts,
    so loading a model folder never touches the vectors file).
    """
    if shared_with is not None:
        return shared_with
    vocab = vectorizer.vocabulary_size()
    kind = side_cfg.input
    if kind == "embedding":
        # the vectors' width is recorded in the config by prepare_pretrained() before the model is built
        return EmbeddingInput(vocab, d_model, dim=side_cfg.dim if side_cfg.vectors else None,
                              projection=side_cfg.projection)
    if kind == "one_hot":
        return OneHotInput(vocab, d_model, max_batch_tokens=batch_tokens)
    if kind in ("bag", "token_features", "sentence_vector"):
        from .countbased import build_count_input

        return build_count_input(kind, vectorizer, d_model)
    raise ConfigError(f"unknown embeddings input {kind!r}")


def prepare_pretrained(side_cfg: Any, vectorizer: Any, cache_dir: str | None = None) -> Any:
    """Build the pretrained matrix of one side (cached on disk) and record its width in the config."""
    if not side_cfg.vectors:
        return None
    if side_cfg.input != "embedding":
        raise ConfigError(f"embeddings: vectors need input: embedding, not {side_cfg.input!r}")
    from .pretrained import build_matrix

    built = build_matrix(side_cfg.vectors, vectorizer.get_vocabulary(), on_error=side_cfg.on_error,
                         cache_dir=cache_dir)
    side_cfg.dim = int(built.dim)
    return built


def init_pretrained(layer: nn.Module, side_cfg: Any, vectorizer: Any, token_counts: dict | None = None,
                    built: Any = None) -> dict | None:
    """Fill the table from a prepared matrix, apply the policy; return the coverage report (or None)."""
    if not isinstance(layer, EmbeddingInput):
        if side_cfg.vectors or side_cfg.policy != "learned":
            raise ConfigError(f"embeddings: vectors and policy {side_cfg.policy!r} need input: embedding, "
                              f"not {side_cfg.input!r}")
        return None
    report = None
    rows = None
    if built is not None:
        from .pretrained import coverage_report

        layer.load_pretrained(built.matrix, built.pretrained_mask)
        rows = torch.from_numpy(np.asarray(built.pretrained_mask, dtype=bool))
        report = coverage_report(vectorizer.get_vocabulary(), built, token_counts or {})
        report["source"] = str(side_cfg.vectors)
        report["policy"] = side_cfg.policy
    elif side_cfg.policy == "partial":
        raise ConfigError("embeddings policy 'partial' needs `vectors:` (a pretrained vectors file)")
    layer.apply_policy(side_cfg.policy, rows)
    return report
