"""Vocabulary extension at translation time: unseen source words get their pretrained vectors.

Why it works
------------
A model trained with *frozen* pretrained source embeddings (``embeddings.src.policy: frozen``, or
``partial``, where every row that came from the vectors file stays frozen) never moved its table away from
the vectors' space: the encoder learned to read GloVe / word2vec / fastText vectors *as they are in the
file*. A word that did not make it into the source vocabulary (unseen in training, or cut by
``max_tokens`` / ``min_freq``) but is in the vectors file has a vector in that very space, so at
translation time it can be fed to the encoder instead of ``<unk>``. (With ``finetune`` or ``learned`` the
rows moved during training and a file vector no longer means to the encoder what the trained rows mean,
so that is refused; so is a table that was unfrozen by ``unfreeze_after``.)

What is stored
--------------
:func:`extend_model_folder` streams the vectors file once and writes into the model folder::

    MODEL_DIR/extension/vocab.json          the words (id V + j = words[j]), the source, the vocabulary
                                            fingerprint of the model it belongs to
    MODEL_DIR/extension/vectors.safetensors "vectors": the raw vectors [N, dim] (float16 by default)

Nothing is pickled; the vectors file is not needed afterwards. The model's ``scale`` and ``proj`` are
applied at run time exactly as for table rows: an extended token's encoder input is
``proj(vector * scale)``.

Which words, and which vector
-----------------------------
Words are taken in file order (for GloVe / word2vec / fastText that is frequency order), up to
``max_words`` distinct ones. A file word ``w`` becomes the token ``t`` when the source vectorizer's
``tokenize(w) == [t]`` (its standardize applied: lower-casing, ...) and ``w`` is a form that the
training-time lookup would have used for ``t`` (:func:`vectorseq.embeddings.matrix.lookup_forms`:
``t``, then ``t.lower()``, ``t.capitalize()``, ``t.upper()``): with ``standardize: lower`` the
file word ``Paris`` gives the token ``paris`` (the exact line ``paris`` wins when the file has both, as
in training); ``don't`` under ``strip_punctuation`` (``dont``) is left out, as training would. Tokens of
the source vocabulary and the special tokens are never added.

While streaming, the frozen rows of the table are compared with the file (every vocabulary token whose
exact word is in the file): a model trained with another vectors file is refused instead of being
given vectors from a space it never saw.

At translation time (:func:`load_extended_translator`, or :func:`attach_extension` on a loaded
:class:`~vectorseq.translator.Translator`), a token that the vectorizer maps to ``<unk>`` but that is in the
extension gets the id ``V + j``: the translator's ``source_encoder`` hook encodes sources with
:func:`encode_sources_with_extension`, and its encoder input layer becomes an :class:`ExtendedEmbeddingInput`,
which looks ids ``>= V`` up in the extension (frozen, float32) and ids ``< V`` in the normal table. The
decoder keeps the original layer (with ``share_embeddings`` too), so output ids stay ``< V``. The
translator never imports this module: the tool installs itself on a translator.

The vectors file is read through :func:`vectorseq.embeddings.vectors_io.stream_vectors`, the same readers
that build the training matrix.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from ..config import Config
from ..embeddings.base import InputLayer
from ..embeddings.factory import EmbeddingInput
from ..embeddings.matrix import lookup_forms
from ..embeddings.vectors_io import NAMED_SOURCES, VectorStream, stream_vectors
from ..errors import ConfigError, DataError, VectorseqError
from ..modelfolder import EXTENSION_DIR, WEIGHTS_FILE
from ..translator import Translator
from ..vectorizer import NUM_SPECIAL_TOKENS, UNK_ID, TextVectorizer

__all__ = [
    "EXTENSION_DIR",
    "ExtendedEmbeddingInput",
    "VocabularyExtension",
    "attach_extension",
    "check_extendable",
    "encode_sources_with_extension",
    "encode_with_extension",
    "extend_model_folder",
    "load_extended_translator",
    "load_extension",
    "oov_stats",
]

WORDS_FILE = "vocab.json"
VECTORS_FILE = "vectors.safetensors"
FORMAT_NAME = "vectorseq.VocabularyExtension"
FORMAT_VERSION = 1
_DTYPES = {"float16": torch.float16, "float32": torch.float32}
#: Frozen table rows that may differ from the file before the model is refused (a duplicate line or two).
MISMATCH_TOLERANCE = 0.01


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------
def vocabulary_fingerprint(vocabulary: Sequence[str]) -> str:
    """SHA-256 of the source vocabulary: an extension belongs to exactly one vocabulary."""
    return hashlib.sha256(json.dumps(list(vocabulary), ensure_ascii=False).encode("utf-8")).hexdigest()


def check_extendable(config: Any, src_vectorizer: Any, src_layer: nn.Module | None = None) -> np.ndarray | None:
    """Raise a :class:`VectorseqError` unless the source side can take a vocabulary extension.

    Needs a word-level source vectorizer (``split: word`` or ``whitespace``), ``input: embedding`` with
    pretrained ``vectors`` and a table whose pretrained rows stayed frozen (policy ``frozen`` or
    ``partial``, not unfrozen by ``unfreeze_after``). Returns the boolean mask of frozen rows (None when
    ``src_layer`` is not given).
    """
    side = config.embeddings.src
    if hasattr(src_vectorizer, "vectorizers"):  # LanguageVectorizers: new words would need a language each
        raise VectorseqError("vocabulary extension needs one source vocabulary; this model has one per language "
                             "(vectorizer.per_language), which the extension does not handle")
    split = getattr(src_vectorizer, "split_name", None)
    if split not in ("word", "whitespace"):
        raise VectorseqError(
            f"vocabulary extension needs a word-level source vectorizer (vectorizer.src.split: word or "
            f"whitespace); this model splits the source with {split!r}, which has no out-of-vocabulary words "
            "to rescue (subwords / characters cover every word)")
    if side.input != "embedding":
        raise VectorseqError(
            f"vocabulary extension needs embeddings.src.input: embedding (a table of pretrained vectors); "
            f"this model uses {side.input!r}")
    if not side.vectors:
        raise VectorseqError(
            "vocabulary extension needs a source table initialized from pretrained vectors "
            "(embeddings.src.vectors); this model learned its table from scratch, so vectors of new words "
            "would come from a space the encoder never saw")
    if side.policy in ("finetune", "learned"):
        raise VectorseqError(
            f"vocabulary extension refused: embeddings.src.policy is {side.policy!r}, so every row of the "
            f"source table was trained and moved away from the space of {side.vectors}; the vectors of new "
            "words would not mean to the encoder what they mean in the file. It needs a table whose "
            "pretrained rows stayed frozen: retrain with embeddings.src.policy: frozen or partial")
    if src_layer is None:
        return None
    if isinstance(src_layer, ExtendedEmbeddingInput):
        raise VectorseqError("this model's source input layer is already extended")
    if not isinstance(src_layer, EmbeddingInput):
        raise VectorseqError(f"vocabulary extension needs an embedding table on the source side, got "
                             f"{type(src_layer).__name__}")
    # trainable_rows is a persistent buffer: all False for frozen, ~pretrained rows for partial, all True
    # once unfreeze_after has unfrozen the table (as saved with these weights)
    frozen = (~src_layer.trainable_rows.detach().cpu()).numpy().astype(bool)
    if not frozen[NUM_SPECIAL_TOKENS:].any():
        after = f" (unfreeze_after: {side.unfreeze_after})" if side.unfreeze_after is not None else ""
        raise VectorseqError(
            f"vocabulary extension refused: every row of the source table was trainable when these weights "
            f"were saved{after}, so the table moved away from the space of {side.vectors}; use weights saved "
            "before the table was unfrozen, or retrain without unfreeze_after")
    return frozen


# --------------------------------------------------------------------------------------------
# Picking the words of the extension from the vectors file
# --------------------------------------------------------------------------------------------
@dataclass
class _Selection:
    """The words picked from a vectors file (in file order), and what was seen on the way."""

    words: list[str] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    priority: list[int] = field(default_factory=list)  # how each word's vector was reached (lookup_forms order)
    position: dict[str, int] = field(default_factory=dict)
    verified: set[int] = field(default_factory=set)  # frozen table rows compared with the file
    mismatched: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    read: int = 0
    in_vocab: int = 0


def _form_priority(word: str, token: str) -> int | None:
    """How training's lookup would reach ``word`` from the token (its rank in :func:`lookup_forms`), or None."""
    return next((rank for rank, (_, form) in enumerate(lookup_forms(token)) if form == word), None)


def _token_of(word_b: bytes, tokenize: Any, skipped: Counter) -> tuple[str | None, int]:
    """The token a file word stands for and the priority of that form; ``(None, 0)`` (counted) when none."""
    try:
        w = word_b.decode("utf-8")
    except UnicodeDecodeError:
        skipped["not_utf8"] += 1
        return None, 0
    toks = tokenize(w)
    if len(toks) != 1:
        skipped["not_one_token"] += 1
        return None, 0
    p = _form_priority(w, toks[0])
    if p is None:
        skipped["standardize_changes_word"] += 1
        return None, 0
    return toks[0], p


def _verify_row(sel: _Selection, i: int, token: str, vector: np.ndarray | None, table: np.ndarray) -> None:
    """Compare a frozen table row with the file's vector of its exact word."""
    if vector is not None and np.isfinite(vector).all():
        sel.verified.add(i)
        if not np.allclose(table[i], vector, rtol=1e-5, atol=1e-6):
            sel.mismatched.append(token)


def _offer(sel: _Selection, token: str, p: int, stream: VectorStream, handle: Any, max_words: int) -> None:
    """Add a token outside the vocabulary, or give it a better form's vector (as training would choose)."""
    j = sel.position.get(token)
    if j is None and len(sel.words) >= max_words:
        sel.skipped["over_max_words"] += 1
        return
    if j is not None and p >= sel.priority[j]:
        sel.skipped["duplicate_token"] += 1
        return
    v = stream.vector(handle)
    if v is None or not np.isfinite(v).all():
        sel.skipped["malformed"] += 1
        return
    if j is None:
        sel.position[token] = len(sel.words)
        sel.words.append(token)
        sel.vectors.append(v)
        sel.priority.append(p)
    else:  # a better form of a token already added (``paris`` after ``Paris``): training's choice
        sel.vectors[j], sel.priority[j] = v, p
        sel.skipped["duplicate_token"] += 1


def _select(stream: VectorStream, vectorizer: TextVectorizer, table: np.ndarray, frozen: np.ndarray,
            max_words: int) -> _Selection:
    """Stream the file once: pick the new words, and check the frozen rows against the file."""
    sel = _Selection()
    vocab_index = {t: i for i, t in enumerate(vectorizer.get_vocabulary())}
    for word_b, handle in stream:
        sel.read += 1
        token, p = _token_of(word_b, vectorizer.tokenize, sel.skipped)
        if token is None:
            continue
        i = vocab_index.get(token)
        if i is None:
            _offer(sel, token, p, stream, handle, max_words)
            continue
        sel.in_vocab += 1
        if p == 0 and i >= NUM_SPECIAL_TOKENS and frozen[i] and i not in sel.verified:
            _verify_row(sel, i, token, stream.vector(handle), table)
    return sel


# --------------------------------------------------------------------------------------------
# Building the extension
# --------------------------------------------------------------------------------------------
def extend_model_folder(model_dir: str | os.PathLike, vectors: str | os.PathLike | None = None,
                        max_words: int = 50_000, dtype: str = "float16", *, format: str = "auto",
                        words: str | os.PathLike | None = None) -> dict:
    """Write ``MODEL_DIR/extension/`` with up to ``max_words`` pretrained words missing from the vocabulary.

    Args:
        model_dir: a model folder whose source side is a word-level table of frozen pretrained vectors
            (policy ``frozen`` or ``partial``; ``finetune`` is refused, see the module docstring).
        vectors: the vectors source (default: the config's ``embeddings.src.vectors``); its frozen rows
            are checked against the table.
        max_words: the most words to add (distinct tokens, in file order).
        dtype: ``"float16"`` (half the bytes; the vectors are cast to float32 when loaded) or ``"float32"``.
        format, words: as for :func:`vectorseq.embeddings.matrix.build_matrix`.

    Returns:
        A JSON-able summary: ``words`` (added), ``bytes`` (on disk), ``path``, ``source``, ``dim``,
        ``dtype``, ``vectors_read``, ``in_vocabulary``, ``skipped`` (by reason), ``verified_rows`` /
        ``mismatched_rows`` (frozen table rows compared with the file), ``first_words``.

    Raises:
        VectorseqError: the model cannot be extended (with the reason), the vectors do not match the
            model (another file, another dimension), a bad option.
    """
    _check_options(dtype, max_words)
    d = Path(model_dir)
    tr = Translator.load(d)
    layer = tr.model.src_input
    frozen = check_extendable(tr.config, tr.src_vectorizer, layer)
    source = _vectors_source(tr.config, vectors)
    stream, info = stream_vectors(source, format=format, words=os.fspath(words) if words else None)
    table = layer.token_embedding.weight.detach().cpu().numpy()
    if stream.dim != table.shape[1]:
        raise VectorseqError(
            f"{source} has {stream.dim}-dimensional vectors but the model's source table has "
            f"{table.shape[1]} dimensions: not the vectors the model was trained with")
    sel = _select(stream, tr.src_vectorizer, table, frozen, max_words)
    if sel.mismatched and len(sel.mismatched) >= max(1.0, MISMATCH_TOLERANCE * len(sel.verified)):
        raise VectorseqError(
            f"{len(sel.mismatched)} of the {len(sel.verified)} frozen source rows checked differ from {source} "
            f"(e.g. {', '.join(repr(m) for m in sel.mismatched[:3])}): these are not the vectors the model was "
            "trained with, so new words would come from another space; pass the training vectors with --vectors")
    tensor = _as_tensor(sel.vectors, stream.dim, dtype, source)
    meta = _meta(tr, info, stream.dim, dtype, max_words, sel.words)
    path = _write_extension(d, meta, tensor)
    return _summary(path, info, stream.dim, dtype, max_words, sel, frozen, tr.config.embeddings.src.policy)


def _check_options(dtype: str, max_words: int) -> None:
    if dtype not in _DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    if not isinstance(max_words, int) or isinstance(max_words, bool) or max_words < 0:
        raise ConfigError(f"max_words must be a non-negative integer, got {max_words!r}")


def _vectors_source(config: Config, vectors: str | os.PathLike | None) -> str:
    """The vectors to read: the given ones, else the config's (which must still be reachable from here)."""
    if vectors is not None:
        return os.fspath(vectors)
    source = str(config.embeddings.src.vectors)
    if source not in NAMED_SOURCES and not Path(source).expanduser().exists():
        raise VectorseqError(
            f"the vectors file this model was trained with ({source}, from embeddings.src.vectors) is not "
            "found from here; pass its path (`vectorseq embeddings extend MODEL_DIR --vectors PATH`)")
    return source


def _as_tensor(vectors: list[np.ndarray], dim: int, dtype: str, source: str) -> Tensor:
    matrix = np.stack(vectors) if vectors else np.zeros((0, dim), np.float32)
    tensor = torch.from_numpy(matrix).to(_DTYPES[dtype])
    if not torch.isfinite(tensor).all():
        raise VectorseqError(f"some vectors of {source} overflow {dtype}; use dtype float32 (--dtype float32)")
    return tensor


def _meta(tr: Translator, info: Any, dim: int, dtype: str, max_words: int, words: list[str]) -> dict:
    """What ``vocab.json`` records: the words and the vocabulary (and source) they belong to."""
    vec, vocab = tr.src_vectorizer, tr.src_vectorizer.get_vocabulary()
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "source": str(info.source),
        "vectors_format": info.format,
        "dim": int(dim),
        "dtype": dtype,
        "base_vocab_size": len(vocab),
        "base_vocab_sha256": vocabulary_fingerprint(vocab),
        "standardize": vec.standardize_name,
        "split": vec.split_name,
        "policy": tr.config.embeddings.src.policy,
        "max_words": max_words,
        "words": words,
    }


def _summary(path: Path, info: Any, dim: int, dtype: str, max_words: int, sel: _Selection, frozen: np.ndarray,
             policy: str) -> dict:
    """The JSON-able summary :func:`extend_model_folder` returns (and the CLI prints)."""
    return {
        "path": str(path),
        "source": str(info.source),
        "format": info.format,
        "dim": int(dim),
        "dtype": dtype,
        "words": len(sel.words),
        "bytes": int(sum(p.stat().st_size for p in path.iterdir())),
        "max_words": max_words,
        "vectors_read": sel.read,
        "in_vocabulary": sel.in_vocab,
        "skipped": dict(sorted(sel.skipped.items())),
        "verified_rows": len(sel.verified),
        "mismatched_rows": len(sel.mismatched),
        "frozen_rows": int(frozen[NUM_SPECIAL_TOKENS:].sum()),
        "policy": policy,
        "first_words": sel.words[:10],
    }


def _write_extension(model_dir: Path, meta: dict, tensor: Tensor) -> Path:
    """Write ``extension/`` next to the weights atomically (a temporary folder renamed into place)."""
    final = model_dir / EXTENSION_DIR
    tmp = Path(tempfile.mkdtemp(prefix=f".{EXTENSION_DIR}.", dir=model_dir))
    try:
        (tmp / WORDS_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        save_file({"vectors": tensor.contiguous()}, str(tmp / VECTORS_FILE),
                  metadata={"format": FORMAT_NAME, "version": str(FORMAT_VERSION)})
        old = None
        if final.exists():
            old = model_dir / f".{EXTENSION_DIR}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


# --------------------------------------------------------------------------------------------
# Loading and encoding
# --------------------------------------------------------------------------------------------
@dataclass
class VocabularyExtension:
    """The words of an extension and their vectors (float32); word ``j`` has the id ``base_vocab_size + j``."""

    words: list[str]
    vectors: Tensor
    base_vocab_size: int
    meta: dict = field(default_factory=dict)
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {w: self.base_vocab_size + j for j, w in enumerate(self.words)}
        if self.vectors.shape[0] != len(self.words):
            raise VectorseqError(f"the extension has {len(self.words)} words but {self.vectors.shape[0]} vectors")

    def __len__(self) -> int:
        return len(self.words)


def load_extension(model_dir: str | os.PathLike, src_vectorizer: Any = None,
                   dim: int | None = None) -> VocabularyExtension:
    """Read ``MODEL_DIR/extension/`` (JSON + safetensors); check it belongs to this vocabulary and width."""
    d = Path(model_dir) / EXTENSION_DIR
    words_path, vectors_path = d / WORDS_FILE, d / VECTORS_FILE
    if not words_path.is_file() or not vectors_path.is_file():
        raise VectorseqError(
            f"{Path(model_dir)}: no vocabulary extension ({EXTENSION_DIR}/{WORDS_FILE} and {VECTORS_FILE}); "
            f"build one with `vectorseq embeddings extend {model_dir}`")
    try:
        meta = json.loads(words_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read the extension's word list ({e})", str(words_path)) from None
    if meta.get("format") != FORMAT_NAME or int(meta.get("version", 0)) > FORMAT_VERSION:
        raise DataError(f"not a {FORMAT_NAME} file of version <= {FORMAT_VERSION}; rebuild it with "
                        f"`vectorseq embeddings extend {model_dir}`", str(words_path))
    vectors = load_file(str(vectors_path))["vectors"].to(torch.float32)
    words = list(meta["words"])
    if src_vectorizer is not None:
        vocab = src_vectorizer.get_vocabulary()
        if len(vocab) != meta["base_vocab_size"] or vocabulary_fingerprint(vocab) != meta["base_vocab_sha256"]:
            raise VectorseqError(
                f"{d} was built for another source vocabulary (the model was retrained since?); rebuild it "
                f"with `vectorseq embeddings extend {model_dir}`")
    if dim is not None and vectors.shape[1] != dim:
        raise VectorseqError(f"{d} holds {vectors.shape[1]}-d vectors but the source table is {dim}-d; rebuild it "
                             f"with `vectorseq embeddings extend {model_dir}`")
    return VocabularyExtension(words=words, vectors=vectors, base_vocab_size=int(meta["base_vocab_size"]), meta=meta)


def _index_of(vectorizer: Any, words: Any) -> Mapping[str, int]:
    if isinstance(words, VocabularyExtension):
        return words.index
    V = vectorizer.vocabulary_size()
    if isinstance(words, Mapping):
        return {w: int(i) for w, i in words.items()}
    return {w: V + j for j, w in enumerate(words)}


def _rescue(ids: list[int], tokens: list[str], index: Mapping[str, int]) -> list[int]:
    """``ids`` (one per token, maybe followed by EOS) with each ``<unk>`` whose token is in ``index`` replaced."""
    if len(ids) - len(tokens) not in (0, 1):  # pragma: no cover - word-level vectorizers give one id per token
        raise VectorseqError("vocabulary extension needs a word-level vectorizer (one id per token)")
    return [index.get(t, UNK_ID) if i == UNK_ID else i for i, t in zip(ids, tokens)] + ids[len(tokens):]


def encode_with_extension(vectorizer: Any, words: VocabularyExtension | Sequence[str] | Mapping[str, int],
                          text: str) -> list[int]:
    """The source ids of ``text``: the vectorizer's ids, except that a token it maps to ``<unk>``
    that is in the extension gets ``V + j`` (``words[j]``; or the id of a ``{word: id}`` mapping).

    Without such tokens the result is exactly ``vectorizer.encode(text)``.
    """
    ids = vectorizer.encode(text)
    if UNK_ID not in ids:
        return ids
    return _rescue(ids, vectorizer.tokenize(text), _index_of(vectorizer, words))


def encode_sources_with_extension(vectorizer: Any, words: VocabularyExtension | Sequence[str] | Mapping[str, int],
                                  texts: Iterable[str]) -> list[list[int]]:
    """``vectorizer.encode_sources(texts)`` (ids, then EOS: the vectorizer owns that rule), with ``<unk>``
    tokens found in the extension given their ids, as :func:`encode_with_extension` does."""
    texts = list(texts)
    index = _index_of(vectorizer, words)
    return [_rescue(ids, vectorizer.tokenize(text), index) if UNK_ID in ids else ids
            for ids, text in zip(vectorizer.encode_sources(texts), texts)]


def oov_stats(vectorizer: Any, extension: VocabularyExtension, texts: Iterable[str]) -> dict:
    """How many source tokens are ``<unk>`` to the model and how many the extension rescues. JSON-able."""
    tokens = unk = rescued = sentences = sentences_rescued = 0
    for text in texts:
        ids = vectorizer.encode(text)
        ext = encode_with_extension(vectorizer, extension, text)
        n_unk = sum(1 for i in ids if i == UNK_ID)
        n_res = sum(1 for i in ext if i >= extension.base_vocab_size)
        tokens += len(ids)
        unk += n_unk
        rescued += n_res
        sentences += 1
        sentences_rescued += n_res > 0
    return {"sentences": sentences, "tokens": tokens, "unk_tokens": unk, "rescued_tokens": rescued,
            "still_unk_tokens": unk - rescued, "sentences_with_rescued": sentences_rescued,
            "rescued_fraction_of_unk": (rescued / unk) if unk else None}


# --------------------------------------------------------------------------------------------
# The extended input layer, and installing the extension on a Translator
# --------------------------------------------------------------------------------------------
class ExtendedEmbeddingInput(InputLayer):
    """An :class:`EmbeddingInput` whose ids ``>= V`` are looked up in a frozen extension matrix.

    ``forward(ids, mask)`` computes ``proj(cat[table, extension][ids] * scale)`` without building the
    concatenated matrix: ids ``< V`` go through the original table (a batch without extended ids runs
    exactly the original layer's operations), ids ``>= V`` through ``extension``. The layer holds the
    original table, projection and buffers under the same names, so the model's ``state_dict`` is
    unchanged; the extension itself is a non-persistent buffer (saving the model never writes it).
    """

    uses_positions = True

    def __init__(self, base: EmbeddingInput, extension: Tensor):
        if not isinstance(base, EmbeddingInput):
            raise VectorseqError(f"ExtendedEmbeddingInput wraps an EmbeddingInput, got {type(base).__name__}")
        super().__init__(base.output_dim, base.policy, base.lr_multiplier)
        weight = base.token_embedding.weight
        if extension.dim() != 2 or extension.shape[1] != weight.shape[1]:
            raise VectorseqError(f"the extension must be [N, {weight.shape[1]}], got {tuple(extension.shape)}")
        self.token_embedding = base.token_embedding
        self.proj = base.proj
        self.register_buffer("scale", base.scale)
        self.register_buffer("trainable_rows", base.trainable_rows)
        self.register_buffer("extension", extension.detach().to(device=weight.device, dtype=weight.dtype),
                             persistent=False)
        self.vocab_size = int(weight.shape[0])

    @property
    def num_embeddings(self) -> int:
        """Table rows plus extension rows (the ids this layer accepts)."""
        return self.vocab_size + int(self.extension.shape[0])

    def forward(self, ids: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        V = self.vocab_size
        is_ext = ids >= V
        if not bool(is_ext.any()):
            return self.proj(self.token_embedding(ids) * self.scale), mask
        if int(ids.max()) >= self.num_embeddings:
            raise VectorseqError(f"id {int(ids.max())} is beyond the table ({V}) and the extension "
                                 f"({self.extension.shape[0]} words)")
        emb = self.token_embedding(ids.masked_fill(is_ext, 0))
        ext = nn.functional.embedding((ids - V).clamp(min=0), self.extension)
        emb = torch.where(is_ext.unsqueeze(-1), ext, emb)
        return self.proj(emb * self.scale), mask


def attach_extension(translator: Translator, model_dir: str | os.PathLike | None = None,
                     extension: VocabularyExtension | None = None) -> VocabularyExtension:
    """Give a loaded :class:`~vectorseq.translator.Translator` its vocabulary extension.

    Swaps ``translator.model.src_input`` (the encoder side only; the decoder keeps the original layer,
    with ``share_embeddings`` too, so output ids stay ``< V``) for an :class:`ExtendedEmbeddingInput`,
    installs :func:`encode_sources_with_extension` as ``translator.source_encoder`` (the translator's hook
    for encoding sources) and sets ``translator.extension``. ``extension`` defaults to ``MODEL_DIR/extension/``.
    """
    model = translator.model
    layer = model.src_input
    check_extendable(translator.config, translator.src_vectorizer, layer)
    if extension is None:
        if model_dir is None:
            raise VectorseqError("attach_extension needs model_dir or extension")
        extension = load_extension(model_dir, translator.src_vectorizer, layer.token_embedding.weight.shape[1])
    elif extension.base_vocab_size != translator.src_vectorizer.vocabulary_size():
        raise VectorseqError("the extension was built for another source vocabulary")
    model.src_input = ExtendedEmbeddingInput(layer, extension.vectors)
    translator.source_encoder = functools.partial(encode_sources_with_extension, translator.src_vectorizer,
                                                  extension)
    translator.extension = extension
    return extension


def load_extended_translator(model_dir: str | os.PathLike, device: str = "cpu",
                             weights: str = WEIGHTS_FILE) -> Translator:
    """:meth:`Translator.load` with the folder's vocabulary extension attached (``--extend-vocab``): source
    words missing from the vocabulary but present in ``MODEL_DIR/extension/`` (``vectorseq embeddings
    extend``) get their frozen pretrained vectors instead of ``<unk>``."""
    translator = Translator.load(model_dir, device=device, weights=weights)
    attach_extension(translator, model_dir)
    return translator
