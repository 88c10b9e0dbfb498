"""Text vectorization: the :class:`TextVectorizer` that turns raw text into ids (and back).

In vectorseq the vectorizer is part of the model: the same object is saved in the model folder and used for
training, translation and evaluation. One class serves the source and the target side. It follows the
habits of Keras ``TextVectorization`` (argument names, ``adapt``, output modes) and of scikit-learn
(``fit`` / ``transform`` / ``inverse_transform``, TF-IDF through ``TfidfTransformer``).

Pipeline
--------
``text --standardize--> text --split--> tokens --lookup--> ids`` (see :mod:`vectorseq.standardize` for
the standardize and split options). With ``split="sentencepiece"`` the last two steps are one trained
SentencePiece model (BPE or unigram).

Special tokens
--------------
Every vocabulary, in every split mode, starts with the same four entries, so code elsewhere can use the
constants below without asking the vectorizer:

====== ========== ==========================================================
id     token      meaning
====== ========== ==========================================================
0      ``<pad>``  padding (:data:`PAD_ID`); never produced from text
1      ``<unk>``  unknown token (:data:`UNK_ID`)
2      ``<s>``    beginning of sequence (:data:`BOS_ID`); only via ``add_bos``
3      ``</s>``   end of sequence (:data:`EOS_ID`); only via ``add_eos``
====== ========== ==========================================================

Text never produces the ids 0, 2 or 3: a literal ``"</s>"`` in the input is an ordinary (unknown) token in
word / whitespace mode and ordinary pieces in SentencePiece mode, so user text cannot inject control
tokens.

Vocabulary
----------
``adapt(texts)`` (alias ``fit``) streams any iterable of strings once, a generator included, and keeps only
a counter of distinct tokens (memory grows with the vocabulary, not with the corpus). The vocabulary is the
four specials, then the tokens by frequency (descending), ties broken by the token string (code point
order); tokens seen fewer than ``min_freq`` times are dropped and ``max_tokens`` caps the total size
*including* the four specials. ``vocabulary=[...]`` sets a vocabulary directly (``adapt`` is then not
needed). ``adapt`` again replaces the vocabulary.

A **shared** source/target vocabulary needs nothing special: adapt one vectorizer on both sides, e.g.
``TextVectorizer(split="word").adapt(itertools.chain(src_texts, tgt_texts))``, and use it for both.

SentencePiece (``split="sentencepiece"``)
-----------------------------------------
``adapt`` standardizes each text, collapses every run of Unicode whitespace to one space (SentencePiece is
line-based), streams the lines to a temporary file and trains a model with
``vocab_size=max_tokens`` (required), ``model_type=sentencepiece_model_type``, ``character_coverage``,
ids 0-3 for the four specials, ``normalization_rule_name="identity"`` (no hidden NFKC: use
``standardize="nfkc"`` if you want it), one thread and the given ``seed`` (deterministic), and
``hard_vocab_limit=False`` (a small corpus may give fewer than ``max_tokens`` pieces). The vocabulary is the
pieces in SentencePiece id order. What is guaranteed: for a text whose characters all occur in the
training corpus (``character_coverage=1.0``, the default),
``decode(encode(x)) == " ".join(standardize(x).split())`` — exact, up to whitespace normalization.
``min_freq`` does not apply to SentencePiece.

Decoding: what comes back
-------------------------
``decode(ids)`` stops at the first ``</s>``, drops ``<pad>`` and ``<s>`` and renders unknown ids as
``"<unk>"``. For a text ``x`` whose tokens are all in the vocabulary (and none is literally a special-token
string), with ``s = standardize(x)``:

* ``split="character"``: ``decode(encode(x)) == s`` exactly (spaces are tokens too);
* ``split="whitespace"``: ``decode(encode(x)) == " ".join(s.split())``;
* ``split="word"``: the original spacing is not stored, so it is rebuilt (no space before ``. , ! ? ; : ) ]``,
  none after ``( [ ¿``, none around ``-`` ``/``; see :func:`vectorseq.standardize.join_word_tokens`). What
  is guaranteed: the non-space characters are identical (``"".join(out.split()) == "".join(s.split())``)
  and splitting ``out`` again gives the same tokens;
* ``split="sentencepiece"``: ``decode(encode(x)) == " ".join(s.split())`` (see above).

The tests check each of these on random Unicode text (hypothesis).

Output modes (``output_mode=``, used by :meth:`TextVectorizer.transform`)
-------------------------------------------------------------------------
``"int"``
    numpy ``int64`` ``[B, T]``, padded with 0; ``T = output_sequence_length`` or the longest text.
``"one_hot"``
    numpy ``float32`` ``[B, T, V]`` (dense, like Keras). Unlike Keras, padding positions are all-zero rows
    (so ``out.sum(-1)`` is the mask). Refused with a :class:`VectorseqError` stating the memory it would take
    when over :data:`ONE_HOT_MAX_BYTES` (use ``"int"`` ids with an embedding instead).
``"multi_hot"`` / ``"count"`` / ``"tf_idf"``
    ``scipy.sparse.csr_matrix`` ``[B, V]`` (``[B, max_tokens]`` with ``pad_to_max_tokens=True``), one row
    per text. Column ``i`` is vocabulary id ``i`` — unlike Keras we keep the pad column (always zero) so
    that columns and ids share one index. As in Keras, unknown tokens are counted in the ``<unk>`` column
    and ``ngrams=`` adds n-grams (tokens joined by one space) to the vocabulary: ``ngrams=2`` means
    unigrams and bigrams, ``ngrams=(2, 3)`` means exactly bigrams and trigrams (Keras semantics: a tuple
    lists the orders; scikit-learn's ``ngram_range=(2, 3)`` is the same here, but ``(1, 3)`` differs).
    ``multi_hot`` and ``count`` are ``float32``.

    ``"tf_idf"`` follows scikit-learn: the counts go through ``sklearn``'s ``TfidfTransformer`` with the idf
    learned in ``adapt`` (``idf = ln((1 + n) / (1 + df)) + 1`` with ``smooth_idf=True``, else
    ``ln(n / df) + 1``), optional ``sublinear_tf`` and ``tfidf_norm`` (``"l2"`` by default), as ``float64``.
    On texts without unknown tokens the values equal ``TfidfVectorizer`` with the same tokens and
    vocabulary. Unknown tokens count in the ``<unk>`` column, whose idf is the mean idf of the vocabulary
    (as in Keras), and take part in the norm (scikit-learn would ignore them). With ``idf_weights=`` given
    (Keras semantics) the output is ``count * idf_weights`` and by default not normalized
    (``tfidf_norm="auto"`` means ``"l2"`` for a learned idf, ``None`` for given weights).

Saving
------
``save(directory)`` writes ``vectorizer.json`` (config, vocabulary, idf) and, for SentencePiece,
``sentencepiece.model``; :meth:`TextVectorizer.load` reads them back. Nothing is pickled.
"""
from __future__ import annotations

import dataclasses
import difflib
import io
import itertools
import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .errors import VectorseqError
from .standardize import (
    SPLIT_OPTIONS,
    STANDARDIZE_OPTIONS,
    choose_option,
    get_splitter,
    get_standardizer,
    join_tokens,
)

if TYPE_CHECKING:  # torch / scipy are imported lazily: ``import vectorseq.vectorizer`` stays fast
    import scipy.sparse
    import torch

__all__ = [
    "PAD_ID",
    "UNK_ID",
    "BOS_ID",
    "EOS_ID",
    "PAD_TOKEN",
    "UNK_TOKEN",
    "BOS_TOKEN",
    "EOS_TOKEN",
    "SPECIAL_TOKENS",
    "NUM_SPECIAL_TOKENS",
    "OUTPUT_MODES",
    "STANDARDIZE_OPTIONS",
    "SPLIT_OPTIONS",
    "SENTENCEPIECE_MODEL_TYPES",
    "ONE_HOT_MAX_BYTES",
    "EncodedBatch",
    "TextVectorizer",
]

PAD_ID = 0
UNK_ID = 1
BOS_ID = 2
EOS_ID = 3
PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
BOS_TOKEN = "<s>"
EOS_TOKEN = "</s>"
#: The first four vocabulary entries, in id order, in every split mode.
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, BOS_TOKEN, EOS_TOKEN)
NUM_SPECIAL_TOKENS = 4

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
BAG_MODES = ("multi_hot", "count", "tf_idf")
SENTENCEPIECE_MODEL_TYPES = ("bpe", "unigram")
TFIDF_NORMS = ("auto", "l2", "l1", "none")

#: ``transform`` refuses a dense one-hot array larger than this many bytes (module-level, so it can be raised).
ONE_HOT_MAX_BYTES = 1 << 30

CONFIG_FILE = "vectorizer.json"
SENTENCEPIECE_FILE = "sentencepiece.model"
FORMAT_NAME = "vectorseq.TextVectorizer"
FORMAT_VERSION = 1


@dataclasses.dataclass
class EncodedBatch:
    """A padded batch of id sequences, ready for a model.

    Attributes:
        ids: ``torch.LongTensor [B, T]``, padded with :data:`PAD_ID` (0).
        lengths: ``torch.LongTensor [B]``, the number of real ids in each row (BOS/EOS included).
        mask: ``torch.BoolTensor [B, T]``, ``True`` at real tokens, ``False`` at padding.
    """

    ids: "torch.Tensor"
    lengths: "torch.Tensor"
    mask: "torch.Tensor"

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def to(self, device: Any) -> "EncodedBatch":
        """The same batch on another device."""
        return EncodedBatch(self.ids.to(device), self.lengths.to(device), self.mask.to(device))


def _human_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def _iter_texts(texts: Iterable[str], method: str) -> Iterator[str]:
    """Yield the texts, checking that each is a ``str`` (and that ``texts`` is not a single string)."""
    if isinstance(texts, (str, bytes)):
        raise VectorseqError(
            f"{method}() expects an iterable of strings, got a single {type(texts).__name__}; "
            f"wrap it in a list: {method}([text])"
        )
    try:
        iterator = iter(texts)
    except TypeError:
        raise VectorseqError(
            f"{method}() expects an iterable of strings, got {type(texts).__name__}"
        ) from None
    for i, text in enumerate(iterator):
        if not isinstance(text, str):
            raise VectorseqError(
                f"{method}(): text #{i} is {type(text).__name__}, expected str"
                + (" (decode bytes with .decode('utf-8') first)" if isinstance(text, bytes) else "")
            )
        yield text


def _check_text(text: Any, method: str) -> str:
    if not isinstance(text, str):
        raise VectorseqError(f"{method}() expects a str, got {type(text).__name__}")
    return text


def _to_id_list(ids: Any) -> list[int]:
    """Accept a list / tuple / numpy array / torch tensor of ints (1-D) and return a list of ints."""
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if isinstance(ids, int):
        raise VectorseqError("expected a sequence of ids, got a single int; wrap it in a list")
    try:
        return [int(i) for i in ids]
    except (TypeError, ValueError):
        raise VectorseqError(f"expected a 1-D sequence of integer ids, got {ids!r:.80}") from None


def _normalize_ngrams(ngrams: Any) -> tuple[int, ...] | None:
    if ngrams is None:
        return None
    if isinstance(ngrams, bool):
        raise VectorseqError(f"ngrams must be None, a positive int or a tuple of positive ints, got {ngrams!r}")
    if isinstance(ngrams, int):
        if ngrams < 1:
            raise VectorseqError(f"ngrams must be >= 1, got {ngrams}")
        return tuple(range(1, ngrams + 1))
    if isinstance(ngrams, (list, tuple)) and ngrams and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in ngrams
    ):
        return tuple(sorted(set(ngrams)))
    raise VectorseqError(f"ngrams must be None, a positive int or a tuple of positive ints, got {ngrams!r}")


def _make_ngrams(tokens: list[str], orders: tuple[int, ...]) -> list[str]:
    """Keras n-grams: for each order n in ``orders``, every run of n tokens joined by one space."""
    out: list[str] = []
    for n in orders:
        if n == 1:
            out.extend(tokens)
        else:
            out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


def _positive_int(name: str, value: Any, minimum: int = 1, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise VectorseqError(f"{name} must be an int >= {minimum}" + (" or None" if allow_none else "") + f", got {value!r}")
    return int(value)


class TextVectorizer:
    """Standardize, split and map text to ids (and back); also one-hot, multi-hot, counts and TF-IDF.

    All arguments are keyword-only; the names follow Keras ``TextVectorization`` where Keras has them.

    Args:
        standardize: ``None``/``"none"``, ``"lower"``, ``"strip_punctuation"``,
            ``"lower_and_strip_punctuation"`` (default, as Keras), ``"nfkc"``, ``"nfkc_lower"`` or a callable
            ``str -> str`` (see :mod:`vectorseq.standardize`).
        split: ``"whitespace"`` (default, as Keras), ``"word"``, ``"character"``, ``"sentencepiece"`` or a
            callable ``str -> list[str]``.
        split_pattern: with ``split="word"``, a regular expression whose matches are the tokens.
        max_tokens: vocabulary size cap, the 4 special tokens included (``None``: no cap). Required for
            SentencePiece, where it is the ``vocab_size``.
        min_freq: drop tokens seen fewer times than this in ``adapt`` (not for SentencePiece).
        vocabulary: a list of tokens to use instead of ``adapt``. It may start with the four special tokens
            (in order); otherwise they are prepended. Not for SentencePiece.
        output_mode: what :meth:`transform` returns: ``"int"`` (default), ``"one_hot"``, ``"multi_hot"``,
            ``"count"`` or ``"tf_idf"`` (see the module docstring).
        output_sequence_length: pad / truncate ``int`` and ``one_hot`` output (and :meth:`encode_batch`)
            to this many positions.
        ngrams: ``multi_hot`` / ``count`` / ``tf_idf`` only: ``2`` = unigrams + bigrams, a tuple lists the
            orders (Keras semantics).
        pad_to_max_tokens: bag modes and ``one_hot``: make the last dimension ``max_tokens`` even when the
            vocabulary is smaller (as Keras).
        idf_weights: ``tf_idf`` with a given ``vocabulary``: one idf per vocabulary entry (as Keras);
            output = ``count * idf``.
        tfidf_norm: ``"auto"`` (default: ``"l2"`` for an idf learned by ``adapt``, none for given
            ``idf_weights``), ``"l2"``, ``"l1"`` or ``None``.
        smooth_idf, sublinear_tf: as in scikit-learn's ``TfidfTransformer``.
        sentencepiece_model_type: ``"unigram"`` (default, as SentencePiece) or ``"bpe"``.
        character_coverage: SentencePiece ``character_coverage`` (default 1.0: every character of the
            corpus gets a piece, which the lossless round trip relies on).
        seed: random seed for SentencePiece training.

    Example::

        v = TextVectorizer(split="word", standardize="lower").adapt(["Hello, world!", "Hello again."])
        v.get_vocabulary()   # ['<pad>', '<unk>', '<s>', '</s>', 'hello', '!', ',', '.', 'again', 'world']
        v.encode("hello world", add_eos=True)     # [4, 9, 3]
        v.decode([4, 6, 9, 5, 3, 7])              # 'hello, world!' (stops at </s>)
        batch = v.encode_batch(["hello", "hello world"], add_bos=True)
        # batch.ids = [[2, 4, 0], [2, 4, 9]], batch.lengths = [2, 3], batch.mask = ids != 0
    """

    def __init__(
        self,
        *,
        standardize: str | Callable[[str], str] | None = "lower_and_strip_punctuation",
        split: str | Callable[[str], list[str]] = "whitespace",
        split_pattern: str | None = None,
        max_tokens: int | None = None,
        min_freq: int = 1,
        vocabulary: Sequence[str] | None = None,
        output_mode: str = "int",
        output_sequence_length: int | None = None,
        ngrams: int | Sequence[int] | None = None,
        pad_to_max_tokens: bool = False,
        idf_weights: Sequence[float] | np.ndarray | None = None,
        tfidf_norm: str | None = "auto",
        smooth_idf: bool = True,
        sublinear_tf: bool = False,
        sentencepiece_model_type: str = "unigram",
        character_coverage: float = 1.0,
        seed: int = 0,
    ) -> None:
        self._standardize_option = standardize
        self._split_option = split
        self.standardize_name, self._standardize = get_standardizer(standardize)
        self.split_name, self._split = get_splitter(split, split_pattern)
        self.split_pattern = split_pattern
        self.max_tokens = _positive_int("max_tokens", max_tokens, minimum=NUM_SPECIAL_TOKENS + 1)
        self.min_freq = _positive_int("min_freq", min_freq, allow_none=False)
        self.output_mode = choose_option("output_mode", output_mode, OUTPUT_MODES)
        self.output_sequence_length = _positive_int("output_sequence_length", output_sequence_length)
        self.ngrams = _normalize_ngrams(ngrams)
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.tfidf_norm = choose_option("tfidf_norm", "none" if tfidf_norm is None else tfidf_norm, TFIDF_NORMS)
        self.smooth_idf = bool(smooth_idf)
        self.sublinear_tf = bool(sublinear_tf)
        self.sentencepiece_model_type = choose_option(
            "sentencepiece_model_type", sentencepiece_model_type, SENTENCEPIECE_MODEL_TYPES
        )
        if isinstance(character_coverage, bool) or not isinstance(character_coverage, (int, float)) or not (
            0.0 < float(character_coverage) <= 1.0
        ):
            raise VectorseqError(f"character_coverage must be a number in (0, 1], got {character_coverage!r}")
        self.character_coverage = float(character_coverage)
        self.seed = _positive_int("seed", seed, minimum=0, allow_none=False)

        is_sp = self.split_name == "sentencepiece"
        if self.ngrams is not None and self.output_mode not in BAG_MODES:
            raise VectorseqError(
                f"ngrams= only applies to output_mode 'multi_hot', 'count' or 'tf_idf' (as in Keras); "
                f"got output_mode={self.output_mode!r}"
            )
        if self.ngrams is not None and is_sp:
            raise VectorseqError("ngrams= is not supported with split='sentencepiece' (its vocabulary is the model's pieces)")
        if self.output_sequence_length is not None and self.output_mode in BAG_MODES:
            raise VectorseqError(
                f"output_sequence_length= only applies to output_mode 'int' or 'one_hot'; got {self.output_mode!r}"
            )
        if self.pad_to_max_tokens and self.max_tokens is None:
            raise VectorseqError("pad_to_max_tokens=True needs max_tokens= (the width to pad to)")
        if is_sp and self.max_tokens is None:
            raise VectorseqError(
                "split='sentencepiece' needs max_tokens= (the SentencePiece vocab_size, specials included), e.g. 8000"
            )
        if is_sp and vocabulary is not None:
            raise VectorseqError(
                "vocabulary= cannot be used with split='sentencepiece': the vocabulary comes from a trained "
                "SentencePiece model (call adapt, or TextVectorizer.load a saved one)"
            )
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise VectorseqError(f"idf_weights= only applies to output_mode='tf_idf'; got {self.output_mode!r}")
        if idf_weights is not None and vocabulary is None:
            raise VectorseqError("idf_weights= needs vocabulary= (one weight per vocabulary entry), as in Keras")
        if self.output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise VectorseqError(
                "output_mode='tf_idf' with a given vocabulary= needs idf_weights= "
                "(or leave vocabulary=None and call adapt, which learns the idf)"
            )

        self._vocab: list[str] | None = None
        self._index: dict[str, int] = {}
        self._sp: Any = None
        self._sp_proto: bytes | None = None
        self._idf_given = False
        #: numpy float64 [V]: the idf of each vocabulary id (tf_idf only; 0 for <pad>, <s>, </s>).
        self.idf_: np.ndarray | None = None
        self._tfidf_cache: dict[int, Any] = {}
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ------------------------------------------------------------------------------------------------
    # Vocabulary

    def set_vocabulary(self, vocabulary: Sequence[str], idf_weights: Sequence[float] | np.ndarray | None = None) -> None:
        """Use ``vocabulary`` (a list of tokens; may start with the four special tokens) instead of adapting.

        ``idf_weights`` (``tf_idf`` only) has one weight per entry of ``vocabulary`` as given; when the
        specials were left out they get idf 0 (``<pad>``, ``<s>``, ``</s>``) and the mean weight
        (``<unk>``), as in Keras.
        """
        if self.split_name == "sentencepiece":
            raise VectorseqError("set_vocabulary() is not available with split='sentencepiece'")
        if isinstance(vocabulary, (str, bytes)):
            raise VectorseqError("vocabulary must be a list of tokens, got a single string")
        vocab = list(vocabulary)
        for i, tok in enumerate(vocab):
            if not isinstance(tok, str):
                raise VectorseqError(f"vocabulary entry #{i} is {type(tok).__name__}, expected str")
            if tok == "":
                raise VectorseqError(f"vocabulary entry #{i} is an empty string (the padding token is {PAD_TOKEN!r})")
        has_specials = tuple(vocab[:NUM_SPECIAL_TOKENS]) == SPECIAL_TOKENS
        regular = vocab[NUM_SPECIAL_TOKENS:] if has_specials else vocab
        for i, tok in enumerate(regular):
            if tok in SPECIAL_TOKENS:
                raise VectorseqError(
                    f"special token {tok!r} is in the vocabulary at position "
                    f"{i + (NUM_SPECIAL_TOKENS if has_specials else 0)}; the specials may only be the first four "
                    f"entries, in the order {', '.join(SPECIAL_TOKENS)} (or leave them out: they are added)"
                )
        seen: set[str] = set()
        for tok in regular:
            if tok in seen:
                raise VectorseqError(f"vocabulary has the token {tok!r} twice")
            seen.add(tok)
        if not regular:
            raise VectorseqError("vocabulary has no tokens besides the special tokens")
        full = list(SPECIAL_TOKENS) + regular
        if self.max_tokens is not None and len(full) > self.max_tokens:
            raise VectorseqError(
                f"vocabulary has {len(full)} entries (specials included) but max_tokens={self.max_tokens}"
            )
        idf = None
        if idf_weights is not None:
            if self.output_mode != "tf_idf":
                raise VectorseqError(f"idf_weights only applies to output_mode='tf_idf'; got {self.output_mode!r}")
            arr = np.asarray(idf_weights, dtype=np.float64)
            if arr.ndim != 1 or arr.shape[0] != len(vocab):
                raise VectorseqError(
                    f"idf_weights has shape {arr.shape} but the vocabulary has {len(vocab)} entries; give one weight per entry"
                )
            if not np.all(np.isfinite(arr)):
                raise VectorseqError("idf_weights must be finite numbers")
            if has_specials:
                idf = arr.copy()
            else:
                idf = np.concatenate([[0.0, float(arr.mean()), 0.0, 0.0], arr])
        elif self.output_mode == "tf_idf":
            raise VectorseqError("output_mode='tf_idf' with a given vocabulary needs idf_weights")
        self._install_vocabulary(full, idf, idf_given=idf is not None)

    def _install_vocabulary(self, vocab: list[str], idf: np.ndarray | None, idf_given: bool = False) -> None:
        self._vocab = vocab
        # Text lookups only: the specials other than <unk> are absent, so a literal "</s>" maps to UNK_ID.
        self._index = {tok: i for i, tok in enumerate(vocab) if i >= NUM_SPECIAL_TOKENS}
        self.idf_ = idf
        self._idf_given = idf_given
        self._tfidf_cache = {}

    def _require_vocab(self, method: str) -> list[str]:
        if self._vocab is None:
            raise VectorseqError(
                f"TextVectorizer.{method}() needs a vocabulary: call adapt(texts) first, pass vocabulary=[...] "
                f"to the constructor, or load a saved vectorizer with TextVectorizer.load(directory)"
            )
        return self._vocab

    @property
    def is_adapted(self) -> bool:
        """Whether a vocabulary is set (by ``adapt``, ``vocabulary=`` or ``load``)."""
        return self._vocab is not None

    def get_vocabulary(self) -> list[str]:
        """The vocabulary as a list: index = id; the first four entries are the special tokens."""
        return list(self._require_vocab("get_vocabulary"))

    def vocabulary_size(self) -> int:
        """The number of ids (special tokens included)."""
        return len(self._require_vocab("vocabulary_size"))

    @property
    def vocabulary_(self) -> dict[str, int]:
        """scikit-learn style ``{token: id}`` mapping (special tokens included)."""
        return {tok: i for i, tok in enumerate(self._require_vocab("vocabulary_"))}

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """scikit-learn style: the column names of the bag-mode matrices (the vocabulary, as an object array)."""
        vocab = self._require_vocab("get_feature_names_out")
        names = list(vocab)
        if self.pad_to_max_tokens and self.max_tokens is not None:
            names += [""] * (self.max_tokens - len(names))
        return np.asarray(names, dtype=object)

    # ------------------------------------------------------------------------------------------------
    # Adapt

    def adapt(self, texts: Iterable[str]) -> "TextVectorizer":
        """Build the vocabulary (and the idf for ``tf_idf``) from ``texts``; returns ``self``.

        ``texts`` is any iterable of strings and is read exactly once, so a generator over a large file
        works. Word / character modes keep one counter of distinct tokens (plus document frequencies for
        ``tf_idf``); SentencePiece streams the standardized lines to a temporary file and trains on it.
        Raises :class:`VectorseqError` for an empty corpus (no texts, or no tokens at all).
        """
        stream = _iter_texts(texts, "adapt")
        if self.split_name == "sentencepiece":
            self._adapt_sentencepiece(stream)
        else:
            self._adapt_counts(stream)
        return self

    def fit(self, texts: Iterable[str], y: Any = None) -> "TextVectorizer":
        """scikit-learn alias of :meth:`adapt` (``y`` is ignored)."""
        return self.adapt(texts)

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> Any:
        """:meth:`fit` then :meth:`transform` (``texts`` is read into a list first: it is used twice)."""
        texts = list(_iter_texts(texts, "fit_transform"))
        return self.adapt(texts).transform(texts)

    def _terms(self, text: str) -> list[str]:
        """Tokens of ``text`` plus, with ``ngrams``, the n-grams: the units the vocabulary counts."""
        tokens = self._split(self._standardize(text))
        if self.ngrams is not None and self.ngrams != (1,):
            return _make_ngrams(tokens, self.ngrams)
        return tokens

    def _adapt_counts(self, stream: Iterator[str]) -> None:
        counts: Counter[str] = Counter()
        want_df = self.output_mode == "tf_idf"
        df: Counter[str] = Counter()
        n_docs = 0
        terms_of = self._terms
        for text in stream:
            terms = terms_of(text)
            counts.update(terms)
            if want_df:
                df.update(set(terms))
            n_docs += 1
        if n_docs == 0:
            raise VectorseqError("adapt() got an empty corpus: no texts")
        for tok in SPECIAL_TOKENS:  # literal specials in text are ordinary unknowns, never vocabulary entries
            counts.pop(tok, None)
        if not counts:
            raise VectorseqError(
                f"adapt() got {n_docs} text(s) but no tokens after standardize={self.standardize_name!r} "
                f"and split={self.split_name!r} (are all texts empty?)"
            )
        items = [(tok, c) for tok, c in counts.items() if c >= self.min_freq]
        items.sort(key=lambda tc: (-tc[1], tc[0]))
        if self.max_tokens is not None:
            items = items[: self.max_tokens - NUM_SPECIAL_TOKENS]
        if not items:
            raise VectorseqError(
                f"adapt(): no token occurs at least min_freq={self.min_freq} times ({len(counts)} distinct tokens)"
            )
        vocab = list(SPECIAL_TOKENS) + [tok for tok, _ in items]
        idf = None
        if want_df:
            doc_freq = np.array([df[tok] for tok, _ in items], dtype=np.float64)
            idf = self._idf_from_df(doc_freq, n_docs)
        self._install_vocabulary(vocab, idf)

    def _idf_from_df(self, doc_freq: np.ndarray, n_docs: int) -> np.ndarray:
        """scikit-learn's idf for the regular tokens, with Keras' values for the specials prepended."""
        if self.smooth_idf:
            regular = np.log((1.0 + n_docs) / (1.0 + doc_freq)) + 1.0
        else:  # a piece never seen (SentencePiece only) gets the idf of a token seen once
            regular = np.log(n_docs / np.maximum(doc_freq, 1.0)) + 1.0
        unk = float(regular.mean()) if regular.size else 0.0
        return np.concatenate([[0.0, unk, 0.0, 0.0], regular])

    # ------------------------------------------------------------------------------------------------
    # SentencePiece

    def _sp_line(self, text: str) -> str:
        """What SentencePiece sees: the standardized text with whitespace runs collapsed to one space."""
        return " ".join(self._standardize(text).split())

    def _adapt_sentencepiece(self, stream: Iterator[str]) -> None:
        import sentencepiece as spm

        with tempfile.TemporaryDirectory(prefix="vectorseq-spm-") as tmp:
            corpus = os.path.join(tmp, "corpus.txt")
            n_docs = n_lines = 0
            with open(corpus, "w", encoding="utf-8") as f:
                for text in stream:
                    n_docs += 1
                    line = self._sp_line(text)
                    if line:
                        f.write(line)
                        f.write("\n")
                        n_lines += 1
            if n_docs == 0:
                raise VectorseqError("adapt() got an empty corpus: no texts")
            if n_lines == 0:
                raise VectorseqError(
                    f"adapt() got {n_docs} text(s) but all are empty after standardize={self.standardize_name!r}"
                )
            model = io.BytesIO()
            spm.set_random_generator_seed(self.seed)
            try:
                spm.SentencePieceTrainer.train(
                    input=corpus,
                    model_writer=model,
                    vocab_size=self.max_tokens,
                    model_type=self.sentencepiece_model_type,
                    character_coverage=self.character_coverage,
                    pad_id=PAD_ID,
                    unk_id=UNK_ID,
                    bos_id=BOS_ID,
                    eos_id=EOS_ID,
                    pad_piece=PAD_TOKEN,
                    unk_piece=UNK_TOKEN,
                    bos_piece=BOS_TOKEN,
                    eos_piece=EOS_TOKEN,
                    unk_surface=UNK_TOKEN,
                    normalization_rule_name="identity",
                    num_threads=1,
                    hard_vocab_limit=False,
                    minloglevel=2,
                )
            except RuntimeError as exc:
                raise VectorseqError(self._explain_sentencepiece_error(str(exc), n_lines)) from None
            self._install_sentencepiece(model.getvalue())
            if self.output_mode == "tf_idf":  # second pass over our own temp file, not over the user's texts
                df = np.zeros(self.vocabulary_size(), dtype=np.float64)
                with open(corpus, encoding="utf-8") as f:
                    while True:
                        chunk = [line.rstrip("\n") for line in itertools.islice(f, 10000)]
                        if not chunk:
                            break
                        for ids in self._sp.encode(chunk):
                            df[list(set(ids))] += 1
                self.idf_ = self._idf_from_df(df[NUM_SPECIAL_TOKENS:], n_docs)

    def _explain_sentencepiece_error(self, message: str, n_lines: int) -> str:
        import re

        detail = message.split("] ", 1)[-1].strip()
        m = re.search(r"required_chars\.\s*(\d+)\s*vs\s*(\d+)", message)
        if m:
            return (
                f"SentencePiece training failed: max_tokens={self.max_tokens} is too small; the corpus has "
                f"{int(m.group(2)) - NUM_SPECIAL_TOKENS} distinct characters, which with the 4 special tokens "
                f"need max_tokens >= {m.group(2)} (or lower character_coverage={self.character_coverage})"
            )
        m = re.search(r"Vocabulary size too high \((\d+)\).*?<=\s*(\d+)", message)
        if m:
            return (
                f"SentencePiece training failed: the corpus ({n_lines} lines) is too small for "
                f"max_tokens={self.max_tokens}; set max_tokens <= {m.group(2)} or give more text"
            )
        return f"SentencePiece training failed ({n_lines} lines, max_tokens={self.max_tokens}): {detail}"

    def _install_sentencepiece(self, proto: bytes) -> None:
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_proto=proto)
        vocab = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
        if tuple(vocab[:NUM_SPECIAL_TOKENS]) != SPECIAL_TOKENS:
            raise VectorseqError(
                f"the SentencePiece model's first pieces are {vocab[:NUM_SPECIAL_TOKENS]}, expected {list(SPECIAL_TOKENS)}"
            )
        self._sp = sp
        self._sp_proto = proto
        self._install_vocabulary(vocab, None)

    # ------------------------------------------------------------------------------------------------
    # Encode

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` after standardize and split (SentencePiece: the pieces). No n-grams."""
        _check_text(text, "tokenize")
        if self.split_name == "sentencepiece":
            self._require_vocab("tokenize")
            return self._sp.encode(self._sp_line(text), out_type=str)
        return self._split(self._standardize(text))

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """The ids of ``text``; unknown tokens -> :data:`UNK_ID`; optional :data:`BOS_ID` / :data:`EOS_ID`."""
        _check_text(text, "encode")
        self._require_vocab("encode")
        if self._sp is not None:
            ids = self._sp.encode(self._sp_line(text))
        else:
            get = self._index.get
            ids = [get(tok, UNK_ID) for tok in self._split(self._standardize(text))]
        if add_bos:
            ids.insert(0, BOS_ID)
        if add_eos:
            ids.append(EOS_ID)
        return ids

    def encode_sources(self, texts: Iterable[str]) -> list[list[int]]:
        """Model inputs for raw source texts: every source ends with :data:`EOS_ID` (the one place of that rule
        for raw text; batches of stored ids get it from :func:`vectorseq.data.batching.collate`)."""
        return self.encode_many(texts, add_eos=True)

    def encode_many(self, texts: Iterable[str], add_bos: bool = False, add_eos: bool = False) -> list[list[int]]:
        """:meth:`encode` for many texts at once (the fast path for big corpora): a list of id lists.

        Word modes run one precompiled regex / ``str.split`` and one dict lookup per token; SentencePiece
        encodes the whole list in one C++ call. For a corpus that does not fit in memory, call it on chunks.
        """
        self._require_vocab("encode_many")
        texts = list(_iter_texts(texts, "encode_many"))
        if self._sp is not None:
            line = self._sp_line
            out = self._sp.encode([line(t) for t in texts])
        else:
            get = self._index.get
            std, split = self._standardize, self._split
            out = [[get(tok, UNK_ID) for tok in split(std(t))] for t in texts]
        if add_bos or add_eos:
            pre = [BOS_ID] if add_bos else []
            post = [EOS_ID] if add_eos else []
            out = [pre + ids + post for ids in out]
        return out

    def _pad(self, seqs: list[list[int]], length: int | None, keep_eos: bool) -> tuple[np.ndarray, np.ndarray]:
        """Pad / truncate to ``[B, T]`` (numpy int64) and return ``(ids, lengths)``.

        Truncation cuts from the end; when ``keep_eos`` the last kept position is :data:`EOS_ID`, so a
        truncated target still ends like a sentence.
        """
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        T = int(length) if length is not None else (int(lengths.max()) if len(seqs) else 0)
        ids = np.zeros((len(seqs), T), dtype=np.int64)
        for b, seq in enumerate(seqs):
            n = len(seq)
            if n > T:
                seq = seq[: T - 1] + [EOS_ID] if (keep_eos and T > 0) else seq[:T]
                n = T
                lengths[b] = T
            if n:
                ids[b, :n] = seq
        return ids, lengths

    def encode_batch(
        self,
        texts: Iterable[str],
        add_bos: bool = False,
        add_eos: bool = False,
        output_sequence_length: int | None = None,
    ) -> EncodedBatch:
        """Encode and pad a batch: an :class:`EncodedBatch` of torch tensors (``ids``, ``lengths``, ``mask``).

        ``T`` is ``output_sequence_length`` (this argument, else the constructor's) or the longest text;
        longer texts are truncated from the end, keeping a final ``EOS_ID`` when ``add_eos``.
        """
        import torch

        length = _positive_int("output_sequence_length", output_sequence_length)
        if length is None:
            length = self.output_sequence_length
        ids, lengths = self._pad(self.encode_many(texts, add_bos, add_eos), length, keep_eos=add_eos)
        ids_t = torch.from_numpy(ids)
        lengths_t = torch.from_numpy(lengths)
        mask = torch.arange(ids_t.shape[1]).unsqueeze(0) < lengths_t.unsqueeze(1)
        return EncodedBatch(ids=ids_t, lengths=lengths_t, mask=mask)

    # ------------------------------------------------------------------------------------------------
    # Transform (by output_mode)

    def _width(self) -> int:
        V = self.vocabulary_size()
        if self.pad_to_max_tokens and self.max_tokens is not None:
            return max(V, self.max_tokens)
        return V

    def transform(self, texts: Iterable[str]) -> "np.ndarray | scipy.sparse.csr_matrix":
        """Vectorize a batch of texts according to ``output_mode`` (see the module docstring).

        ``"int"``: numpy int64 ``[B, T]``; ``"one_hot"``: numpy float32 ``[B, T, V]``; ``"multi_hot"`` /
        ``"count"`` (float32) and ``"tf_idf"`` (float64): ``scipy.sparse.csr_matrix [B, V]``.
        """
        self._require_vocab("transform")
        mode = self.output_mode
        if mode == "int":
            return self._pad(self.encode_many(texts), self.output_sequence_length, keep_eos=False)[0]
        if mode == "one_hot":
            return self._one_hot(texts)
        return self._bag(texts)

    def __call__(self, texts: Iterable[str]) -> Any:
        """Same as :meth:`transform` (Keras layers are called)."""
        return self.transform(texts)

    def _one_hot(self, texts: Iterable[str]) -> np.ndarray:
        ids, lengths = self._pad(self.encode_many(texts), self.output_sequence_length, keep_eos=False)
        B, T = ids.shape
        V = self._width()
        nbytes = B * T * V * 4
        if nbytes > ONE_HOT_MAX_BYTES:
            raise VectorseqError(
                f"output_mode='one_hot' for {B} texts x {T} positions x {V} ids would take {_human_bytes(nbytes)} "
                f"(dense float32), over the {_human_bytes(ONE_HOT_MAX_BYTES)} limit (ONE_HOT_MAX_BYTES); use "
                f"output_mode='int' with an embedding layer, transform smaller batches, or lower max_tokens"
            )
        out = np.zeros((B, T, V), dtype=np.float32)
        b, t = np.nonzero(np.arange(T)[None, :] < lengths[:, None])
        out[b, t, ids[b, t]] = 1.0
        return out

    def _term_ids(self, texts: Iterable[str]) -> tuple[list[int], list[int]]:
        """Flattened term ids (n-grams included) and CSR row pointers for a batch."""
        indices: list[int] = []
        indptr = [0]
        if self._sp is not None:
            for ids in self.encode_many(texts):
                indices.extend(ids)
                indptr.append(len(indices))
            return indices, indptr
        get = self._index.get
        terms_of = self._terms
        for text in _iter_texts(texts, "transform"):
            indices.extend(get(t, UNK_ID) for t in terms_of(text))
            indptr.append(len(indices))
        return indices, indptr

    def _bag(self, texts: Iterable[str]) -> "scipy.sparse.csr_matrix":
        import scipy.sparse

        indices, indptr = self._term_ids(texts)
        width = self._width()
        dtype = np.float64 if self.output_mode == "tf_idf" else np.float32
        X = scipy.sparse.csr_matrix(
            (np.ones(len(indices), dtype=dtype), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
            shape=(len(indptr) - 1, width),
        )
        X.sum_duplicates()  # counts; also sorts the column indices
        if self.output_mode == "multi_hot":
            X.data[:] = 1.0
        elif self.output_mode == "tf_idf":
            X = self._tfidf_transformer(width).transform(X)
        return X

    def _effective_norm(self) -> str | None:
        norm = self.tfidf_norm
        if norm == "auto":
            norm = "none" if self._idf_given else "l2"
        return None if norm == "none" else norm

    def _tfidf_transformer(self, width: int) -> Any:
        """A scikit-learn ``TfidfTransformer`` carrying our idf (learned in one streaming pass, or given)."""
        if width not in self._tfidf_cache:
            from sklearn.feature_extraction.text import TfidfTransformer

            if self.idf_ is None:
                raise VectorseqError("output_mode='tf_idf' needs idf weights: call adapt(texts) or give idf_weights=")
            idf = np.zeros(width, dtype=np.float64)
            idf[: self.idf_.shape[0]] = self.idf_
            transformer = TfidfTransformer(
                norm=self._effective_norm(), use_idf=True, smooth_idf=self.smooth_idf, sublinear_tf=self.sublinear_tf
            )
            transformer.idf_ = idf
            transformer.n_features_in_ = width
            self._tfidf_cache[width] = transformer
        return self._tfidf_cache[width]

    def token_idf(self, ids: int | Sequence[int]) -> float | np.ndarray:
        """The idf of one id (a float) or of several ids (a numpy float64 array); ``tf_idf`` mode only."""
        self._require_vocab("token_idf")
        if self.idf_ is None:
            raise VectorseqError("token_idf() needs output_mode='tf_idf' (idf weights are only kept for TF-IDF)")
        if isinstance(ids, (int, np.integer)) and not isinstance(ids, bool):
            self._check_ids([int(ids)])
            return float(self.idf_[int(ids)])
        id_list = _to_id_list(ids)
        self._check_ids(id_list)
        return self.idf_[np.asarray(id_list, dtype=np.int64)]

    # ------------------------------------------------------------------------------------------------
    # Decode

    def _check_ids(self, ids: list[int]) -> None:
        V = len(self._vocab)  # type: ignore[arg-type]
        for i in ids:
            if not 0 <= i < V:
                raise VectorseqError(f"id {i} is out of range for a vocabulary of {V} ids")

    def _content(self, ids: list[int]) -> list[int]:
        """Ids up to the first EOS, without PAD and BOS."""
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            if i != PAD_ID and i != BOS_ID:
                out.append(i)
        return out

    def decode(self, ids: Any) -> str:
        """Turn ids back into text: stops at the first ``EOS_ID``, drops ``PAD_ID`` and ``BOS_ID``.

        Word split rejoins tokens with spacing rules for punctuation (``"hello, world!"``, see
        :func:`vectorseq.standardize.join_word_tokens`), whitespace split with single spaces, character
        split with nothing, SentencePiece with the model (exact up to whitespace normalization). Unknown
        ids render as ``"<unk>"``. Accepts a list, a numpy array or a 1-D torch tensor.
        """
        vocab = self._require_vocab("decode")
        ids = self._content(_to_id_list(ids))
        self._check_ids(ids)
        if self._sp is not None:
            return self._sp.decode(ids)
        return join_tokens([vocab[i] for i in ids], self.split_name)

    def decode_tokens(self, tokens: Sequence[str]) -> str:
        """Join tokens (as from :meth:`tokenize`) into text with the same rules as :meth:`decode`."""
        self._require_vocab("decode_tokens")
        if isinstance(tokens, str):
            raise VectorseqError("decode_tokens() expects a list of tokens, got a single str")
        out = []
        for tok in tokens:
            if tok == EOS_TOKEN:
                break
            if tok != PAD_TOKEN and tok != BOS_TOKEN:
                out.append(tok)
        if self._sp is not None:
            return self._sp.decode_pieces(out)
        return join_tokens(out, self.split_name)

    def inverse_transform(self, sequences: Any) -> list[str]:
        """:meth:`decode` for each row of a list of id lists, a 2-D numpy array or a 2-D tensor."""
        if hasattr(sequences, "tolist"):
            sequences = sequences.tolist()
        return [self.decode(seq) for seq in sequences]

    # ------------------------------------------------------------------------------------------------
    # Config, save, load

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (without ``vocabulary`` / ``idf_weights``, which :meth:`save` stores).

        JSON-able, except that a callable ``standardize`` / ``split`` is returned as the callable itself.
        ``TextVectorizer.from_config(v.get_config())`` builds an equivalent, not yet adapted vectorizer.
        """
        return {
            "standardize": self._standardize_option if self.standardize_name == "callable" else self.standardize_name,
            "split": self._split_option if self.split_name == "callable" else self.split_name,
            "split_pattern": self.split_pattern,
            "max_tokens": self.max_tokens,
            "min_freq": self.min_freq,
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "ngrams": list(self.ngrams) if self.ngrams is not None else None,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "tfidf_norm": None if self.tfidf_norm == "none" else self.tfidf_norm,
            "smooth_idf": self.smooth_idf,
            "sublinear_tf": self.sublinear_tf,
            "sentencepiece_model_type": self.sentencepiece_model_type,
            "character_coverage": self.character_coverage,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "TextVectorizer":
        """Build a vectorizer from :meth:`get_config` output (unknown keys are an error)."""
        if not isinstance(config, dict):
            raise VectorseqError(f"a vectorizer config must be a dict, got {type(config).__name__}")
        valid = _CONSTRUCTOR_KEYS
        for key in config:
            if key not in valid:
                msg = f"unknown vectorizer config key {key!r}; valid keys: {', '.join(sorted(valid))}"
                close = difflib.get_close_matches(str(key), sorted(valid), n=1)
                if close:
                    msg += f" (did you mean {close[0]!r}?)"
                raise VectorseqError(msg)
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``vectorizer.json`` (+ ``sentencepiece.model``) into ``directory`` (created if needed).

        JSON and the SentencePiece protobuf only; nothing is pickled. A vectorizer with a callable
        ``standardize`` or ``split`` cannot be saved (the function is code, not data).
        """
        for what, name in (("standardize", self.standardize_name), ("split", self.split_name)):
            if name == "callable":
                options = STANDARDIZE_OPTIONS if what == "standardize" else SPLIT_OPTIONS
                raise VectorseqError(
                    f"cannot save a TextVectorizer whose {what} is a callable (code cannot be stored as JSON); "
                    f"use a named option: {', '.join(options)}"
                )
        vocab = self._require_vocab("save")
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        state = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "config": self.get_config(),
            "vocabulary": vocab,
            "idf": None if self.idf_ is None else [float(x) for x in self.idf_],
            "idf_given": self._idf_given,
            "sentencepiece_model": SENTENCEPIECE_FILE if self._sp_proto is not None else None,
        }
        if self._sp_proto is not None:
            (path / SENTENCEPIECE_FILE).write_bytes(self._sp_proto)
        tmp = path / (CONFIG_FILE + ".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path / CONFIG_FILE)
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "TextVectorizer":
        """Read a vectorizer written by :meth:`save`."""
        path = Path(directory)
        cfg_path = path / CONFIG_FILE
        if not cfg_path.is_file():
            raise VectorseqError(f"{cfg_path}: no saved vectorizer here (expected {CONFIG_FILE} from TextVectorizer.save)")
        try:
            state = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise VectorseqError(f"{cfg_path}: not valid JSON ({exc})") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT_NAME:
            raise VectorseqError(f"{cfg_path}: not a vectorseq TextVectorizer file (no format={FORMAT_NAME!r})")
        if state.get("format_version") != FORMAT_VERSION:
            raise VectorseqError(
                f"{cfg_path}: format_version {state.get('format_version')!r} is not supported (expected {FORMAT_VERSION})"
            )
        vectorizer = cls.from_config(state.get("config", {}))
        vocab = state.get("vocabulary")
        if not isinstance(vocab, list) or tuple(vocab[:NUM_SPECIAL_TOKENS]) != SPECIAL_TOKENS:
            raise VectorseqError(f"{cfg_path}: 'vocabulary' is missing or does not start with {list(SPECIAL_TOKENS)}")
        idf = state.get("idf")
        idf_arr = None if idf is None else np.asarray(idf, dtype=np.float64)
        if idf_arr is not None and idf_arr.shape != (len(vocab),):
            raise VectorseqError(f"{cfg_path}: 'idf' has {idf_arr.size} values for {len(vocab)} vocabulary entries")
        if vectorizer.split_name == "sentencepiece":
            sp_path = path / SENTENCEPIECE_FILE
            if not sp_path.is_file():
                raise VectorseqError(f"{sp_path}: missing (a SentencePiece vectorizer needs its model file)")
            try:
                vectorizer._install_sentencepiece(sp_path.read_bytes())
            except RuntimeError as exc:
                raise VectorseqError(f"{sp_path}: not a valid SentencePiece model ({exc})") from None
            if vectorizer._vocab != vocab:
                raise VectorseqError(f"{cfg_path}: the vocabulary does not match {SENTENCEPIECE_FILE}")
            vectorizer.idf_ = idf_arr
        else:
            vectorizer._install_vocabulary(list(vocab), idf_arr, idf_given=bool(state.get("idf_given", False)))
        return vectorizer

    def __repr__(self) -> str:
        size = len(self._vocab) if self._vocab is not None else "not adapted"
        return (
            f"TextVectorizer(standardize={self.standardize_name!r}, split={self.split_name!r}, "
            f"output_mode={self.output_mode!r}, vocabulary_size={size})"
        )


_CONSTRUCTOR_KEYS = frozenset(
    [
        "standardize",
        "split",
        "split_pattern",
        "max_tokens",
        "min_freq",
        "vocabulary",
        "output_mode",
        "output_sequence_length",
        "ngrams",
        "pad_to_max_tokens",
        "idf_weights",
        "tfidf_norm",
        "smooth_idf",
        "sublinear_tf",
        "sentencepiece_model_type",
        "character_coverage",
        "seed",
    ]
)
