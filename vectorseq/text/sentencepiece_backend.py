"""The SentencePiece backend of ``split="sentencepiece"``: training in ``adapt``, encode / decode, the model bytes.

Training streams the lines once to a temporary file and trains a model with ``vocab_size=max_tokens``,
``model_type`` (BPE or unigram), ``character_coverage``, ids 0-3 for the four specials,
``normalization_rule_name="identity"`` (no hidden NFKC: use ``standardize="nfkc"`` if you want it), one
thread and the given ``seed`` (deterministic), and ``hard_vocab_limit=False`` (a small corpus may give fewer
than ``max_tokens`` pieces). The vocabulary is the pieces in SentencePiece id order. The lines are what the
vectorizer gives SentencePiece: standardized text with every whitespace run collapsed to one space
(SentencePiece is line-based). For a text whose characters all occur in the training corpus
(``character_coverage=1.0``), ``decode(encode(x)) == " ".join(standardize(x).split())``.

A model is stored as its serialized protobuf (:attr:`SentencePieceModel.proto`), the ``sentencepiece.model``
file of a saved vectorizer.
"""
from __future__ import annotations

import io
import itertools
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import sentencepiece as spm

from ..errors import VectorseqError
from .subword_sampling import SamplingSpec, SubwordSampler
from .vocabulary import (
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
)


class SentencePieceModel:
    """A trained SentencePiece model, loaded from its bytes; its pieces start with the four specials."""

    def __init__(self, proto: bytes) -> None:
        sp = spm.SentencePieceProcessor(model_proto=proto)
        pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
        if tuple(pieces[:NUM_SPECIAL_TOKENS]) != SPECIAL_TOKENS:
            raise VectorseqError(
                f"the SentencePiece model's first pieces are {pieces[:NUM_SPECIAL_TOKENS]}, expected {list(SPECIAL_TOKENS)}"
            )
        self._sp = sp
        #: The serialized model (what ``sentencepiece.model`` holds).
        self.proto = proto
        #: The vocabulary: the pieces in id order.
        self.pieces = pieces
        self._sampler: SubwordSampler | None = None  # built on the first sample(): training-time only

    def encode(self, lines: list[str]) -> list[list[int]]:
        """The ids of each line, in one C++ call."""
        return self._sp.encode(lines)

    def sample(self, lines: list[str], keys: np.ndarray, spec: SamplingSpec, seed: int, epoch: int,
               model_type: str) -> list[list[int]]:
        """Sampled ids of each line (subword regularization); see :mod:`~vectorseq.text.subword_sampling`.
        ``model_type`` is the vectorizer's ``sentencepiece_model_type`` (the model was trained with it)."""
        if self._sampler is None:
            self._sampler = SubwordSampler(self._sp, self.pieces, model_type)
        return self._sampler.sample(lines, keys, spec, seed, epoch)

    def encode_pieces(self, line: str) -> list[str]:
        """The pieces of one line."""
        return self._sp.encode(line, out_type=str)

    def decode(self, ids: list[int]) -> str:
        return self._sp.decode(ids)

    def decode_pieces(self, pieces: list[str]) -> str:
        return self._sp.decode_pieces(pieces)


@dataclass
class TrainedModel:
    """What :func:`train` returns: the model, each id's document frequency (when asked) and the text count."""

    model: SentencePieceModel
    doc_freq: np.ndarray | None
    n_docs: int


def _write_corpus(lines: Iterator[str], path: str) -> tuple[int, int]:
    """Write the non-empty lines to ``path``; return (texts read, lines written)."""
    n_docs = n_lines = 0
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            n_docs += 1
            if line:
                f.write(line)
                f.write("\n")
                n_lines += 1
    return n_docs, n_lines


def _doc_freq(model: SentencePieceModel, path: str) -> np.ndarray:
    """How many lines of the corpus file each id occurs in (a second pass over our own temp file)."""
    df = np.zeros(len(model.pieces), dtype=np.float64)
    with open(path, encoding="utf-8") as f:
        while True:
            chunk = [line.rstrip("\n") for line in itertools.islice(f, 10000)]
            if not chunk:
                break
            for ids in model.encode(chunk):
                df[list(set(ids))] += 1
    return df


def train(
    lines: Iterator[str], *, vocab_size: int, model_type: str, character_coverage: float, seed: int,
    with_doc_freq: bool, standardize_name: str, control_symbols: tuple[str, ...] = (),
) -> TrainedModel:
    """Train a model on ``lines`` (read once); ``standardize_name`` is only for the empty-corpus error.
    ``control_symbols`` (reserved tokens) get the ids right after the specials and are never produced from text."""
    with tempfile.TemporaryDirectory(prefix="vectorseq-spm-") as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        n_docs, n_lines = _write_corpus(lines, corpus)
        if n_docs == 0:
            raise VectorseqError("adapt() got an empty corpus: no texts")
        if n_lines == 0:
            raise VectorseqError(f"adapt() got {n_docs} text(s) but all are empty after standardize={standardize_name!r}")
        proto = io.BytesIO()
        spm.set_random_generator_seed(seed)
        try:
            spm.SentencePieceTrainer.train(
                input=corpus, model_writer=proto, vocab_size=vocab_size, model_type=model_type,
                character_coverage=character_coverage,
                pad_id=PAD_ID, unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID,
                pad_piece=PAD_TOKEN, unk_piece=UNK_TOKEN, bos_piece=BOS_TOKEN, eos_piece=EOS_TOKEN,
                unk_surface=UNK_TOKEN, normalization_rule_name="identity", num_threads=1,
                hard_vocab_limit=False, minloglevel=2,
                **({"control_symbols": list(control_symbols)} if control_symbols else {}),
            )
        except RuntimeError as exc:
            raise VectorseqError(_explain_error(str(exc), n_lines, vocab_size, character_coverage)) from None
        model = SentencePieceModel(proto.getvalue())
        return TrainedModel(model, _doc_freq(model, corpus) if with_doc_freq else None, n_docs)


def _explain_error(message: str, n_lines: int, max_tokens: int, character_coverage: float) -> str:
    """SentencePiece's training error in the vectorizer's terms (``max_tokens``, not ``vocab_size``)."""
    detail = message.split("] ", 1)[-1].strip()
    m = re.search(r"required_chars\.\s*(\d+)\s*vs\s*(\d+)", message)
    if m:
        return (
            f"SentencePiece training failed: max_tokens={max_tokens} is too small; the corpus has "
            f"{int(m.group(2)) - NUM_SPECIAL_TOKENS} distinct characters, which with the 4 special tokens "
            f"need max_tokens >= {m.group(2)} (or lower character_coverage={character_coverage})"
        )
    m = re.search(r"Vocabulary size too high \((\d+)\).*?<=\s*(\d+)", message)
    if m:
        return (
            f"SentencePiece training failed: the corpus ({n_lines} lines) is too small for "
            f"max_tokens={max_tokens}; set max_tokens <= {m.group(2)} or give more text"
        )
    return f"SentencePiece training failed ({n_lines} lines, max_tokens={max_tokens}): {detail}"
