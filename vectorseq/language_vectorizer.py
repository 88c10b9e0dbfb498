"""One vectorizer per language behind one id space (``vectorizer.per_language: true``).

A multilingual model can share one vocabulary between its languages (``vectorizer.shared``) or give each
language its own, as fairseq's multilingual task and Firat et al. (2016) do. With one vocabulary per language, a
capped vocabulary is never spent on the biggest language, each language's SentencePiece model learns from its
own text only, and each language's pretrained vectors fill its own rows (``embeddings.src.vectors:
{en: FILE, de: FILE}``).

:class:`LanguageVectorizers` holds one :class:`~vectorseq.vectorizer.TextVectorizer` per language and lays
their vocabularies end to end in one id space, so the model keeps one embedding table and one output layer
while every language has rows of its own (the table is routed by language)::

    0 .. 3                     <pad> <unk> <s> </s>     shared by every language
    4 .. 4+R-1                 the reserved tokens (language tags), one id each
    start(de) .. stop(de)-1    German tokens: the German vectorizer's ids 4.., shifted
    start(en) .. stop(en)-1    English tokens
    ...

Text needs its language to become ids (``--src-lang``, ``src_lang=``): :meth:`LanguageVectorizers.language`
is the vectorizer of one language in the shared id space (encode, sample, decode), and
:meth:`LanguageVectorizers.allowed_ids` is one target language's part of the output layer, which decoding
keeps to (a German model output cannot contain a French token).

Saved as ``languages.json`` (languages and reserved tokens) beside one ``<lang>/`` folder per language, each
an ordinary saved vectorizer: JSON and SentencePiece protobufs only.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import torch

from .errors import VectorseqError
from .text.vocabulary import NUM_SPECIAL_TOKENS, SPECIAL_TOKENS, UNK_ID
from .vectorizer import TextVectorizer

__all__ = ["LANGUAGES_FILE", "LanguageVectorizers", "LanguageView", "for_language", "is_per_language", "output_bias"]

LANGUAGES_FILE = "languages.json"
_FORMAT = 1


class LanguageVectorizers:
    """Adapted vectorizers ``{language: TextVectorizer}`` in one id space, with ``reserved_tokens`` (language
    tags) in its header. Build it from vectorizers that are already adapted."""

    def __init__(self, vectorizers: Mapping[str, TextVectorizer], reserved_tokens: Sequence[str] | None = None):
        if not vectorizers:
            raise VectorseqError("LanguageVectorizers needs at least one language")
        self.vectorizers = {lang: vectorizers[lang] for lang in sorted(vectorizers)}  # a fixed id layout
        self.reserved_tokens = list(reserved_tokens or [])
        if len(set(self.reserved_tokens)) < len(self.reserved_tokens) or set(self.reserved_tokens) & set(SPECIAL_TOKENS):
            raise VectorseqError(f"reserved tokens must be distinct and not special tokens, got {self.reserved_tokens}")
        self._ranges: dict[str, tuple[int, int]] = {}
        start = NUM_SPECIAL_TOKENS + len(self.reserved_tokens)
        for lang, vec in self.vectorizers.items():
            if not vec.is_adapted:
                raise VectorseqError(f"the {lang!r} vectorizer is not adapted; adapt it before joining it")
            stop = start + vec.vocabulary_size() - NUM_SPECIAL_TOKENS
            self._ranges[lang] = (start, stop)
            start = stop
        self._size = start

    @property
    def languages(self) -> list[str]:
        return list(self.vectorizers)

    def language(self, lang: str) -> "LanguageView":
        """The vectorizer of ``lang`` in the shared id space; a language without one is a one-line error."""
        self._check(lang)
        return LanguageView(self, lang)

    def range(self, lang: str) -> tuple[int, int]:
        """``(start, stop)``: the ids of ``lang``'s own tokens."""
        self._check(lang)
        return self._ranges[lang]

    def _check(self, lang: str) -> None:
        if lang not in self.vectorizers:
            raise VectorseqError(f"no vectorizer for language {lang!r}: this model's vectorizers are for "
                                 f"{', '.join(self.languages)}")

    def allowed_ids(self, lang: str) -> np.ndarray:
        """The ids a ``lang`` output may contain: the four specials and ``lang``'s tokens (not the tags)."""
        start, stop = self.range(lang)
        return np.concatenate([np.arange(NUM_SPECIAL_TOKENS), np.arange(start, stop)]).astype(np.int64)

    # ------------------------------------------------------------------ what the model and the tags need
    @property
    def is_adapted(self) -> bool:  # as TextVectorizer's: a property
        return True

    def vocabulary_size(self) -> int:
        return self._size

    def get_vocabulary(self) -> list[str]:
        """Every entry in id order (a token of two languages appears once per language)."""
        out = list(SPECIAL_TOKENS) + self.reserved_tokens
        for vec in self.vectorizers.values():
            out += vec.get_vocabulary()[NUM_SPECIAL_TOKENS:]
        return out

    def reserved_id(self, token: str) -> int:
        """The id of a reserved token (a language tag)."""
        if token not in self.reserved_tokens:
            known = ", ".join(self.reserved_tokens) or "none"
            raise VectorseqError(f"{token!r} is not a reserved token of this vectorizer (reserved: {known})")
        return NUM_SPECIAL_TOKENS + self.reserved_tokens.index(token)

    def __getattr__(self, name: str) -> Any:
        # encode/decode/... need a language; say how to give one instead of a bare AttributeError
        if name in ("encode", "encode_many", "encode_sources", "sample_many", "tokenize", "decode", "decode_tokens"):
            raise VectorseqError(f"this vectorizer has one vocabulary per language ({', '.join(self.languages)}); "
                                 f"call .language(LANG).{name}(...)")
        raise AttributeError(name)

    # ------------------------------------------------------------------ save / load
    def save(self, directory: str | os.PathLike) -> Path:
        """``languages.json`` and one saved vectorizer per language under ``directory/<lang>/``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for lang, vec in self.vectorizers.items():
            vec.save(d / lang)
        meta = {"format": _FORMAT, "languages": self.languages, "reserved_tokens": self.reserved_tokens}
        (d / LANGUAGES_FILE).write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "LanguageVectorizers":
        d = Path(directory)
        path = d / LANGUAGES_FILE
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
            langs, reserved = list(meta["languages"]), list(meta.get("reserved_tokens", []))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise VectorseqError(f"{path}: not a readable per-language vectorizer file ({type(e).__name__}); "
                                 "restore the model folder from a copy") from None
        if meta.get("format") != _FORMAT or not all(isinstance(x, str) and x for x in langs):
            raise VectorseqError(f"{path}: unknown format {meta.get('format')!r} or bad language list {langs!r}; "
                                 "was it written by a newer vectorseq?")
        return cls({lang: TextVectorizer.load(d / lang) for lang in langs}, reserved)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{lang}: {stop - start}" for lang, (start, stop) in self._ranges.items())
        return f"LanguageVectorizers({sizes}; reserved={self.reserved_tokens}, vocabulary_size={self._size})"


class LanguageView:
    """One language's vectorizer with its ids moved into the shared id space: what encoding, subword sampling
    and decoding of that language's text use. Specials keep their ids; decoding drops the tags and renders
    another language's ids as ``<unk>``."""

    def __init__(self, parent: LanguageVectorizers, lang: str):
        self.parent, self.lang = parent, lang
        self.vectorizer = parent.vectorizers[lang]
        self.start, self.stop = parent.range(lang)
        self._shift = self.start - NUM_SPECIAL_TOKENS  # local id i >= 4 is global id i + shift

    def _global(self, ids: Iterable[int]) -> list[int]:
        s = self._shift
        return [i if i < NUM_SPECIAL_TOKENS else i + s for i in ids]

    def _local(self, ids: Iterable[int]) -> list[int]:
        s, start, stop, out = self._shift, self.start, self.stop, []
        for i in (int(x) for x in ids):
            if i < NUM_SPECIAL_TOKENS:
                out.append(i)
            elif start <= i < stop:
                out.append(i - s)
            elif i >= NUM_SPECIAL_TOKENS + len(self.parent.reserved_tokens):  # another language's token
                out.append(UNK_ID)
            # a tag: a control token, not text
        return out

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        return self._global(self.vectorizer.encode(text, add_bos, add_eos))

    def encode_many(self, texts: Iterable[str], add_bos: bool = False, add_eos: bool = False) -> list[list[int]]:
        return [self._global(ids) for ids in self.vectorizer.encode_many(texts, add_bos, add_eos)]

    def encode_sources(self, texts: Iterable[str]) -> list[list[int]]:
        return [self._global(ids) for ids in self.vectorizer.encode_sources(texts)]

    def sample_many(self, texts: Sequence[str], spec: Any, **kwargs: Any) -> list[list[int]]:
        return [self._global(ids) for ids in self.vectorizer.sample_many(texts, spec, **kwargs)]

    def tokenize(self, text: str) -> list[str]:
        return self.vectorizer.tokenize(text)

    def decode(self, ids: Any) -> str:
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        return self.vectorizer.decode(self._local(ids))

    def decode_tokens(self, tokens: Sequence[str]) -> str:
        return self.vectorizer.decode_tokens(tokens)

    def reserved_id(self, token: str) -> int:
        return self.parent.reserved_id(token)

    def vocabulary_size(self) -> int:
        return self.parent.vocabulary_size()

    def get_vocabulary(self) -> list[str]:
        return self.parent.get_vocabulary()

    def __repr__(self) -> str:
        return f"LanguageView({self.lang!r}, ids {self.start}..{self.stop - 1} of {self.parent.vocabulary_size()})"


def is_per_language(vectorizer: Any) -> bool:
    return isinstance(vectorizer, LanguageVectorizers)


def for_language(vectorizer: Any, lang: str | None) -> Any:
    """The vectorizer that reads or writes ``lang``'s text: ``vectorizer`` itself, unless it has one vocabulary
    per language (then ``lang`` is required)."""
    if not is_per_language(vectorizer):
        return vectorizer
    if lang is None:
        if len(vectorizer.languages) > 1:
            raise VectorseqError(f"this model has one vocabulary per language ({', '.join(vectorizer.languages)}): "
                                 "say which language the text is in (src_lang=... in Python, --src-lang on the "
                                 "command line)")
        lang = vectorizer.languages[0]
    return vectorizer.language(lang)


def output_bias(vectorizer: Any, lang: str | None) -> torch.Tensor | None:
    """What decoding adds to the logits so that a ``lang`` output uses only ``lang``'s tokens: 0 on
    :meth:`LanguageVectorizers.allowed_ids`, ``-inf`` elsewhere; None for any other vectorizer (or no language).
    Training's softmax runs over every language's tokens; decoding renormalises over the target's own."""
    if not is_per_language(vectorizer) or lang is None:
        return None
    bias = torch.full((vectorizer.vocabulary_size(),), float("-inf"))
    bias[torch.from_numpy(vectorizer.allowed_ids(lang))] = 0.0
    return bias
