"""The model folder: every file name in one place, and the vectorizers' save/load.

A model folder is self-contained: raw text in, raw text out, from JSON/YAML and safetensors only (nothing is
ever unpickled)::

    MODEL_DIR/
      config.yaml              the validated config (with the pretrained vectors' width, so loading never
                               needs the vectors file)
      vectorizer_shared/       or vectorizer_src/ + vectorizer_tgt/: vectorizer.json (+ sentencepiece.model);
                               with one vocabulary per language, languages.json + one such folder per language
      model.safetensors        the best validation step's weights
      train_log.jsonl          one JSON line per validation
      metrics.json             written when training has finished (final and test scores)
      coverage.json            pretrained vectors' coverage of the vocabulary (when vectors are used)
      training_curve.png       losses and validation BLEU
      checkpoints/last/        everything resume needs (weights, optimizer, counters, RNG states)
      lock.json                locked while a training run writes the folder (the holder's pid)
      extension/               optional: frozen pretrained vectors for source words outside the vocabulary
      hyps.txt                 optional: the test split's translations (written by `vectorseq compare`)
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_model, save_model

from .errors import VectorseqError

from .language_vectorizer import LANGUAGES_FILE, LanguageVectorizers
from .vectorizer import TextVectorizer

CONFIG_FILE = "config.yaml"
WEIGHTS_FILE = "model.safetensors"
LOG_FILE = "train_log.jsonl"
METRICS_FILE = "metrics.json"
COVERAGE_FILE = "coverage.json"
CURVE_FILE = "training_curve.png"
LAST_CHECKPOINT = "checkpoints/last"
LOCK_FILE = "lock.json"  # held (flock) while a training run writes the folder; JSON: the holder's pid
EXTENSION_DIR = "extension"
HYPOTHESES_FILE = "hyps.txt"  # the name comparison folders written before the redesign use
VECTORIZER_DIRS = ("vectorizer_shared", "vectorizer_src", "vectorizer_tgt")


def vectorizer_dirs(model_dir: Path, shared: bool) -> tuple[Path, Path]:
    """The source and target vectorizer folders (the same folder when the vocabulary is shared)."""
    model_dir = Path(model_dir)
    if shared:
        return model_dir / "vectorizer_shared", model_dir / "vectorizer_shared"
    return model_dir / "vectorizer_src", model_dir / "vectorizer_tgt"


def save_vectorizers(model_dir: Path, src: Any, tgt: Any, shared: bool) -> None:
    s, t = vectorizer_dirs(model_dir, shared)
    src.save(s)
    if not shared:
        tgt.save(t)


def load_vectorizers(model_dir: Path, shared: bool) -> tuple[Any, Any]:
    """The source and target vectorizers: a :class:`TextVectorizer` each, or a :class:`LanguageVectorizers`
    where the folder holds one vocabulary per language (its ``languages.json`` says so)."""
    s, t = vectorizer_dirs(model_dir, shared)
    src = _load_vectorizer(s)
    return src, (src if shared else _load_vectorizer(t))


def _load_vectorizer(directory: Path) -> Any:
    if (directory / LANGUAGES_FILE).is_file():
        return LanguageVectorizers.load(directory)
    return TextVectorizer.load(directory)


def save_weights(model: torch.nn.Module, path: str | Path) -> None:
    """Parameters and persistent buffers as safetensors, written to a temporary name and renamed into place."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    save_model(model, str(tmp))
    os.replace(tmp, path)


def write_json(path: str | Path, data: object) -> None:
    """A JSON file of the folder (``metrics.json``), written to a temporary name and renamed into place: its
    presence says training has finished, so it must never exist half-written (a kill once left one that the
    comparison then failed to read)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def load_weights(model: torch.nn.Module, path: str | Path, device: str | torch.device = "cpu") -> None:
    """Load a safetensors file into ``model``; a damaged file or one of another model is a one-line error."""
    try:
        missing, unexpected = load_model(model, str(path), strict=False, device=str(device))
    except (SafetensorError, OSError, ValueError) as e:  # truncated, empty, garbage header, unreadable
        raise VectorseqError(f"{path}: not a readable safetensors weights file ({type(e).__name__}: "
                             f"{str(e).splitlines()[0][:120]}); restore it from a copy or train again") from None
    except RuntimeError as e:  # a tensor of another shape: the config does not describe these weights
        raise VectorseqError(f"{path}: weights do not fit the model the folder's config describes "
                             f"({str(e).splitlines()[0][:160]}); was config.yaml edited, or the weights copied "
                             "from another model?") from None
    # buffers that are recomputed (positional tables) are non-persistent and never listed here
    if unexpected or missing:
        raise VectorseqError(f"{path}: weights do not match the model (missing {sorted(missing)[:5]}, "
                             f"unexpected {sorted(unexpected)[:5]}); was it trained with another config?")


def weight_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """Every tensor's shape in a safetensors file, read from its header only (no tensor is loaded)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise VectorseqError(f"{path}: not a readable safetensors weights file ({type(e).__name__}: "
                             f"{str(e).splitlines()[0][:120]}); restore it from a copy or train again") from None


def check_weights_fit(expected: dict[str, tuple[int, ...]], n_expected: int, path: str | Path) -> None:
    """Refuse, before any allocation, a config whose model differs from the weights file's header: a tensor
    of another shape under the same name, or more values than the file holds (``n_expected``: the distinct
    parameters' values of the model built on the meta device). A config edited to ask for a huge model is
    then a one-line error instead of an out-of-memory."""
    found = weight_shapes(path)
    wrong = [f"{k} {expected[k]} vs {found[k]}" for k in expected if k in found and expected[k] != found[k]]
    n_file = sum(_numel(s) for s in found.values())
    if wrong or n_expected > n_file:
        detail = f"; shapes differ: {'; '.join(wrong[:3])}" if wrong else ""
        raise VectorseqError(f"{path}: the folder's config describes a model of {n_expected:,} parameter values "
                             f"but the weights hold {n_file:,}{detail}; was config.yaml edited, or the weights "
                             "copied from another model?")


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n
