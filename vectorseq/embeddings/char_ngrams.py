"""Open-vocabulary source words: a word is its own row plus its hashed character n-grams (fastText's subword model).

``embeddings.src.input: char_ngrams`` gives every source word the vector

    v(w) = scale * mean(word_row[w], ngram_row[b_1], ..., ngram_row[b_k])

where ``b_1..b_k`` are the buckets of the character n-grams of ``<w>`` (``ngram_min..ngram_max`` characters,
hashed as fastText does: :mod:`vectorseq.embeddings.ngram_hash`). Both tables are learned with the translation
loss, so the subword part of the vectorization is trained inside the model. The mean (not the sum) is
fastText's own composition, so a table initialised from a fastText ``.bin`` reproduces gensim's ``wv[word]``
exactly (times ``scale``); ``scale`` brings a typical word to unit size (see :func:`_unit_scale`).

Which words get which rows
--------------------------
- vocabulary words (ids ``4..V-1``): their own row and their n-grams; the n-gram bucket lists of the
  vocabulary are computed from the vectorizer when the layer is built (a flat index + offsets, not saved
  weights), so a model folder needs nothing beyond its vectorizer and weights;
- the specials ``<pad>``, ``<s>``, ``</s>``, ``<unk>``: their own row only;
- training is unchanged: training batches carry the vectorizer's ids, so a word cut from the vocabulary
  (``max_tokens``/``min_freq``) is ``<unk>`` there and trains ``<unk>``'s row, which thus learns "a rare word";
- **at translation time** a word the vectorizer does not know gets an id ``>= V``: :meth:`source_encoder`
  (installed by :class:`~vectorseq.translator.Translator` as its ``source_encoder`` hook) tokenizes the
  sources, gives each distinct unseen word of the call an id ``V + j`` and registers its n-gram buckets with
  :meth:`CharNgramInput.register_words`; its vector is ``mean(<unk>'s row, its n-gram rows)``, i.e. the same
  composition as a vocabulary word with ``<unk>``'s row standing in for the row it never had. So the source
  side has no ``<unk>``: two unseen words differ by their n-grams. The registered words hold until the next
  encode call (one :meth:`Translator.translate` call is one encode call, whatever its batching), so one
  translator should not translate from several threads at once.

Initialising from fastText
--------------------------
With ``embeddings.src.vectors: model.bin`` the ``.bin`` (read by gensim through
:func:`vectorseq.embeddings.vectors_io.load_fasttext`) gives the n-gram matrix (``vectors_ngrams``) and the
word rows of the vocabulary words it knows (``vectors_vocab``); a vocabulary word it does not know gets the
mean of its n-gram rows as its row, so its vector starts as fastText's vector for an unknown word. The
``.bin``'s ``min_n``, ``max_n`` and ``bucket`` replace the config's and its width is recorded as ``dim``
(before the model is built), so loading the model folder never needs the ``.bin``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..config import check_char_ngrams
from ..errors import ConfigError, VectorseqError
from ..vectorizer import EOS_ID, NUM_SPECIAL_TOKENS, UNK_ID
from .base import InputLayer
from .ngram_hash import bucket_lists
from .vectors_io import detect_format, load_fasttext

class CharNgramInput(InputLayer):
    """Word rows plus hashed character n-gram rows, averaged, scaled to unit size, projected to d_model."""

    uses_positions = True

    def __init__(self, vocabulary: Sequence[str], d_model: int, *, ngram_min: int = 3, ngram_max: int = 6,
                 buckets: int = 100_000, dim: int | None = None, policy: str = "learned",
                 lr_multiplier: float = 1.0):
        super().__init__(d_model, policy, lr_multiplier)
        dim = dim or d_model
        self.vocab_size = len(vocabulary)
        self.ngram_min, self.ngram_max, self.buckets = ngram_min, ngram_max, buckets
        self.word_embedding = nn.Embedding(self.vocab_size, dim, padding_idx=0)
        self.ngram_embedding = nn.Embedding(buckets, dim)
        for table in (self.word_embedding, self.ngram_embedding):
            nn.init.normal_(table.weight, std=dim ** -0.5)
        with torch.no_grad():
            self.word_embedding.weight[0].zero_()
        words = [None if i < NUM_SPECIAL_TOKENS else w for i, w in enumerate(vocabulary)]
        flat, offsets = bucket_lists(words, ngram_min, ngram_max, buckets)
        # the vocabulary's bucket lists: derived from the vectorizer on every build, so not in the state dict
        self._vocab_flat, self._vocab_offsets = torch.from_numpy(flat), torch.from_numpy(offsets)
        self._csr = (self._vocab_flat, self._vocab_offsets)
        self._on_device: tuple[torch.device, Tensor, Tensor] | None = None
        self.register_buffer("scale", torch.tensor(_unit_scale(offsets, dim)))
        self.proj: nn.Module = nn.Identity()
        if dim != d_model:
            self.proj = nn.Linear(dim, d_model, bias=False)
            nn.init.normal_(self.proj.weight, std=dim ** -0.5)  # keeps unit-scale inputs at unit scale

    # -------------------------------------------------------------- vectors
    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        # each distinct id is composed once per batch, then spread to its positions
        uniq, where = torch.unique(ids, return_inverse=True)
        x = self.word_vectors(uniq)[where]
        return self.proj(x * self.scale), mask

    def word_vectors(self, ids: Tensor) -> Tensor:
        """The unscaled vectors [N, dim] of 1-D ``ids``: mean of the own row (``<unk>``'s for ids >= V) and
        the n-gram rows."""
        flat, offsets = self._csr_on(ids.device)
        if ids.numel() and int(ids.max()) >= offsets.numel() - 1:
            raise VectorseqError(
                f"source id {int(ids.max())} is beyond the vocabulary ({self.vocab_size}) and the registered "
                "unseen words; encode sources with Translator.encode_sources (its source_encoder registers them)")
        own = self.word_embedding(torch.where(ids < self.vocab_size, ids, torch.full_like(ids, UNK_ID)))
        starts = offsets[ids]
        counts = offsets[ids + 1] - starts
        bag_starts = torch.cumsum(counts, 0) - counts
        # positions of every bag's buckets in `flat`, bag after bag (a CSR gather)
        gather = torch.repeat_interleave(starts - bag_starts, counts) + torch.arange(
            int(counts.sum()), device=ids.device)
        sums = nn.functional.embedding_bag(flat[gather], self.ngram_embedding.weight, bag_starts, mode="sum")
        return (own + sums) / (1 + counts).unsqueeze(1).to(own.dtype)

    def _csr_on(self, device: torch.device) -> tuple[Tensor, Tensor]:
        """The bucket lists (vocabulary + registered words) on ``device``, moved once per change."""
        if self._on_device is None or self._on_device[0] != device:
            self._on_device = (device, self._csr[0].to(device), self._csr[1].to(device))
        return self._on_device[1], self._on_device[2]

    # -------------------------------------------------------------- unseen words at translation time
    def register_words(self, words: Sequence[str]) -> list[int]:
        """Give ``words`` (not in the vocabulary) the ids ``V, V+1, ...`` until the next call; return them."""
        flat, offsets = bucket_lists(words, self.ngram_min, self.ngram_max, self.buckets)
        end = self._vocab_offsets[-1:]
        self._csr = (torch.cat([self._vocab_flat, torch.from_numpy(flat)]),
                     torch.cat([self._vocab_offsets, torch.from_numpy(offsets[1:]) + end]))
        self._on_device = None
        return list(range(self.vocab_size, self.vocab_size + len(words)))

    def source_encoder(self, vectorizer: Any) -> Callable[[list[str]], list[list[int]]]:
        """The translator's hook: sources as ids (EOS-terminated) where unseen words get registered ids >= V."""
        lookup = vectorizer.vocabulary_

        def encode(texts: list[str]) -> list[list[int]]:
            unseen: dict[str, int] = {}
            out = []
            for text in texts:
                toks = vectorizer.tokenize(text)
                ids = [lookup.get(tok) for tok in toks]
                ids = [i if i is not None else unseen.setdefault(toks[k], self.vocab_size + len(unseen))
                       for k, i in enumerate(ids)]
                out.append(ids + [EOS_ID])  # the EOS rule of TextVectorizer.encode_sources
            self.register_words(list(unseen))  # dict order = the ids given above
            return out

        return encode

    # -------------------------------------------------------------- the InputLayer interface
    def parameter_groups(self) -> list[dict[str, Any]]:
        tables = [t.weight for t in (self.word_embedding, self.ngram_embedding)]
        return [{"params": tables, "weight_decay": 0.0, "lr_mult": self.lr_multiplier}]

    @property
    def output_table(self) -> nn.Embedding | None:
        return None  # a source-only input: nothing for an output projection to tie to

    def fit(self, train_ids: Sequence[np.ndarray], vectorizer: Any, pretrained: Any = None) -> dict | None:
        """Copy a fastText ``.bin``'s rows in (if given) and apply the policy; return its coverage report."""
        if pretrained is None:
            if self.policy != "learned":
                raise ConfigError(f"embeddings.src.policy: {self.policy} with input: char_ngrams needs "
                                  "embeddings.src.vectors (a fastText .bin); set it, or use policy: learned")
            return None
        self.load_fasttext(pretrained)
        self.restore()
        return pretrained.report(vectorizer, train_ids)

    def restore(self) -> None:
        """frozen: neither table trains (the projection, if any, still does)."""
        for table in (self.word_embedding, self.ngram_embedding):
            table.weight.requires_grad_(self.policy != "frozen")

    def load_fasttext(self, init: "FastTextInit") -> None:
        """Copy the word rows and the n-gram matrix of a read ``.bin``; scale its vectors to unit size."""
        words, ngrams = torch.from_numpy(init.words), torch.from_numpy(init.ngrams)
        if ngrams.shape != self.ngram_embedding.weight.shape or words.shape != self.word_embedding.weight.shape:
            raise ConfigError(f"the fastText model's matrices {tuple(words.shape)}, {tuple(ngrams.shape)} do not fit "
                              f"the layer's {tuple(self.word_embedding.weight.shape)}, "
                              f"{tuple(self.ngram_embedding.weight.shape)}")
        with torch.no_grad():
            self.ngram_embedding.weight.copy_(ngrams)
            self.word_embedding.weight.copy_(words)
            known = torch.from_numpy(np.flatnonzero(init.known))
            vectors = self.word_vectors(known if known.numel() else torch.arange(NUM_SPECIAL_TOKENS,
                                                                                 self.vocab_size))
            self.scale.fill_(1.0 / max(float(vectors.std()), 1e-6))


def _unit_scale(offsets: np.ndarray, dim: int) -> float:
    """The scale that gives a typical vocabulary word unit-size entries at initialisation.

    A mean of ``k`` independent rows of std ``dim^-0.5`` has std ``(k dim)^-0.5``; ``k`` (1 + the word's
    n-grams) varies with word length, so the median ``k`` of the vocabulary's words is used.
    """
    counts = np.diff(offsets)[NUM_SPECIAL_TOKENS:]
    k = float(np.median(counts)) + 1 if counts.size else 1.0
    return math.sqrt(dim * k)


# ------------------------------------------------------------------------------------------ fastText .bin
@dataclass
class FastTextInit:
    """What a fastText ``.bin`` gives the layer: word rows [V, dim] for the vocabulary, the n-gram matrix
    [bucket, dim], and which vocabulary words the ``.bin`` knew (``known``)."""

    dim: int
    words: np.ndarray
    ngrams: np.ndarray
    known: np.ndarray
    source: str

    def report(self, vectorizer: Any, train_ids: Sequence[np.ndarray]) -> dict:
        """Coverage of the vocabulary by the ``.bin``'s words (the others start from their n-grams)."""
        counts = np.bincount(np.concatenate([np.asarray(a) for a in train_ids]) if len(train_ids) else
                             np.zeros(0, dtype=np.int64), minlength=len(self.known))[: len(self.known)]
        words = slice(NUM_SPECIAL_TOKENS, None)
        types, tokens = len(self.known) - NUM_SPECIAL_TOKENS, int(counts[words].sum())
        return {"types": types, "types_covered": int(self.known.sum()),
                "type_coverage": float(self.known.sum()) / types if types else None,
                "tokens": tokens, "tokens_covered": int(counts[words][self.known[words]].sum()),
                "token_coverage": float(counts[words][self.known[words]].sum()) / tokens if tokens else None,
                "others": "start from their n-grams (fastText's vector of an unknown word)"}


def read_fasttext_init(side_cfg: Any, vectorizer: Any) -> FastTextInit:
    """Read ``side_cfg.vectors`` (a fastText ``.bin``) for the vocabulary; record its n-gram settings in
    ``side_cfg`` (``ngram_min``, ``ngram_max``, ``buckets``) so the layer is built to its shape."""
    path = str(side_cfg.vectors)
    fmt = detect_format(path).format
    if fmt != "fasttext-bin":
        raise ConfigError(f"embeddings.src.vectors: input: char_ngrams needs a fastText .bin model (it holds the "
                          f"n-gram buckets); {path} is {fmt!r}. Train one with `vectorseq vectors train` or drop "
                          "vectors to learn the n-grams from scratch")
    kv = load_fasttext(path)
    side_cfg.ngram_min, side_cfg.ngram_max, side_cfg.buckets = int(kv.min_n), int(kv.max_n), int(kv.bucket)
    vocab = vectorizer.get_vocabulary()
    ngrams = np.asarray(kv.vectors_ngrams, dtype=np.float32)
    dim = ngrams.shape[1]
    words = np.zeros((len(vocab), dim), dtype=np.float32)
    known = np.zeros(len(vocab), dtype=bool)
    flat, offsets = bucket_lists([None if i < NUM_SPECIAL_TOKENS else w for i, w in enumerate(vocab)],
                                 kv.min_n, kv.max_n, kv.bucket)
    for i, w in enumerate(vocab[NUM_SPECIAL_TOKENS:], NUM_SPECIAL_TOKENS):
        if w in kv.key_to_index:
            words[i], known[i] = kv.vectors_vocab[kv.key_to_index[w]], True
        elif offsets[i + 1] > offsets[i]:  # its row = its n-gram mean: the word starts as fastText's OOV vector
            words[i] = ngrams[flat[offsets[i]: offsets[i + 1]]].mean(axis=0)
    std = float(kv.vectors_vocab.std()) or 1.0
    rng = np.random.default_rng(0)  # the special rows (not <pad>) get random rows of the vectors' spread
    words[1:NUM_SPECIAL_TOKENS] = rng.normal(0.0, std, (NUM_SPECIAL_TOKENS - 1, dim))
    return FastTextInit(dim=dim, words=words, ngrams=ngrams, known=known, source=path)


def build_char_ngram_input(side_cfg: Any, vectorizer: Any, d_model: int) -> CharNgramInput:
    """The factory's ``char_ngrams`` branch: check the side's keys and the vectorizer, build the layer."""
    check_char_ngrams(side_cfg, getattr(vectorizer, "split_name", None))
    if side_cfg.policy not in ("learned", "finetune", "frozen"):
        raise ConfigError(f"embeddings.src.policy: {side_cfg.policy} is not available with input: char_ngrams "
                          "(use learned, finetune or frozen)")
    if side_cfg.vectors and side_cfg.projection != "linear":
        raise ConfigError("embeddings.src.projection: input: char_ngrams projects with a linear layer only")
    return CharNgramInput(vectorizer.get_vocabulary(), d_model, ngram_min=side_cfg.ngram_min,
                          ngram_max=side_cfg.ngram_max, buckets=side_cfg.buckets,
                          dim=side_cfg.dim if side_cfg.vectors else None, policy=side_cfg.policy,
                          lr_multiplier=side_cfg.lr_multiplier)
