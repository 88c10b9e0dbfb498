"""Count-based vectorization as real seq2seq model inputs: TF-IDF bags, token features, sentence vectors.

The classic count-based text representations (bag of words, TF-IDF) are usually fed to linear
classifiers. Here they become *input layers* of an encoder-decoder, behind the same interface as every
other input layer of :mod:`vectorseq.embeddings.factory`, so their value for translation can be measured
against ordinary embeddings with everything else held fixed:

``forward(ids [B, T], mask [B, T] or None) -> (x [B, T', d_model], mask [B, T'])``, ``uses_positions``,
``output_dim = d_model``, ``token_embedding`` (an ``nn.Embedding``).

Three inputs (``embeddings.src.input``):

``bag``
    The source as the **set** of its terms, order discarded. Each distinct term appears once (repeated
    occurrences are masked out: mask False), its embedding multiplied by its TF-IDF weight in the sentence.
    The kept terms are sorted by token id, so any permutation of the source words gives exactly the same
    ``(x, mask)``, padding layout included, and the encoder gets no positions (``uses_positions = False``);
    the RNN encoder reads the bag in token-id order. ``T'`` is the largest number of distinct terms in the
    batch. EOS is kept as one term like any other, so every sentence has at least one position. This is
    the honest version of "a TF-IDF vector as a sequence of scalars": it measures what word order and
    context are worth.
``token_features``
    Every token keeps its embedding and its position; its TF-IDF weight in the sentence and its IDF are
    two extra input features beside the embedding, ``x = W [sqrt(d) * E[id]; tfidf; idf] + b`` (like source
    word features in NMT toolkits). ``T' = T``, ``uses_positions = True``.
``sentence_vector``
    The sentence's sparse TF-IDF vector over the vocabulary, projected to d_model by a learned ``[V, d]``
    matrix (computed as an embedding bag with the TF-IDF weights as per-sample weights, never as a dense
    ``[B, V]`` vector), is **prepended** as one extra memory slot in front of the token embeddings (mask
    True): the Transformer decoder attends to it, the RNN encoder reads it first (so the forward
    direction's state carries it through the sentence, and the backward direction ends on it; the final
    states initialise the RNN decoder). ``T' = T + 1``, ``uses_positions = True``: the slot takes position 0
    and the tokens positions 1..T.

TF-IDF, exactly
---------------
Computed inside the layer, per sentence, on the ids the model sees (EOS included, padding excluded),
matching scikit-learn's ``TfidfVectorizer`` defaults (``smooth_idf=True``, ``sublinear_tf=False``,
``norm="l2"``):

- ``tf(t, s)`` = number of occurrences of id ``t`` in sentence ``s``;
- ``idf(t) = ln((1 + n) / (1 + df(t))) + 1`` with ``n`` training sentences and ``df(t)`` the number of
  training sentences containing ``t``;
- ``w(t, s) = tf * idf / sqrt(sum over the distinct terms u of s of (tf(u, s) * idf(u))^2)`` (a sentence
  whose raw weights are all zero keeps zeros, as scikit-learn does).

Every position carries the weight of its term, so repeated tokens share one weight. Occurrences are
counted with a pairwise equality test ``[B, T, T]`` (T is a sentence length), never with a ``[B, V]``
scatter, and no Python loop runs per token.

IDF weights
-----------
The IDF lives in the persistent buffer ``idf`` ``[V]`` (float32), so it is saved in ``model.safetensors``
and translating raw text from a model folder applies it with no extra file. It is **fitted from the
training ids** with :func:`fit_idf` (``layer.fit_idf(train_ids)``), the id arrays the trainer encodes
(without EOS). Every source gets EOS appended before it reaches the model, so EOS counts as occurring in
every sentence (idf 1); ``<unk>`` gets the df of the sentences that contain an unknown token, ids never seen
get the largest idf ``ln(1 + n) + 1`` and ``<pad>`` gets 0 (it is masked anyway).

Before fitting, the buffer starts from the vectorizer's ``idf_`` when it has one over the same vocabulary
(``output_mode="tf_idf"``, learned on the text without EOS: EOS is then set to 1 and ``<pad>`` to 0), else
from ones (``<pad>`` 0), i.e. plain l2-normalised term frequencies.

Learned IDF (``embeddings.src.idf: learned``)
---------------------------------------------
With ``idf: fixed`` (the default) the buffer ``idf`` is what the layer applies, and nothing else exists. With
``idf: learned`` the layer also has the parameter ``log_idf`` ``[V]``, set to ``ln(idf)`` whenever the buffer
is set (so training starts from the corpus IDF fitted above) and then trained by the translation loss; the
layer applies ``exp(log_idf)`` (always positive) in place of ``idf`` in every formula above, l2 normalisation
over the sentence's distinct terms included. ``<pad>`` stays 0: its entry of ``log_idf`` is masked out of the
weights, so it gets no gradient and never moves. The buffer ``idf`` keeps the **corpus IDF** and is never
trained, so a model folder holds both and ``vectorseq embeddings inspect MODEL_DIR`` can list the words whose
weight moved most (:mod:`vectorseq.embeddings.idf_report`). Both are in ``model.safetensors``; loading
restores them exactly. ``log_idf`` has its own optimizer group with no weight decay (decay would pull every
IDF towards 1) and the learning-rate multiplier ``embeddings.src.idf_lr_multiplier``.

Note that l2 normalisation makes ``bag`` and ``sentence_vector`` blind to a common factor on all IDFs (only
ratios matter); ``token_features`` also sees the IDF itself as a feature.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from ..text.vocabulary import EOS_ID, PAD_ID, idf_from_df
from .base import InputLayer

__all__ = [
    "BagInput",
    "TokenFeaturesInput",
    "SentenceVectorInput",
    "IDF_MODES",
    "TermStats",
    "build_count_input",
    "compute_idf",
    "fit_idf",
]


#: ``embeddings.src.idf``: the corpus IDF as a constant, or as the start of a trained log-space parameter
IDF_MODES = ("fixed", "learned")


@dataclass
class TermStats:
    """Per-position statistics of the terms of a batch (all ``[B, T]``)."""

    valid: Tensor  # bool, True at real tokens
    count: Tensor  # long, occurrences of this position's id in its sentence (0 at padding)
    first: Tensor  # bool, True at the first occurrence of each distinct id
    tfidf: Tensor  # float, l2-normalised tf * idf of this position's id in its sentence (0 at padding)


def compute_idf(train_ids: Iterable[Sequence[int] | np.ndarray], vocab_size: int,
                eos_everywhere: bool = True) -> np.ndarray:
    """Smooth IDF ``ln((1 + n) / (1 + df)) + 1`` of every id from a corpus of id arrays (float64 ``[V]``).

    ``eos_everywhere``: count EOS as present in every sentence (the model appends it to every source).
    ``<pad>`` gets 0. Vectorised: the (sentence, id) pairs are deduplicated with one ``np.unique``.
    """
    arrays = [np.asarray(a, dtype=np.int64).reshape(-1) for a in train_ids]
    n = len(arrays)
    if n == 0:
        raise ConfigError("cannot fit IDF weights on an empty training corpus")
    lengths = np.array([a.size for a in arrays], dtype=np.int64)
    flat = np.concatenate(arrays) if lengths.sum() else np.zeros(0, dtype=np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= vocab_size):
        raise ConfigError(f"training ids out of range for a {vocab_size}-token vocabulary "
                          f"(min {int(flat.min())}, max {int(flat.max())})")
    sent = np.repeat(np.arange(n, dtype=np.int64), lengths)
    pairs = np.unique(sent * vocab_size + flat)
    df = np.bincount(pairs % vocab_size, minlength=vocab_size).astype(np.float64)
    if eos_everywhere and vocab_size > EOS_ID:
        df[EOS_ID] = n
    idf = idf_from_df(df, n)
    idf[PAD_ID] = 0.0
    return idf


class _CountInput(InputLayer):
    """Shared machinery: the token table, the IDF buffer and the per-sentence TF-IDF weights."""

    uses_positions = True

    def __init__(self, vocab_size: int, d_model: int, idf: np.ndarray | Tensor | None = None,
                 policy: str = "learned", lr_multiplier: float = 1.0, idf_mode: str = "fixed",
                 idf_lr_multiplier: float = 1.0):
        super().__init__(d_model, policy, lr_multiplier)
        if idf_mode not in IDF_MODES:
            raise ConfigError(f"embeddings.src.idf: {idf_mode!r} is not one of {', '.join(IDF_MODES)}")
        self.vocab_size = vocab_size
        self.idf_mode = idf_mode
        self.idf_lr_multiplier = idf_lr_multiplier
        self.token_embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD_ID)
        nn.init.normal_(self.token_embedding.weight, std=d_model ** -0.5)
        with torch.no_grad():
            self.token_embedding.weight[PAD_ID].zero_()
        self.scale = math.sqrt(d_model)  # entries of std d^-0.5 times sqrt(d): unit-size inputs
        start = torch.ones(vocab_size)
        start[PAD_ID] = 0.0
        self.register_buffer("idf", start)  # persistent: saved with the weights
        if idf_mode == "learned":
            # ln(idf), trained by the translation loss; exp keeps every weight positive. <pad> holds 0 and is
            # masked by ``_not_pad`` (its weight is 0 and its gradient is 0, so Adam never moves it)
            self.log_idf = nn.Parameter(torch.zeros(vocab_size))
            not_pad = torch.ones(vocab_size)
            not_pad[PAD_ID] = 0.0
            self.register_buffer("_not_pad", not_pad, persistent=False)  # a constant: no need to save it
        if idf is not None or idf_mode == "learned":
            self.set_idf(idf if idf is not None else start)

    # ------------------------------------------------------------------------ IDF
    def set_idf(self, idf: np.ndarray | Tensor) -> None:
        t = torch.as_tensor(np.asarray(idf, dtype=np.float64) if not isinstance(idf, Tensor) else idf)
        if t.shape != (self.vocab_size,):
            raise ConfigError(f"IDF weights have shape {tuple(t.shape)}, the vocabulary has {self.vocab_size} ids")
        if not bool(torch.isfinite(t).all()):
            raise ConfigError("IDF weights must be finite")
        if self.idf_mode == "learned" and not bool((t[torch.arange(self.vocab_size) != PAD_ID] > 0).all()):
            raise ConfigError("embeddings.src.idf: learned needs positive IDF weights (it trains their logarithm)")
        with torch.no_grad():
            self.idf.copy_(t.to(self.idf.dtype))
            if self.idf_mode == "learned":  # training starts from the corpus IDF
                self.log_idf.copy_(torch.log(torch.where(self._not_pad > 0, self.idf, torch.ones_like(self.idf))))

    def idf_weights(self) -> Tensor:
        """The IDF the layer applies ``[V]``: the corpus IDF (fixed), or ``exp(log_idf)`` with <pad> 0 (learned)."""
        if self.idf_mode == "fixed":
            return self.idf
        return self.log_idf.exp() * self._not_pad

    def parameter_groups(self) -> list[dict[str, Any]]:
        """The token table's group, then (learned IDF) ``log_idf`` with no weight decay and its own lr multiplier.

        Weight decay would pull ln(idf) towards 0, i.e. every IDF towards 1 (plain term frequencies): a prior
        this option does not mean to impose, so the group has none.
        """
        groups = super().parameter_groups()
        if self.idf_mode == "learned":
            groups.append({"params": [self.log_idf], "weight_decay": 0.0, "lr_mult": self.idf_lr_multiplier,
                           "name": "idf"})
        return groups

    def fit_idf(self, train_ids: Iterable[Sequence[int] | np.ndarray]) -> np.ndarray:
        """Fit the IDF buffer on the training source ids (see the module docstring); returns it (float64)."""
        idf = compute_idf(train_ids, self.vocab_size)
        self.set_idf(idf)
        return idf

    def fit(self, train_ids: Sequence[np.ndarray], vectorizer: Any, pretrained: Any = None) -> dict | None:
        """The IDF buffer from the training ids (no pretrained vectors or table policies here)."""
        super().fit(train_ids, vectorizer, pretrained)
        self.fit_idf(train_ids)
        return None

    # ------------------------------------------------------------------------ TF-IDF of a batch
    def term_stats(self, ids: Tensor, mask: Tensor | None) -> TermStats:
        valid = (ids != PAD_ID) if mask is None else mask.bool()
        T = ids.size(1)
        same = (ids[:, :, None] == ids[:, None, :]) & valid[:, None, :] & valid[:, :, None]  # [B, T, T]
        count = same.sum(-1)  # occurrences of each position's id among the real tokens
        earlier = torch.ones(T, T, dtype=torch.bool, device=ids.device).tril(-1)  # j < i
        first = valid & ~(same & earlier).any(-1)
        raw = count.to(self.idf.dtype) * self.idf_weights()[ids] * valid
        norm = (raw.square() * first).sum(-1, keepdim=True).sqrt()
        tfidf = raw / torch.where(norm > 0, norm, torch.ones_like(norm))
        return TermStats(valid=valid, count=count, first=first, tfidf=tfidf)

    def embed(self, ids: Tensor) -> Tensor:
        return self.token_embedding(ids) * self.scale


class BagInput(_CountInput):
    """The source as the set of its TF-IDF-weighted terms, in token-id order, without positions."""

    uses_positions = False

    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        st = self.term_stats(ids, mask)
        keep = st.first
        # canonical order: kept terms sorted by id, then every dropped position (stable: ties cannot occur
        # among kept terms, which are distinct)
        key = torch.where(keep, ids, torch.full_like(ids, self.vocab_size))
        order = torch.sort(key, dim=1, stable=True).indices
        width = max(int(keep.sum(1).max()) if keep.numel() else 0, 1)
        order = order[:, :width]
        kept = keep.gather(1, order)
        bag_ids = torch.where(kept, ids.gather(1, order), torch.zeros_like(order))
        weight = st.tfidf.gather(1, order) * kept
        x = self.embed(bag_ids) * weight[..., None].to(self.token_embedding.weight.dtype)
        return x, kept


class TokenFeaturesInput(_CountInput):
    """Each token's embedding with its TF-IDF weight and IDF beside it, projected to d_model."""

    uses_positions = True

    def __init__(self, vocab_size: int, d_model: int, idf: np.ndarray | Tensor | None = None, **kw: Any):
        super().__init__(vocab_size, d_model, idf, **kw)
        self.n_features = 2
        self.proj = nn.Linear(d_model + self.n_features, d_model)

    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        st = self.term_stats(ids, mask)
        emb = self.embed(ids)
        feats = torch.stack([st.tfidf, self.idf_weights()[ids] * st.valid], -1).to(emb.dtype)  # [B, T, 2]
        return self.proj(torch.cat([emb, feats], -1)), st.valid


class SentenceVectorInput(_CountInput):
    """The token embeddings with the projected TF-IDF sentence vector prepended as slot 0."""

    uses_positions = True

    def __init__(self, vocab_size: int, d_model: int, idf: np.ndarray | Tensor | None = None, **kw: Any):
        super().__init__(vocab_size, d_model, idf, **kw)
        # the linear map from the l2-normalised TF-IDF vector [V] to d_model; rows of std 1 give a slot of
        # unit-size entries, like the token inputs
        self.sentence_proj = nn.Parameter(torch.randn(vocab_size, d_model))

    def sentence_vector(self, ids: Tensor, mask: Tensor | None, stats: TermStats | None = None) -> Tensor:
        """``tfidf(sentence) @ sentence_proj`` as an embedding bag over each distinct term: ``[B, d_model]``."""
        st = stats if stats is not None else self.term_stats(ids, mask)
        weights = (st.tfidf * st.first).to(self.sentence_proj.dtype)  # one weight per distinct term
        return F.embedding_bag(ids, self.sentence_proj, mode="sum", per_sample_weights=weights)

    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        st = self.term_stats(ids, mask)
        slot = self.sentence_vector(ids, mask, st)[:, None, :]
        x = torch.cat([slot.to(self.token_embedding.weight.dtype), self.embed(ids)], 1)
        out_mask = torch.cat([torch.ones_like(st.valid[:, :1]), st.valid], 1)
        return x, out_mask


_KINDS = {"bag": BagInput, "token_features": TokenFeaturesInput, "sentence_vector": SentenceVectorInput}


def _vectorizer_idf(vectorizer: Any, vocab_size: int) -> np.ndarray | None:
    """The vectorizer's learned idf over the same vocabulary (tf_idf mode), adjusted for EOS/pad, or None."""
    idf = getattr(vectorizer, "idf_", None)
    if idf is None:
        return None
    idf = np.asarray(idf, dtype=np.float64)
    if idf.shape != (vocab_size,) or not np.isfinite(idf).all():
        return None
    idf = idf.copy()
    if vocab_size > EOS_ID:
        idf[EOS_ID] = 1.0  # every source ends with EOS: df = n, smooth idf = 1
    idf[PAD_ID] = 0.0
    return idf


def build_count_input(kind: str, vectorizer: Any, d_model: int, **kw: Any) -> InputLayer:
    """The count-based input layer ``kind`` (``bag``, ``token_features`` or ``sentence_vector``)."""
    if kind not in _KINDS:
        raise ConfigError(f"unknown count-based input {kind!r}; choose one of {', '.join(_KINDS)}")
    vocab = int(vectorizer.vocabulary_size())
    return _KINDS[kind](vocab, d_model, idf=_vectorizer_idf(vectorizer, vocab), **kw)


def fit_idf(layer: nn.Module, train_ids: Iterable[Sequence[int] | np.ndarray]) -> np.ndarray | None:
    """Fit the IDF buffer of a count-based input layer on the training ids; other layers: no-op (None)."""
    if isinstance(layer, _CountInput):
        return layer.fit_idf(train_ids)
    return None
