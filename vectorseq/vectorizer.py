"""Text vectorization: the :class:`TextVectorizer` that turns raw text into ids (and back).

In vectorseq the vectorizer is part of the model: the same object is saved in the model folder and used for
training, translation and evaluation. One class serves the source and the target side. It follows the
habits of Keras ``TextVectorization`` (argument names, ``adapt``, output modes) and of scikit-learn
(``fit`` / ``transform`` / ``inverse_transform``, TF-IDF through ``TfidfTransformer``).

This module is the public face; the work is done by the parts in :mod:`vectorseq.text`, which
``TextVectorizer`` composes the way Keras' ``TextVectorization`` composes ``StringLookup``:

========================================= ===================================================================
:mod:`~vectorseq.text.options`             every option's names, the one set of defaults, the checks
:mod:`~vectorseq.text.standardize`         ``text -> text`` (lower-case, strip punctuation, NFKC, ...)
:mod:`~vectorseq.text.split`               ``text -> tokens`` (whitespace, word regex, characters), n-grams, join
:mod:`~vectorseq.text.vocabulary`          ``tokens -> ids``: the special ids, counting, lookup, the idf formula
:mod:`~vectorseq.text.sentencepiece_backend` ``split="sentencepiece"``: training, encode / decode, model bytes
:mod:`~vectorseq.text.subword_sampling`    reproducible subword regularization (unigram sampling, BPE-dropout)
:mod:`~vectorseq.text.output_modes`        ``one_hot``, ``multi_hot``, ``count``, ``tf_idf``
:mod:`~vectorseq.text.batch`               padding into ``[B, T]`` arrays and :class:`EncodedBatch`
:mod:`~vectorseq.text.persistence`         ``vectorizer.json`` + ``sentencepiece.model``
========================================= ===================================================================

Pipeline
--------
``text --standardize--> text --split--> tokens --lookup--> ids``. With ``split="sentencepiece"`` the last
two steps are one trained SentencePiece model (BPE or unigram). Every vocabulary starts with
``<pad>`` = :data:`PAD_ID` = 0, ``<unk>`` = :data:`UNK_ID` = 1, ``<s>`` = :data:`BOS_ID` = 2 and
``</s>`` = :data:`EOS_ID` = 3; text never produces the ids 0, 2 or 3 (a literal ``"</s>"`` in the input is an
ordinary token), so user text cannot inject control tokens.

Vocabulary
----------
``adapt(texts)`` (alias ``fit``) streams any iterable of strings once, a generator included, and keeps only
a counter of distinct tokens (memory grows with the vocabulary, not with the corpus). The order and the
``min_freq`` / ``max_tokens`` rules are in :mod:`vectorseq.text.vocabulary`. ``vocabulary=[...]`` sets a
vocabulary directly (``adapt`` is then not needed). ``adapt`` again replaces the vocabulary. A **shared**
source/target vocabulary needs nothing special: adapt one vectorizer on both sides, e.g.
``TextVectorizer(split="word").adapt(itertools.chain(src_texts, tgt_texts))``, and use it for both.
With ``split="sentencepiece"``, ``max_tokens`` (required) is the model's ``vocab_size`` and ``min_freq``
does not apply (see :mod:`vectorseq.text.sentencepiece_backend`).

Decoding: what comes back
-------------------------
``decode(ids)`` stops at the first ``</s>``, drops ``<pad>`` and ``<s>`` and renders unknown ids as
``"<unk>"``. For a text ``x`` whose tokens are all in the vocabulary (and none is literally a special-token
string), with ``s = standardize(x)``:

* ``split="character"``: ``decode(encode(x)) == s`` exactly (spaces are tokens too);
* ``split="byte"``: ``decode(encode(x)) == s`` exactly for *any* text (a fixed vocabulary of the 256 UTF-8
  byte values, id = byte + 4; see :mod:`vectorseq.text.byte_level`); ids that are not valid UTF-8 decode
  with U+FFFD, never an error;
* ``split="whitespace"``: ``decode(encode(x)) == " ".join(s.split())``;
* ``split="word"``: the original spacing is not stored, so it is rebuilt (no space before ``. , ! ? ; : ) ]``,
  none after ``( [ ¿``, none around ``-`` ``/``; see :func:`vectorseq.text.split.join_word_tokens`). What
  is guaranteed: the non-space characters are identical (``"".join(out.split()) == "".join(s.split())``)
  and splitting ``out`` again gives the same tokens;
* ``split="sentencepiece"``: ``decode(encode(x)) == " ".join(s.split())`` when every character of ``x``
  occurs in the training corpus.

The tests check each of these on random Unicode text (hypothesis).

Subword regularization
----------------------
``sample_many(texts, SamplingSpec(alpha, nbest), seed=, epoch=, keys=)`` draws a random segmentation of each
text (unigram sampling over the whole lattice or the n best, or BPE-dropout), a pure function of ``(seed,
epoch, key)``; training calls it once per epoch (``vectorizer.<side>.sampling_alpha``). ``encode`` and
everything else stay deterministic: validation and translation never sample.

Output modes (``output_mode=``, used by :meth:`TextVectorizer.transform`)
-------------------------------------------------------------------------
``"int"`` gives numpy ``int64`` ``[B, T]``, padded with 0; ``T = output_sequence_length`` or the longest
text. ``"one_hot"``, ``"multi_hot"``, ``"count"`` and ``"tf_idf"`` are described in
:mod:`vectorseq.text.output_modes`.

Saving
------
``save(directory)`` writes ``vectorizer.json`` (config, vocabulary, idf) and, for SentencePiece,
``sentencepiece.model``; :meth:`TextVectorizer.load` reads them back. Nothing is pickled.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import scipy.sparse

from .errors import VectorseqError
from .text import output_modes, persistence, sentencepiece_backend
from .text.byte_level import byte_vocabulary, decode_byte_ids, encode_bytes, is_byte_vocabulary
from .text.batch import EncodedBatch, pad
from .text.inputs import check_text, iter_texts, to_id_list
from .text.options import (
    DEFAULTS,
    OUTPUT_MODES,
    SENTENCEPIECE_MODEL_TYPES,
    SPLIT_OPTIONS,
    STANDARDIZE_OPTIONS,
    Options,
    check_keys,
    positive_int,
)
from .text.reserved_tokens import check_reserved, reserved_ids, with_reserved
from .text.sentencepiece_backend import SentencePieceModel
from .text.subword_sampling import SamplingSpec
from .text.split import get_splitter, join_tokens, make_ngrams
from .text.standardize import get_standardizer
from .text.vocabulary import (
    BOS_ID,
    BOS_TOKEN,
    EOS_ID,
    EOS_TOKEN,
    NUM_SPECIAL_TOKENS,
    PAD_ID,
    PAD_TOKEN,
    SPECIAL_TOKENS,
    UNK_ID,
    UNK_TOKEN,
    TermCounts,
    Vocabulary,
    content_ids,
    content_tokens,
    idf_from_df,
    vocabulary_from_counts,
    vocabulary_from_list,
    with_special_idf,
)

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
    "SamplingSpec",
    "TextVectorizer",
]

#: ``transform`` refuses a dense one-hot array larger than this many bytes (module-level, so it can be raised).
ONE_HOT_MAX_BYTES = 1 << 30


class TextVectorizer:
    """Standardize, split and map text to ids (and back); also one-hot, multi-hot, counts and TF-IDF.

    All arguments are keyword-only; the names follow Keras ``TextVectorization`` where Keras has them, and
    the defaults are :data:`vectorseq.text.options.DEFAULTS`.

    Args:
        standardize: ``None``/``"none"``, ``"lower"``, ``"strip_punctuation"``,
            ``"lower_and_strip_punctuation"`` (default, as Keras), ``"nfkc"``, ``"nfkc_lower"`` or a callable
            ``str -> str`` (see :mod:`vectorseq.text.standardize`).
        split: ``"whitespace"`` (default, as Keras), ``"word"``, ``"character"``, ``"sentencepiece"``,
            ``"byte"`` (UTF-8 bytes, fixed vocabulary; ``max_tokens`` ignored) or a callable ``str -> list[str]`` (see :mod:`vectorseq.text.split`).
        split_pattern: with ``split="word"``, a regular expression whose matches are the tokens.
        max_tokens: vocabulary size cap, the 4 special tokens included (``None``: no cap). Required for
            SentencePiece, where it is the ``vocab_size``.
        min_freq: drop tokens seen fewer times than this in ``adapt`` (not for SentencePiece).
        vocabulary: a list of tokens to use instead of ``adapt``. It may start with the four special tokens
            (in order); otherwise they are prepended. Not for SentencePiece.
        output_mode: what :meth:`transform` returns: ``"int"`` (default), ``"one_hot"``, ``"multi_hot"``,
            ``"count"`` or ``"tf_idf"`` (see :mod:`vectorseq.text.output_modes`).
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
        sentencepiece_model_type: ``"bpe"`` (default) or ``"unigram"``.
        character_coverage: SentencePiece ``character_coverage`` (default 1.0: every character of the
            corpus gets a piece, which the lossless round trip relies on).
        seed: random seed for SentencePiece training.
        reserved_tokens: control tokens with ids of their own that text never produces, e.g. the language
            tags ``["<2de>", "<2fr>"]`` of a multilingual model; :meth:`reserved_id` gives their ids, which
            the caller adds to model inputs (see :mod:`vectorseq.text.reserved_tokens`). Not for ``tf_idf``.

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
        standardize: str | Callable[[str], str] | None = DEFAULTS["standardize"],
        split: str | Callable[[str], list[str]] = DEFAULTS["split"],
        split_pattern: str | None = DEFAULTS["split_pattern"],
        max_tokens: int | None = DEFAULTS["max_tokens"],
        min_freq: int = DEFAULTS["min_freq"],
        vocabulary: Sequence[str] | None = DEFAULTS["vocabulary"],
        output_mode: str = DEFAULTS["output_mode"],
        output_sequence_length: int | None = DEFAULTS["output_sequence_length"],
        ngrams: int | Sequence[int] | None = DEFAULTS["ngrams"],
        pad_to_max_tokens: bool = DEFAULTS["pad_to_max_tokens"],
        idf_weights: Sequence[float] | np.ndarray | None = DEFAULTS["idf_weights"],
        tfidf_norm: str | None = DEFAULTS["tfidf_norm"],
        smooth_idf: bool = DEFAULTS["smooth_idf"],
        sublinear_tf: bool = DEFAULTS["sublinear_tf"],
        sentencepiece_model_type: str = DEFAULTS["sentencepiece_model_type"],
        character_coverage: float = DEFAULTS["character_coverage"],
        seed: int = DEFAULTS["seed"],
        reserved_tokens: Sequence[str] | None = DEFAULTS["reserved_tokens"],
    ) -> None:
        self._standardize_option = standardize
        self._split_option = split
        self.standardize_name, self._standardize = get_standardizer(standardize)
        self.split_name, self._split = get_splitter(split, split_pattern)
        self.options = Options.checked(
            split_pattern=split_pattern, max_tokens=max_tokens, min_freq=min_freq, output_mode=output_mode,
            output_sequence_length=output_sequence_length, ngrams=ngrams, pad_to_max_tokens=pad_to_max_tokens,
            tfidf_norm=tfidf_norm, smooth_idf=smooth_idf, sublinear_tf=sublinear_tf,
            sentencepiece_model_type=sentencepiece_model_type, character_coverage=character_coverage, seed=seed,
        )
        self.options.check_combination(self.split_name, vocabulary is not None, idf_weights is not None)
        self.reserved_tokens = check_reserved(reserved_tokens)
        if self.reserved_tokens and self.output_mode == "tf_idf":
            raise VectorseqError("reserved_tokens cannot be combined with output_mode='tf_idf' (they have no idf)")
        self._reserved: dict[str, int] = {}
        self._vocabulary: Vocabulary | None = None
        self._sp: SentencePieceModel | None = None
        self._tfidf_cache: dict[int, Any] = {}
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights=idf_weights)
        if self.split_name == "byte":  # a fixed vocabulary: ready without adapt
            self._install(byte_vocabulary())

    def __getattr__(self, name: str) -> Any:
        """The checked settings read as attributes (``v.max_tokens``, ``v.output_mode``, ...), as in Keras."""
        options = self.__dict__.get("options")  # absent while unpickling: no recursion
        if options is None or name not in Options.__dataclass_fields__:
            raise AttributeError(f"'TextVectorizer' object has no attribute {name!r}")
        return getattr(options, name)

    # ------------------------------------------------------------------------------------------------
    # Vocabulary

    def set_vocabulary(self, vocabulary: Sequence[str], idf_weights: Sequence[float] | np.ndarray | None = None) -> None:
        """Use ``vocabulary`` (a list of tokens; may start with the four special tokens) instead of adapting.

        ``idf_weights`` (``tf_idf`` only) has one weight per entry of ``vocabulary`` as given; when the
        specials were left out they get idf 0 (``<pad>``, ``<s>``, ``</s>``) and the mean weight
        (``<unk>``), as in Keras.
        """
        if self.split_name in ("sentencepiece", "byte"):
            raise VectorseqError(f"set_vocabulary() is not available with split={self.split_name!r}")
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise VectorseqError(f"idf_weights only applies to output_mode='tf_idf'; got {self.output_mode!r}")
        vocab = vocabulary_from_list(vocabulary, max_tokens=self.max_tokens, idf_weights=idf_weights)
        if idf_weights is None and self.output_mode == "tf_idf":
            raise VectorseqError("output_mode='tf_idf' with a given vocabulary needs idf_weights")
        self._install(vocab)

    def _install(self, vocabulary: Vocabulary, sentencepiece: SentencePieceModel | None = None) -> None:
        if self.reserved_tokens and sentencepiece is None:  # SentencePiece holds them as control symbols
            vocabulary = with_reserved(vocabulary, self.reserved_tokens)
        self._reserved = reserved_ids(vocabulary.tokens, self.reserved_tokens)
        self._vocabulary = vocabulary
        self._sp = sentencepiece
        self._tfidf_cache = {}

    def _require_vocab(self, method: str) -> Vocabulary:
        if self._vocabulary is None:
            raise VectorseqError(
                f"TextVectorizer.{method}() needs a vocabulary: call adapt(texts) first, pass vocabulary=[...] "
                f"to the constructor, or load a saved vectorizer with TextVectorizer.load(directory)"
            )
        return self._vocabulary

    @property
    def is_adapted(self) -> bool:
        """Whether a vocabulary is set (by ``adapt``, ``vocabulary=`` or ``load``)."""
        return self._vocabulary is not None

    @property
    def idf_(self) -> np.ndarray | None:
        """numpy float64 ``[V]``: the idf of each vocabulary id (``tf_idf`` only; 0 for ``<pad>``, ``<s>``, ``</s>``)."""
        return None if self._vocabulary is None else self._vocabulary.idf

    def get_vocabulary(self) -> list[str]:
        """The vocabulary as a list: index = id; the first four entries are the special tokens."""
        return list(self._require_vocab("get_vocabulary").tokens)

    def vocabulary_size(self) -> int:
        """The number of ids (special tokens included)."""
        return len(self._require_vocab("vocabulary_size"))

    @property
    def vocabulary_(self) -> dict[str, int]:
        """scikit-learn style ``{token: id}`` mapping (special tokens included)."""
        return {tok: i for i, tok in enumerate(self._require_vocab("vocabulary_").tokens)}

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """scikit-learn style: the column names of the bag-mode matrices (the vocabulary, as an object array)."""
        names = list(self._require_vocab("get_feature_names_out").tokens)
        names += [""] * (self._width() - len(names))
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
        stream = iter_texts(texts, "adapt")
        if self.split_name == "byte":  # the byte vocabulary is fixed: nothing to read, nothing to learn
            return self
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
        texts = list(iter_texts(texts, "fit_transform"))
        return self.adapt(texts).transform(texts)

    def _terms(self, text: str) -> list[str]:
        """Tokens of ``text`` plus, with ``ngrams``, the n-grams: the units the vocabulary counts."""
        tokens = self._split(self._standardize(text))
        if self.ngrams is not None and self.ngrams != (1,):
            return make_ngrams(tokens, self.ngrams)
        return tokens

    def _adapt_counts(self, stream: Iterator[str]) -> None:
        counted = TermCounts(with_df=self.output_mode == "tf_idf")
        for text in stream:
            counted.add(self._terms(text))
        for tok in self.reserved_tokens:  # a literal tag in text is text, never the reserved entry
            counted.counts.pop(tok, None)
        settings = f"standardize={self.standardize_name!r} and split={self.split_name!r}"
        cap = None if self.max_tokens is None else self.max_tokens - len(self.reserved_tokens)
        self._install(vocabulary_from_counts(
            counted, min_freq=self.min_freq, max_tokens=cap, smooth_idf=self.smooth_idf, settings=settings
        ))

    def _sp_line(self, text: str) -> str:
        """What SentencePiece sees: the standardized text with whitespace runs collapsed to one space."""
        return " ".join(self._standardize(text).split())

    def _adapt_sentencepiece(self, stream: Iterator[str]) -> None:
        trained = sentencepiece_backend.train(
            (self._sp_line(text) for text in stream), vocab_size=self.max_tokens,
            model_type=self.sentencepiece_model_type, character_coverage=self.character_coverage, seed=self.seed,
            with_doc_freq=self.output_mode == "tf_idf", standardize_name=self.standardize_name,
            control_symbols=self.reserved_tokens,
        )
        idf = None
        if trained.doc_freq is not None:
            idf = with_special_idf(idf_from_df(trained.doc_freq[NUM_SPECIAL_TOKENS:], trained.n_docs, self.smooth_idf))
        self._install(Vocabulary(trained.model.pieces, idf), trained.model)

    # ------------------------------------------------------------------------------------------------
    # Encode

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` after standardize and split (SentencePiece: the pieces). No n-grams."""
        check_text(text, "tokenize")
        if self.split_name == "sentencepiece":
            self._require_vocab("tokenize")
            return self._sp.encode_pieces(self._sp_line(text))
        return self._split(self._standardize(text))

    def reserved_id(self, token: str) -> int:
        """The id of a reserved token (``reserved_tokens``), e.g. a language tag; one id in every split mode."""
        self._require_vocab("reserved_id")
        if token not in self._reserved:
            known = ", ".join(self.reserved_tokens) or "none"
            raise VectorseqError(f"{token!r} is not a reserved token of this vectorizer (reserved: {known})")
        return self._reserved[token]

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """The ids of ``text``; unknown tokens -> :data:`UNK_ID`; optional :data:`BOS_ID` / :data:`EOS_ID`."""
        check_text(text, "encode")
        self._require_vocab("encode")
        return self.encode_many([text], add_bos, add_eos)[0]

    def encode_sources(self, texts: Iterable[str]) -> list[list[int]]:
        """Model inputs for raw source texts: every source ends with :data:`EOS_ID` (the one place of that rule
        for raw text; batches of stored ids get it from :func:`vectorseq.data.batching.collate`)."""
        return self.encode_many(texts, add_eos=True)

    def encode_many(self, texts: Iterable[str], add_bos: bool = False, add_eos: bool = False) -> list[list[int]]:
        """:meth:`encode` for many texts at once (the fast path for big corpora): a list of id lists.

        Word modes run one precompiled regex / ``str.split`` and one dict lookup per token; SentencePiece
        encodes the whole list in one C++ call. For a corpus that does not fit in memory, call it on chunks.
        """
        vocab = self._require_vocab("encode_many")
        texts = list(iter_texts(texts, "encode_many"))
        if self._sp is not None:
            out = self._sp.encode([self._sp_line(t) for t in texts])
        elif self.split_name == "byte":  # ids straight from the bytes, no token strings
            out = [encode_bytes(self._standardize(t)) for t in texts]
        else:
            std, split = self._standardize, self._split
            out = [vocab.lookup(split(std(t))) for t in texts]
        if add_bos or add_eos:
            pre = [BOS_ID] if add_bos else []
            post = [EOS_ID] if add_eos else []
            out = [pre + ids + post for ids in out]
        return out

    def sample_many(self, texts: Sequence[str], spec: SamplingSpec, *, seed: int, epoch: int,
                    keys: Sequence[int] | np.ndarray | None = None) -> list[list[int]]:
        """Subword regularization: a random segmentation of each text (SentencePiece only; for training).

        Text ``i``'s ids depend only on ``(seed, epoch, keys[i])`` (``keys`` defaults to ``0..n-1``: give each
        sentence's index in the corpus, or its line), so any process computes the same sample of any sentence.
        ``spec``: unigram sampling with ``alpha`` and ``nbest``, or BPE-dropout with drop probability
        ``alpha`` (see :mod:`vectorseq.text.subword_sampling`). Decoding a sample gives the same text as
        decoding :meth:`encode_many`'s ids. No specials are added.
        """
        self._require_vocab("sample_many")
        if self._sp is None:
            raise VectorseqError(f"subword sampling needs split='sentencepiece', got split={self.split_name!r}")
        spec.check(self.sentencepiece_model_type)
        texts = list(iter_texts(texts, "sample_many"))
        keys = np.arange(len(texts)) if keys is None else np.asarray(keys, dtype=np.int64)
        if len(keys) != len(texts):
            raise VectorseqError(f"sample_many() got {len(texts)} texts but {len(keys)} keys")
        return self._sp.sample([self._sp_line(t) for t in texts], keys, spec, seed, epoch, self.sentencepiece_model_type)

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
        length = positive_int("output_sequence_length", output_sequence_length)
        if length is None:
            length = self.output_sequence_length
        ids, lengths = pad(self.encode_many(texts, add_bos, add_eos), length, keep_eos=add_eos)
        return EncodedBatch.from_padded(ids, lengths)

    # ------------------------------------------------------------------------------------------------
    # Transform (by output_mode)

    def _width(self) -> int:
        """The last dimension of ``one_hot`` and the bag modes: the vocabulary size, or ``max_tokens`` when
        ``pad_to_max_tokens``."""
        V = self.vocabulary_size()
        if self.pad_to_max_tokens and self.max_tokens is not None:
            return max(V, self.max_tokens)
        return V

    def transform(self, texts: Iterable[str]) -> "np.ndarray | scipy.sparse.csr_matrix":
        """Vectorize a batch of texts according to ``output_mode`` (see :mod:`vectorseq.text.output_modes`).

        ``"int"``: numpy int64 ``[B, T]``; ``"one_hot"``: numpy float32 ``[B, T, V]``; ``"multi_hot"`` /
        ``"count"`` (float32) and ``"tf_idf"`` (float64): ``scipy.sparse.csr_matrix [B, V]``.
        """
        self._require_vocab("transform")
        mode = self.output_mode
        if mode in ("int", "one_hot"):
            ids, lengths = pad(self.encode_many(texts), self.output_sequence_length, keep_eos=False)
            if mode == "int":
                return ids
            # read at call time, so raising vectorseq.vectorizer.ONE_HOT_MAX_BYTES takes effect
            return output_modes.one_hot(ids, lengths, self._width(), ONE_HOT_MAX_BYTES)
        X = output_modes.term_matrix(*self._term_ids(texts), self._width(), mode)
        return self._tfidf_transformer(X.shape[1]).transform(X) if mode == "tf_idf" else X

    def __call__(self, texts: Iterable[str]) -> Any:
        """Same as :meth:`transform` (Keras layers are called)."""
        return self.transform(texts)

    def _term_ids(self, texts: Iterable[str]) -> tuple[list[int], list[int]]:
        """Flattened term ids (n-grams included) and CSR row pointers for a batch."""
        id_lists: Iterable[list[int]]
        if self._sp is not None:
            id_lists = self.encode_many(texts)
        else:
            lookup, terms_of = self._vocabulary.lookup, self._terms
            id_lists = (lookup(terms_of(text)) for text in iter_texts(texts, "transform"))
        indices: list[int] = []
        indptr = [0]
        for ids in id_lists:
            indices.extend(ids)
            indptr.append(len(indices))
        return indices, indptr

    def _tfidf_transformer(self, width: int) -> Any:
        """The scikit-learn ``TfidfTransformer`` of this vocabulary at ``width`` columns (built once)."""
        if width not in self._tfidf_cache:
            vocab = self._vocabulary
            norm = output_modes.effective_norm(self.tfidf_norm, vocab.idf_given)
            self._tfidf_cache[width] = output_modes.tfidf_transformer(
                vocab.idf, width, norm, self.smooth_idf, self.sublinear_tf
            )
        return self._tfidf_cache[width]

    def token_idf(self, ids: int | Sequence[int]) -> float | np.ndarray:
        """The idf of one id (a float) or of several ids (a numpy float64 array); ``tf_idf`` mode only."""
        vocab = self._require_vocab("token_idf")
        if vocab.idf is None:
            raise VectorseqError("token_idf() needs output_mode='tf_idf' (idf weights are only kept for TF-IDF)")
        if isinstance(ids, (int, np.integer)) and not isinstance(ids, bool):
            vocab.check_ids([int(ids)])
            return float(vocab.idf[int(ids)])
        id_list = to_id_list(ids)
        vocab.check_ids(id_list)
        return vocab.idf[np.asarray(id_list, dtype=np.int64)]

    # ------------------------------------------------------------------------------------------------
    # Decode

    def decode(self, ids: Any) -> str:
        """Turn ids back into text: stops at the first ``EOS_ID``, drops ``PAD_ID`` and ``BOS_ID``.

        Word split rejoins tokens with spacing rules for punctuation (``"hello, world!"``, see
        :func:`vectorseq.text.split.join_word_tokens`), whitespace split with single spaces, character
        split with nothing, SentencePiece with the model (exact up to whitespace normalization). Unknown
        ids render as ``"<unk>"``. Accepts a list, a numpy array or a 1-D torch tensor.
        """
        vocab = self._require_vocab("decode")
        ids = content_ids(to_id_list(ids))
        if self._reserved:  # control tokens (language tags) are not text
            hidden = set(self._reserved.values())
            ids = [i for i in ids if i not in hidden]
        vocab.check_ids(ids)
        if self._sp is not None:
            return self._sp.decode(ids)
        if self.split_name == "byte":  # straight from the ids to bytes, no token strings
            return decode_byte_ids(ids)
        return join_tokens([vocab.tokens[i] for i in ids], self.split_name)

    def decode_tokens(self, tokens: Sequence[str]) -> str:
        """Join tokens (as from :meth:`tokenize`) into text with the same rules as :meth:`decode`."""
        self._require_vocab("decode_tokens")
        if isinstance(tokens, str):
            raise VectorseqError("decode_tokens() expects a list of tokens, got a single str")
        out = content_tokens(tokens)
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
        config = {
            "standardize": self._standardize_option if self.standardize_name == "callable" else self.standardize_name,
            "split": self._split_option if self.split_name == "callable" else self.split_name,
            **self.options.to_config(),
        }
        if self.reserved_tokens:  # only when set: vectorizer.json of a vectorizer without them is unchanged
            config["reserved_tokens"] = list(self.reserved_tokens)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "TextVectorizer":
        """Build a vectorizer from :meth:`get_config` output (unknown keys are an error)."""
        if not isinstance(config, dict):
            raise VectorseqError(f"a vectorizer config must be a dict, got {type(config).__name__}")
        check_keys(config)
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
        proto = None if self._sp is None else self._sp.proto
        return persistence.write(
            directory, persistence.SavedVectorizer(self.get_config(), vocab.tokens, vocab.idf, vocab.idf_given, proto)
        )

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "TextVectorizer":
        """Read a vectorizer written by :meth:`save`."""
        saved = persistence.read(directory)
        vectorizer = cls.from_config(saved.config)
        n_bytes = len(saved.vocabulary) - len(vectorizer.reserved_tokens)
        if vectorizer.split_name == "byte" and not is_byte_vocabulary(saved.vocabulary[:n_bytes]):
            raise VectorseqError(
                f"{Path(directory) / persistence.CONFIG_FILE}: split is 'byte' but the vocabulary is not the fixed "
                f"byte vocabulary (4 specials + 256 bytes); the file was edited or is damaged"
            )
        if saved.sentencepiece_proto is None:
            vectorizer._install(Vocabulary(list(saved.vocabulary), saved.idf, saved.idf_given))
            return vectorizer
        sp_path = Path(directory) / persistence.SENTENCEPIECE_FILE
        try:
            model = SentencePieceModel(saved.sentencepiece_proto)
        except (RuntimeError, ValueError) as exc:  # ValueError: a piece that is not UTF-8 (a damaged file)
            raise VectorseqError(f"{sp_path}: not a valid SentencePiece model ({type(exc).__name__}: "
                                 f"{' '.join(str(exc).split())[:160]})") from None
        if model.pieces != saved.vocabulary:
            raise VectorseqError(
                f"{Path(directory) / persistence.CONFIG_FILE}: the vocabulary does not match {persistence.SENTENCEPIECE_FILE}"
            )
        vectorizer._install(Vocabulary(model.pieces, saved.idf), model)
        return vectorizer

    def __repr__(self) -> str:
        size = len(self._vocabulary) if self._vocabulary is not None else "not adapted"
        return (
            f"TextVectorizer(standardize={self.standardize_name!r}, split={self.split_name!r}, "
            f"output_mode={self.output_mode!r}, vocabulary_size={size})"
        )
