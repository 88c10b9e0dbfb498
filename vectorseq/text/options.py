"""The vectorizer's settings: every option's valid names, the one set of defaults, and their checks.

:class:`vectorseq.vectorizer.TextVectorizer` takes its constructor defaults from :data:`DEFAULTS`, and the
experiment config (``vectorizer.src`` / ``vectorizer.tgt`` in :mod:`vectorseq.config`) takes its defaults
from :data:`TRANSLATION_DEFAULTS`, which is :data:`DEFAULTS` with the three values a translation model
needs stated, and explained, next to it. So there is one place to read (and change) a default.

The config reads this module, so it imports nothing heavier than numpy (through the special ids).
"""
from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import VectorseqError, did_you_mean
from .byte_level import BYTE_VOCAB_SIZE
from .vocabulary import NUM_SPECIAL_TOKENS

STANDARDIZE_OPTIONS = ("none", "lower", "strip_punctuation", "lower_and_strip_punctuation", "nfkc", "nfkc_lower")
SPLIT_OPTIONS = ("whitespace", "word", "character", "sentencepiece", "byte")
OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
#: The output modes that give one row per text (a bag of terms) rather than one row per token.
BAG_MODES = ("multi_hot", "count", "tf_idf")
SENTENCEPIECE_MODEL_TYPES = ("bpe", "unigram")
TFIDF_NORMS = ("auto", "l2", "l1", "none")

#: ``TextVectorizer``'s constructor defaults. ``standardize`` / ``split`` follow Keras ``TextVectorization``
#: (a general text vectorizer: lower-case, strip punctuation, split on whitespace). ``sentencepiece_model_type``
#: is BPE: every configuration shipped with vectorseq, the demo and the measured results train BPE.
DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "standardize": "lower_and_strip_punctuation",
        "split": "whitespace",
        "split_pattern": None,
        "max_tokens": None,
        "min_freq": 1,
        "vocabulary": None,
        "output_mode": "int",
        "output_sequence_length": None,
        "ngrams": None,
        "pad_to_max_tokens": False,
        "idf_weights": None,
        "tfidf_norm": "auto",
        "smooth_idf": True,
        "sublinear_tf": False,
        "sentencepiece_model_type": "bpe",
        "character_coverage": 1.0,
        "seed": 0,
        "reserved_tokens": None,
    }
)

#: The defaults of a translation experiment's vectorizer (the config's ``vectorizer.src`` / ``.tgt``):
#: :data:`DEFAULTS` except where a sequence-to-sequence model needs otherwise. ``standardize`` is none
#: (null): the target side is what the model writes and BLEU scores raw text, so case and punctuation must
#: survive. ``split`` is SentencePiece with ``max_tokens`` 8000: a fixed-size subword vocabulary has no
#: unknown words on either side, which whitespace words without a cap (the general default) would have.
TRANSLATION_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {**DEFAULTS, "standardize": None, "split": "sentencepiece", "max_tokens": 8000}
)


def choose_option(what: str, value: Any, options: tuple[str, ...]) -> str:
    """Return ``value`` (case-insensitive) if it is one of ``options``; else raise a helpful error.

    The message lists the valid names and, when one is close, suggests it.
    """
    if isinstance(value, str) and value.lower() in options:
        return value.lower()
    msg = f"unknown {what} {value!r}; valid options: {', '.join(repr(o) for o in options)}"
    close = did_you_mean(value.lower(), options) if isinstance(value, str) else None
    if close:
        msg += f" (did you mean {close!r}?)"
    raise VectorseqError(msg)


def check_keys(config: Mapping[str, Any]) -> None:
    """Refuse a key that is not a constructor argument (with a did-you-mean)."""
    for key in config:
        if key not in DEFAULTS:
            valid = sorted(DEFAULTS)
            msg = f"unknown vectorizer config key {key!r}; valid keys: {', '.join(valid)}"
            close = did_you_mean(key, valid)
            if close:
                msg += f" (did you mean {close!r}?)"
            raise VectorseqError(msg)


def positive_int(name: str, value: Any, minimum: int = 1, allow_none: bool = True) -> int | None:
    """``value`` as an int >= ``minimum`` (or None when allowed); bools and floats are refused."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not hasattr(value, "__index__") or value < minimum:
        raise VectorseqError(f"{name} must be an int >= {minimum}" + (" or None" if allow_none else "") + f", got {value!r}")
    return int(value)


#: the highest n-gram order: a token n-gram longer than this matches almost no text twice, and ``ngrams: n`` builds
#: every order up to n (a saved setting of 211,974,745 once asked for that many orders and ran out of memory)
MAX_NGRAM_ORDER = 32


def normalize_ngrams(ngrams: Any) -> tuple[int, ...] | None:
    """Keras semantics: ``n`` means orders 1..n, a tuple lists the orders (sorted, without repeats)."""
    if ngrams is None:
        return None
    if isinstance(ngrams, bool):
        raise VectorseqError(f"ngrams must be None, an int or a tuple of ints between 1 and {MAX_NGRAM_ORDER}, "
                             f"got {ngrams!r}")
    if isinstance(ngrams, int):
        if not 1 <= ngrams <= MAX_NGRAM_ORDER:
            raise VectorseqError(f"ngrams must be between 1 and {MAX_NGRAM_ORDER}, got {ngrams}")
        return tuple(range(1, ngrams + 1))
    if isinstance(ngrams, (list, tuple)) and ngrams and all(
        isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_NGRAM_ORDER for n in ngrams
    ):
        return tuple(sorted(set(ngrams)))
    raise VectorseqError(f"ngrams must be None, an int or a tuple of ints between 1 and {MAX_NGRAM_ORDER}, "
                         f"got {ngrams!r}")


def _coverage(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) <= 1.0:
        raise VectorseqError(f"character_coverage must be a number in (0, 1], got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class Options:
    """The checked settings of a vectorizer other than standardize, split and the vocabulary itself.

    The field order is the key order of ``vectorizer.json``'s ``config`` (after standardize and split).
    """

    split_pattern: str | None
    max_tokens: int | None
    min_freq: int
    output_mode: str
    output_sequence_length: int | None
    ngrams: tuple[int, ...] | None
    pad_to_max_tokens: bool
    tfidf_norm: str
    smooth_idf: bool
    sublinear_tf: bool
    sentencepiece_model_type: str
    character_coverage: float
    seed: int

    @classmethod
    def checked(cls, **kw: Any) -> "Options":
        """Validate and normalize each setting (names of options are case-insensitive)."""
        tfidf_norm = "none" if kw["tfidf_norm"] is None else kw["tfidf_norm"]
        return cls(
            split_pattern=kw["split_pattern"],
            max_tokens=positive_int("max_tokens", kw["max_tokens"], minimum=NUM_SPECIAL_TOKENS + 1),
            min_freq=positive_int("min_freq", kw["min_freq"], allow_none=False),
            output_mode=choose_option("output_mode", kw["output_mode"], OUTPUT_MODES),
            output_sequence_length=positive_int("output_sequence_length", kw["output_sequence_length"]),
            ngrams=normalize_ngrams(kw["ngrams"]),
            pad_to_max_tokens=bool(kw["pad_to_max_tokens"]),
            tfidf_norm=choose_option("tfidf_norm", tfidf_norm, TFIDF_NORMS),
            smooth_idf=bool(kw["smooth_idf"]),
            sublinear_tf=bool(kw["sublinear_tf"]),
            sentencepiece_model_type=choose_option(
                "sentencepiece_model_type", kw["sentencepiece_model_type"], SENTENCEPIECE_MODEL_TYPES
            ),
            character_coverage=_coverage(kw["character_coverage"]),
            seed=positive_int("seed", kw["seed"], minimum=0, allow_none=False),
        )

    def to_config(self) -> dict[str, Any]:
        """JSON-able, as stored in ``vectorizer.json`` (``ngrams`` as a list, ``tfidf_norm`` none as null)."""
        config = dataclasses.asdict(self)
        config["ngrams"] = list(self.ngrams) if self.ngrams is not None else None
        config["tfidf_norm"] = None if self.tfidf_norm == "none" else self.tfidf_norm
        return config

    def check_combination(self, split: str, vocabulary: bool, idf_weights: bool) -> None:
        """Refuse settings that do not go together (``vocabulary`` / ``idf_weights``: whether given)."""
        mode, is_sp = self.output_mode, split == "sentencepiece"
        if self.ngrams is not None and mode not in BAG_MODES:
            raise VectorseqError(
                f"ngrams= only applies to output_mode 'multi_hot', 'count' or 'tf_idf' (as in Keras); "
                f"got output_mode={mode!r}"
            )
        if self.ngrams is not None and is_sp:
            raise VectorseqError("ngrams= is not supported with split='sentencepiece' (its vocabulary is the model's pieces)")
        if self.output_sequence_length is not None and mode in BAG_MODES:
            raise VectorseqError(f"output_sequence_length= only applies to output_mode 'int' or 'one_hot'; got {mode!r}")
        if self.pad_to_max_tokens and self.max_tokens is None:
            raise VectorseqError("pad_to_max_tokens=True needs max_tokens= (the width to pad to)")
        if is_sp and self.max_tokens is None:
            raise VectorseqError(
                "split='sentencepiece' needs max_tokens= (the SentencePiece vocab_size, specials included), e.g. 8000"
            )
        if is_sp and vocabulary:
            raise VectorseqError(
                "vocabulary= cannot be used with split='sentencepiece': the vocabulary comes from a trained "
                "SentencePiece model (call adapt, or TextVectorizer.load a saved one)"
            )
        if split == "byte":
            self._check_byte(vocabulary)
        self._check_idf_weights(vocabulary, idf_weights)

    def _check_byte(self, vocabulary: bool) -> None:
        """``split="byte"`` has a fixed vocabulary: refuse what would change it; a ``max_tokens`` that holds
        all 260 ids is accepted and ignored (so the translation default 8000 needs no change)."""
        if vocabulary:
            raise VectorseqError("vocabulary= cannot be used with split='byte': its vocabulary is fixed (4 specials + 256 bytes)")
        if self.max_tokens is not None and self.max_tokens < BYTE_VOCAB_SIZE:
            raise VectorseqError(
                f"max_tokens={self.max_tokens} is too small for split='byte', whose vocabulary is fixed at "
                f"{BYTE_VOCAB_SIZE} ids; leave max_tokens at null (it is ignored for bytes)"
            )
        if self.min_freq != 1:
            raise VectorseqError(f"min_freq={self.min_freq} does not apply to split='byte' (no byte is ever dropped); use 1")
        if self.ngrams is not None or self.output_mode == "tf_idf":
            raise VectorseqError(
                "split='byte' supports output_mode int, one_hot, multi_hot and count without ngrams= "
                "(its vocabulary is fixed, so adapt learns neither n-grams nor an idf)"
            )

    def _check_idf_weights(self, vocabulary: bool, idf_weights: bool) -> None:
        if idf_weights and self.output_mode != "tf_idf":
            raise VectorseqError(f"idf_weights= only applies to output_mode='tf_idf'; got {self.output_mode!r}")
        if idf_weights and not vocabulary:
            raise VectorseqError("idf_weights= needs vocabulary= (one weight per vocabulary entry), as in Keras")
        if self.output_mode == "tf_idf" and vocabulary and not idf_weights:
            raise VectorseqError(
                "output_mode='tf_idf' with a given vocabulary= needs idf_weights= "
                "(or leave vocabulary=None and call adapt, which learns the idf)"
            )
