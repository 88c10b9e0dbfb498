"""A vectorizer on disk: ``vectorizer.json`` (settings, vocabulary, idf) and, for SentencePiece,
``sentencepiece.model`` (the model's protobuf). JSON and protobuf only; nothing is pickled.

The format (``format_version`` 1) is read by every vectorseq version since 0.1; model folders keep one such
folder per vocabulary (see :mod:`vectorseq.modelfolder`).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VectorseqError
from .vocabulary import NUM_SPECIAL_TOKENS, SPECIAL_TOKENS

CONFIG_FILE = "vectorizer.json"
SENTENCEPIECE_FILE = "sentencepiece.model"
FORMAT_NAME = "vectorseq.TextVectorizer"
FORMAT_VERSION = 1


@dataclass
class SavedVectorizer:
    """Everything a saved vectorizer holds: the constructor settings, the vocabulary, the idf (float64 or
    None), whether the idf was given (``idf_weights``) and the SentencePiece model bytes (or None)."""

    config: dict[str, Any]
    vocabulary: list[str]
    idf: np.ndarray | None
    idf_given: bool
    sentencepiece_proto: bytes | None


def write(directory: str | os.PathLike, saved: SavedVectorizer) -> Path:
    """Write ``vectorizer.json`` (+ ``sentencepiece.model``) into ``directory`` (created if needed).

    The JSON file is written to a temporary name and renamed into place, so a reader never sees half a file.
    """
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    state = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "config": saved.config,
        "vocabulary": saved.vocabulary,
        "idf": None if saved.idf is None else [float(x) for x in saved.idf],
        "idf_given": saved.idf_given,
        "sentencepiece_model": SENTENCEPIECE_FILE if saved.sentencepiece_proto is not None else None,
    }
    if saved.sentencepiece_proto is not None:
        (path / SENTENCEPIECE_FILE).write_bytes(saved.sentencepiece_proto)
    tmp = path / (CONFIG_FILE + ".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path / CONFIG_FILE)
    return path


def _read_state(cfg_path: Path) -> dict[str, Any]:
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
    return state


def read(directory: str | os.PathLike) -> SavedVectorizer:
    """Read and check what :func:`write` wrote (the SentencePiece file only when the split needs it)."""
    path = Path(directory)
    cfg_path = path / CONFIG_FILE
    state = _read_state(cfg_path)
    vocab = state.get("vocabulary")
    if not isinstance(vocab, list) or tuple(vocab[:NUM_SPECIAL_TOKENS]) != SPECIAL_TOKENS:
        raise VectorseqError(f"{cfg_path}: 'vocabulary' is missing or does not start with {list(SPECIAL_TOKENS)}")
    bad = next((i for i, tok in enumerate(vocab) if not isinstance(tok, str)), None)
    if bad is not None:  # a number or a list among the tokens once failed deep inside the lookup table
        raise VectorseqError(f"{cfg_path}: 'vocabulary' entry {bad} is {vocab[bad]!r}, not a string; the file was "
                             "edited or is damaged")
    idf = state.get("idf")
    try:
        idf_arr = None if idf is None else np.asarray(idf, dtype=np.float64)
    except (TypeError, ValueError):
        raise VectorseqError(f"{cfg_path}: 'idf' is not a list of numbers") from None
    if idf_arr is not None and idf_arr.shape != (len(vocab),):
        raise VectorseqError(f"{cfg_path}: 'idf' has {idf_arr.size} values for {len(vocab)} vocabulary entries")
    config = state.get("config", {})
    proto = None
    if isinstance(config, dict) and str(config.get("split")).lower() == "sentencepiece":
        sp_path = path / SENTENCEPIECE_FILE
        if not sp_path.is_file():
            raise VectorseqError(f"{sp_path}: missing (a SentencePiece vectorizer needs its model file)")
        proto = sp_path.read_bytes()
    return SavedVectorizer(config, vocab, idf_arr, bool(state.get("idf_given", False)), proto)
