"""The model folder and the :class:`Translator`: raw text in, raw text out.

A model folder is self-contained (see docs/architecture.md): the validated config, the vectorizers (the
vectorizer is part of the model), the weights as safetensors, the training log and the metrics. Loading
reads JSON/YAML and safetensors only; the pretrained vectors file is never needed again because the final
embedding matrix is part of the weights.

    >>> from vectorseq import Translator
    >>> t = Translator.load("runs/demo")
    >>> t.translate(["two thousand and forty-one"], beam=5)
    ['zweitausendeinundvierzig']
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from .config import Config, load_config
from .data.directions import direction_plan
from .decoding import Hypothesis, translate_ids
from .errors import VectorseqError
from .explain import Explanation, explain
from .language_vectorizer import for_language, output_bias
from .models import build_model
from .modelfolder import (CONFIG_FILE, COVERAGE_FILE, WEIGHTS_FILE, check_weights_fit, load_vectorizers,
                          load_weights, save_vectorizers, save_weights)
from .vectorizer import TextVectorizer

def resolve_device(name: str = "auto") -> torch.device:
    """``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` as a torch device that exists on this machine."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise VectorseqError(f"device {name!r} is not a device name; use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise VectorseqError(f"device {name!r} requested but no CUDA GPU is available; use device: cpu or auto")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise VectorseqError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s) "
                             f"(cuda:0..cuda:{torch.cuda.device_count() - 1}); use one of them or auto")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise VectorseqError(f"device {name!r} requested but MPS is not available; use device: cpu or auto")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise VectorseqError(f"device {name!r} is not supported; use auto, cpu, cuda, cuda:N or mps")
    return dev


def _planned_model(cfg: Config, src: TextVectorizer,
                   tgt: TextVectorizer) -> tuple[dict[str, tuple[int, ...]], int] | None:
    """The saved tensors' shapes and the distinct parameters' value count of the model ``cfg`` describes,
    built on the meta device (shapes without storage, whatever size the config asks for); None for an input
    layer that computes values while it is built (count-based IDF), which meta tensors cannot hold."""
    try:
        with torch.device("meta"):
            model = build_model(cfg, src, tgt)
    except (RuntimeError, NotImplementedError):  # e.g. Tensor.item() on a meta tensor
        return None
    return ({k: tuple(v.shape) for k, v in model.state_dict().items()},
            sum(p.numel() for p in model.parameters()))  # parameters() lists a tied table once, as the file does


def _cut_long(sources: list[list[int]], limit: int) -> list[list[int]]:
    """Sources longer than ``limit`` ids cut to their first ``limit - 1`` ids and EOS, with one warning that
    names the lines (decoding.max_input_tokens): a huge input would otherwise stall the whole batch."""
    long = [i for i, ids in enumerate(sources) if len(ids) > limit]
    if long:
        warnings.warn(f"{len(long)} source(s) longer than decoding.max_input_tokens={limit} token ids were cut to "
                      f"that length (input line(s) {', '.join(str(i + 1) for i in long[:10])}"
                      f"{', ...' if len(long) > 10 else ''}); split them or raise the limit", stacklevel=3)
        for i in long:
            sources[i] = list(sources[i][: limit - 1]) + [sources[i][-1]]  # keep the EOS every source ends with
    return sources


class Translator:
    """A trained model with its vectorizers: maps raw source strings to raw target strings."""

    def __init__(self, model: torch.nn.Module, src_vectorizer: TextVectorizer, tgt_vectorizer: TextVectorizer,
                 config: Config, device: torch.device | str = "cpu"):
        self.model = model.eval()
        self.src_vectorizer, self.tgt_vectorizer = src_vectorizer, tgt_vectorizer
        self.config = config
        self.device = torch.device(device)
        # The hook a tool may install to encode sources differently (the vocabulary extension gives unknown
        # words ids >= V; see vectorseq.tools.extend_vocab); None: the source vectorizer's encode_sources.
        # A source input layer that builds vectors for unseen words itself (char_ngrams) supplies its own.
        make_encoder = getattr(getattr(model, "src_input", None), "source_encoder", None)
        self.source_encoder: Callable[[list[str]], list[list[int]]] | None = (
            make_encoder(src_vectorizer) if callable(make_encoder) else None)
        self.extension = None  # what vectorseq.tools.extend_vocab.attach_extension installed, or None
        # the folder's coverage.json (per side: how the pretrained vectors covered the vocabulary, and which
        # rows they filled), read by explain(); None when the model used no vectors or was not loaded
        self.coverage: dict | None = None

    @classmethod
    def load(cls, model_dir: str | Path, device: str = "cpu", weights: str = WEIGHTS_FILE) -> "Translator":
        """Load a model folder (with its vocabulary extension:
        :func:`vectorseq.tools.extend_vocab.load_extended_translator`)."""
        d = Path(model_dir)
        if not (d / CONFIG_FILE).is_file():
            raise VectorseqError(f"{d}: not a vectorseq model folder (no {CONFIG_FILE}); train one with "
                                 "`vectorseq train CONFIG --output DIR`")
        if not (d / weights).is_file():
            raise VectorseqError(f"{d / weights}: weights not found; training may not have reached its first "
                                 "validation yet")
        cfg = load_config(d / CONFIG_FILE)
        src, tgt = load_vectorizers(d, cfg.vectorizer.shared)
        planned = _planned_model(cfg, src, tgt)
        if planned is not None:
            check_weights_fit(*planned, d / weights)  # before allocating the real model
        model = build_model(cfg, src, tgt)
        dev = resolve_device(device)
        load_weights(model, d / weights, dev)
        model.to(dev)
        tr = cls(model, src, tgt, cfg, dev)
        if (d / COVERAGE_FILE).is_file():
            tr.coverage = json.loads((d / COVERAGE_FILE).read_text(encoding="utf-8"))
        return tr

    def save(self, model_dir: str | Path) -> None:
        d = Path(model_dir)
        d.mkdir(parents=True, exist_ok=True)
        self.config.save(d / CONFIG_FILE)
        save_vectorizers(d, self.src_vectorizer, self.tgt_vectorizer, self.config.vectorizer.shared)
        save_weights(self.model, d / WEIGHTS_FILE)

    def encode_sources(self, texts: Sequence[str], src_lang: str | None = None) -> list[list[int]]:
        """Model inputs for raw source texts (every source ends with EOS), through ``source_encoder`` if set.
        ``src_lang``: the texts' language, for a model with one source vocabulary per language."""
        encode = self.source_encoder or self.source_vectorizer(src_lang).encode_sources
        # a config object built by other code (the export's stand-in) may predate the key: no cut then
        limit = getattr(self.config.decoding, "max_input_tokens", None)
        return _cut_long(encode(list(texts)), limit) if limit else encode(list(texts))

    def source_vectorizer(self, src_lang: str | None = None) -> Any:
        """The vectorizer of source text in ``src_lang`` (needed only with one vocabulary per language; a language
        the model was not trained to read is a one-line error)."""
        return for_language(self.src_vectorizer, src_lang)

    def target_language(self, tgt_lang: str | None) -> str | None:
        """The language an output will be in (``tgt_lang``, or the model's only target language)."""
        data = getattr(self.config, "data", None)
        if tgt_lang is not None or data is None:
            return tgt_lang
        targets = direction_plan(data).target_languages
        return targets[0] if len(targets) == 1 else None

    def tagging(self, tgt_lang: str | None = None) -> Any:
        """Where a multilingual model's target-language tag goes (None for a bilingual model); a language the
        model does not translate into is a one-line error."""
        data = getattr(self.config, "data", None)  # a stand-in config (tests, exports) may have no data section
        if data is None:
            return None
        return direction_plan(data).tagging(tgt_lang, self.src_vectorizer, self.tgt_vectorizer)

    def translate_hypotheses(self, texts: Sequence[str], beam: int | None = None, n_best: int = 1,
                             batch_size: int | None = None, length_penalty: float | None = None,
                             max_length_ratio: float | None = None, tgt_lang: str | None = None,
                             src_lang: str | None = None) -> list[list[Hypothesis]]:
        d = self.config.decoding
        tag = self.tagging(tgt_lang)
        sources = self.encode_sources(texts, src_lang)
        return translate_ids(
            self.model, sources if tag is None else [tag.source(s) for s in sources],
            beam_size=d.beam_size if beam is None else beam,
            length_penalty=d.length_penalty if length_penalty is None else length_penalty,
            max_length_ratio=d.max_length_ratio if max_length_ratio is None else max_length_ratio,
            max_length_extra=d.max_length_extra, n_best=n_best,
            batch_size=batch_size or d.batch_size, device=self.device,
            start_ids=None if tag is None else [tag.tgt_start] * len(sources),
            output_bias=output_bias(self.tgt_vectorizer, self.target_language(tgt_lang)),
        )

    def translate(self, texts: Sequence[str] | str, beam: int | None = None, n_best: int = 1,
                  batch_size: int | None = None, length_penalty: float | None = None,
                  tgt_lang: str | None = None, src_lang: str | None = None) -> list:
        """Translate raw strings. ``n_best > 1`` returns a list of ``n_best`` strings per input. ``tgt_lang``:
        the target language of a multilingual model (needed when it translates into several); ``src_lang``: the
        source language, needed when the model has one source vocabulary per language and reads several."""
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        hyps = self.translate_hypotheses(items, beam=beam, n_best=n_best, batch_size=batch_size,
                                         length_penalty=length_penalty, tgt_lang=tgt_lang, src_lang=src_lang)
        decode = for_language(self.tgt_vectorizer, self.target_language(tgt_lang)).decode
        out = [decode(h[0].tokens) if n_best == 1 else [decode(x.tokens) for x in h] for h in hyps]
        return out[0] if single else out

    def explain(self, text: str, beam: int | None = None, n_best: int = 1, layer: int | None = None,
                tgt_lang: str | None = None, src_lang: str | None = None) -> Explanation:
        """Translate one text and show how it was vectorized: source and target pieces with their ids,
        ``<unk>``, where each embedding row came from, count-based weights, and per hypothesis the
        cross-attention (target pieces x source pieces). See :mod:`vectorseq.explain`."""
        return explain(self, text, beam=beam, n_best=n_best, layer=layer, tgt_lang=tgt_lang, src_lang=src_lang)
