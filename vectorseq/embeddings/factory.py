"""The embedding factory: how token ids become the vectors a model reads.

:func:`build_input_layer` turns one side's ``embeddings`` config into an :class:`InputLayer`
(:mod:`vectorseq.embeddings.base` states the interface every layer offers): a learned or pretrained table
(:class:`EmbeddingInput`), a linear layer over one-hot vectors (:class:`OneHotInput`), or a count-based input
(:mod:`vectorseq.embeddings.countbased`).

Training policies for a table (``learned``, ``frozen``, ``finetune``, ``partial``, ``unfreeze_after``) live in
the table's layer: ``partial`` keeps the rows that came from pretrained vectors frozen with a gradient mask
(a persistent boolean buffer, so it survives save/load and resume), while the other rows learn.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import ConfigError
from .base import InputLayer
from .char_ngrams import build_char_ngram_input, read_fasttext_init
from .countbased import build_count_input
from .coverage import coverage_report
from .gbst import GBSTInput
from .language_matrix import build_language_matrix
from .matrix import build_matrix


class EmbeddingInput(InputLayer):
    """A token embedding table (learned or pretrained), scaled to unit size, projected to d_model if needed."""

    uses_positions = True

    def __init__(self, vocab_size: int, d_model: int, dim: int | None = None, scale: float | None = None,
                 projection: str = "linear", policy: str = "learned", lr_multiplier: float = 1.0,
                 unfreeze_after: int | None = None):
        super().__init__(d_model, policy, lr_multiplier)
        self.unfreeze_after = unfreeze_after
        dim = dim or d_model
        self.token_embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        nn.init.normal_(self.token_embedding.weight, std=dim ** -0.5)
        with torch.no_grad():
            self.token_embedding.weight[0].zero_()
        # Learned tables start with entries of std dim^-0.5; scaling by sqrt(dim) gives unit-size inputs.
        # Pretrained tables keep their values and get 1/std instead (see load_pretrained).
        self.register_buffer("scale", torch.tensor(scale if scale is not None else math.sqrt(dim)))
        self.register_buffer("trainable_rows", torch.ones(vocab_size, dtype=torch.bool))
        self._mask_hook = None
        self._unfrozen = False
        if dim == d_model:
            self.proj: nn.Module = nn.Identity()
        elif projection == "linear":
            self.proj = nn.Linear(dim, d_model, bias=False)
            # keep unit-scale inputs at unit scale (Linear's default init would shrink them to ~0.58, below
            # the positional signal); std 1/sqrt(dim) preserves the variance
            nn.init.normal_(self.proj.weight, std=dim ** -0.5)
        else:  # pad_truncate
            self.proj = PadTruncate(dim, d_model)

    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        return self.proj(self.token_embedding(ids) * self.scale), mask

    # -------------------------------------------------------------- the InputLayer interface
    def fit(self, train_ids: Sequence[np.ndarray], vectorizer: Any, pretrained: Any = None) -> dict | None:
        """Fill the table from a prepared pretrained matrix (if any) and apply the policy; return the
        coverage report of the vectors (or None)."""
        report = rows = None
        if pretrained is not None:
            self.load_pretrained(pretrained.matrix, pretrained.pretrained_mask)
            rows = torch.from_numpy(np.asarray(pretrained.pretrained_mask, dtype=bool))
            report = coverage_report(vectorizer.get_vocabulary(), pretrained, token_counts(vectorizer, train_ids))
            report["policy"] = self.policy
            # which ids got their row from the vectors file, so a loaded model can show it (vectorseq.explain)
            report["pretrained_rows"] = rows.nonzero().flatten().tolist()
        elif self.policy == "partial":
            raise ConfigError("embeddings policy 'partial' needs `vectors:` (a pretrained vectors file)")
        self.apply_policy(self.policy, rows)
        return report

    def restore(self) -> None:
        """After loading a checkpoint: the policy again, with the partial mask from ``trainable_rows``."""
        self.apply_policy(self.policy, ~self.trainable_rows.clone() if self.policy == "partial" else None)

    def on_step(self, step: int) -> str | None:
        """``unfreeze_after``: from update ``unfreeze_after + 1`` on, every row learns."""
        if self.unfreeze_after is None or step <= self.unfreeze_after or self._unfrozen:
            return None
        self.unfreeze()
        return "unfrozen"

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
        self._unfrozen = True

    def _install_hook(self) -> None:
        """Mask the table's gradient row by row (partial); a frozen table needs no hook."""
        if self._mask_hook is None and self.token_embedding.weight.requires_grad:
            def hook(grad: Tensor) -> Tensor:
                if bool(self.trainable_rows.all()):
                    return grad
                return grad * self.trainable_rows[:, None].to(grad.dtype)
            self._mask_hook = self.token_embedding.weight.register_hook(hook)


class PadTruncate(nn.Module):
    """Fit vectors of width ``dim`` to ``d_model`` by zero-padding or cutting (no parameters)."""

    def __init__(self, dim: int, d_model: int):
        super().__init__()
        self.dim, self.d_model = dim, d_model

    def forward(self, x: Tensor) -> Tensor:
        if self.dim > self.d_model:
            return x[..., : self.d_model]
        return nn.functional.pad(x, (0, self.d_model - self.dim))


class OneHotInput(InputLayer):
    """No embedding table: a linear layer over one-hot vectors (the seed's 'one-hot' encoding).

    Mathematically a one-hot vector times a weight matrix selects a row, so this computes the product
    explicitly to make the cost of one-hot inputs visible and measurable. It refuses vocabularies whose
    one-hot batches would be impractically large and says how much memory they would take.
    """

    uses_positions = True

    def __init__(self, vocab_size: int, d_model: int, max_batch_tokens: int = 8192, limit_gb: float = 2.0,
                 policy: str = "learned"):
        super().__init__(d_model, policy)
        need = vocab_size * max_batch_tokens * 4 / 1e9
        if need > limit_gb:
            raise ConfigError(
                f"embeddings.src.input: one_hot with a {vocab_size}-token vocabulary needs {need:.1f} GB per "
                f"batch of {max_batch_tokens} tokens (limit {limit_gb} GB); lower vectorizer max_tokens or "
                "training.batch_tokens, or use input: embedding"
            )
        self.vocab_size = vocab_size
        self.linear = nn.Linear(vocab_size, d_model, bias=False)
        nn.init.normal_(self.linear.weight, std=1.0)

    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        onehot = nn.functional.one_hot(ids, self.vocab_size).to(self.linear.weight.dtype)
        return self.linear(onehot), mask


def build_input_layer(side_cfg: Any, vectorizer: Any, d_model: int, *, batch_tokens: int = 4096) -> InputLayer:
    """Build the input layer of one side from its ``embeddings.src``/``embeddings.tgt`` config.

    Pretrained vectors are *not* read here; see :func:`prepare_pretrained` and :meth:`InputLayer.fit` (called
    only when training starts, so loading a model folder never touches the vectors file). The vectors' width
    is read from ``side_cfg.dim``, which the trainer records in the config before the model is built.
    """
    vocab = vectorizer.vocabulary_size()
    kind = side_cfg.input
    if kind == "embedding":
        return EmbeddingInput(vocab, d_model, dim=side_cfg.dim if side_cfg.vectors else None,
                              projection=side_cfg.projection, policy=side_cfg.policy,
                              lr_multiplier=side_cfg.lr_multiplier, unfreeze_after=side_cfg.unfreeze_after)
    if kind == "one_hot":
        return OneHotInput(vocab, d_model, max_batch_tokens=batch_tokens, policy=side_cfg.policy)
    if kind in ("bag", "token_features", "sentence_vector"):
        return build_count_input(kind, vectorizer, d_model, policy=side_cfg.policy,
                                 lr_multiplier=side_cfg.lr_multiplier, idf_mode=side_cfg.idf,
                                 idf_lr_multiplier=side_cfg.idf_lr_multiplier)
    if kind == "char_ngrams":
        return build_char_ngram_input(side_cfg, vectorizer, d_model)
    if kind == "gbst":  # learned segmentation over a byte/character vocabulary
        return GBSTInput(vocab, d_model, max_block=side_cfg.gbst_max_block, downsample=side_cfg.gbst_downsample,
                         lr_multiplier=side_cfg.lr_multiplier, policy=side_cfg.policy,
                         calibrate=side_cfg.gbst_calibrate)
    raise ConfigError(f"unknown embeddings input {kind!r}")


def prepare_pretrained(side_cfg: Any, vectorizer: Any, cache_dir: str | None = None) -> Any:
    """Build the pretrained matrix of one side (cached on disk), or None when the side has no vectors.

    Its width (``.dim``) is part of the model's shape: the caller records it as ``side_cfg.dim``. With
    ``input: char_ngrams`` it is a fastText ``.bin``'s :class:`~vectorseq.embeddings.char_ngrams.FastTextInit`
    (which also records the ``.bin``'s n-gram settings in ``side_cfg``).
    """
    if not side_cfg.vectors:
        return None
    if side_cfg.input == "char_ngrams":  # a fastText .bin: word rows and n-gram buckets
        return read_fasttext_init(side_cfg, vectorizer)
    if side_cfg.input != "embedding":
        raise ConfigError(f"embeddings: vectors need input: embedding, not {side_cfg.input!r}")
    if isinstance(side_cfg.vectors, dict):  # one file per language (vectorizer.per_language)
        if not hasattr(vectorizer, "vectorizers"):
            raise ConfigError("embeddings vectors that map languages to files need vectorizer.per_language: true")
        return build_language_matrix(side_cfg.vectors, vectorizer, on_error=side_cfg.on_error, cache_dir=cache_dir)
    return build_matrix(side_cfg.vectors, vectorizer.get_vocabulary(), on_error=side_cfg.on_error,
                        cache_dir=cache_dir)


def token_counts(vectorizer: Any, ids: Sequence[np.ndarray]) -> dict[str, int]:
    """How often each vocabulary entry occurs in the encoded training text (for coverage reports)."""
    counts: Counter = Counter()
    for a in ids:
        counts.update(np.asarray(a).tolist())
    vocab = vectorizer.get_vocabulary()
    return {vocab[i]: c for i, c in counts.items()}
