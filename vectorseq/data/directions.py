"""Translation directions: which ones a model is trained on, which are only scored (zero-shot), how they mix.

``data.directions: [en-de, en-fr]`` trains one model for several directions; ``data.zero_shot: [de-fr]``
scores directions that have no training data. :func:`direction_plan` turns a ``data`` config into a
:class:`DirectionPlan`; without ``data.directions`` the plan is today's one direction ``src_lang -> tgt_lang``,
untagged, and every stage behaves exactly as for a bilingual model (a list of one direction is the same).
With more than one direction, a target-language tag tells the model where to go
(:mod:`vectorseq.text.language_tags`).

:func:`temperature_probabilities` is the sampling of Arivazhagan et al. (2019): direction ``i`` with ``n_i``
training pairs is drawn with probability ``p_i ~ n_i^(1/T)``; ``T = 1`` follows the data, ``T -> inf`` is
uniform, and ``T = 5`` is a common middle that keeps small directions from being starved.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from vectorseq.errors import ConfigError, VectorseqError
from vectorseq.text.language_tags import Tagging, tagging_for

__all__ = ["Direction", "DirectionPlan", "check_directions", "direction_plan", "temperature_probabilities"]


@dataclass(frozen=True)
class Direction:
    """One translation direction, ``src`` -> ``tgt`` (language codes)."""

    src: str
    tgt: str

    @property
    def name(self) -> str:
        """``en-de``."""
        return f"{self.src}-{self.tgt}"

    @classmethod
    def parse(cls, text: str) -> "Direction":
        parts = text.split("-") if isinstance(text, str) else []
        if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
            raise ConfigError(f"{text!r} is not a direction; write SRC-TGT with two different languages, e.g. en-de")
        return cls(*parts)


@dataclass(frozen=True)
class DirectionPlan:
    """The directions of a model: ``trained`` (with training data), ``zero_shot`` (scored only), the tag
    ``placement`` and the sampling ``temperature``."""

    trained: tuple[Direction, ...]
    zero_shot: tuple[Direction, ...] = ()
    placement: str = "source"
    temperature: float = 1.0

    @property
    def all(self) -> tuple[Direction, ...]:
        """Every direction the model is scored on: trained first, then zero-shot."""
        return self.trained + self.zero_shot

    @property
    def tagged(self) -> bool:
        """Whether the model needs target-language tags (more than one direction)."""
        return len(self.all) > 1

    @property
    def languages(self) -> list[str]:
        """Every language of the trained directions, sorted."""
        return sorted({lang for d in self.trained for lang in (d.src, d.tgt)})

    @property
    def target_languages(self) -> list[str]:
        """The languages the model can translate into (the trained targets), sorted."""
        return sorted({d.tgt for d in self.trained})

    def is_zero_shot(self, direction: Direction) -> bool:
        return direction in self.zero_shot

    def tagging(self, tgt_lang: str | None, src_vec: Any, tgt_vec: Any) -> Tagging | None:
        """Where the tag of ``tgt_lang`` goes (None: a bilingual model, no tag). ``tgt_lang`` None is allowed
        when the model translates into one language; anything it does not translate into is a one-line error."""
        targets = self.target_languages
        if tgt_lang is None and len(targets) > 1:
            raise VectorseqError(f"this model translates into {', '.join(targets)}: say which "
                                 "(tgt_lang=... in Python, --tgt-lang on the command line)")
        lang = targets[0] if tgt_lang is None else tgt_lang
        if lang not in targets:
            raise VectorseqError(f"this model does not translate into {lang!r}; it knows {', '.join(targets)} "
                                 f"(directions: {', '.join(d.name for d in self.all)})")
        return tagging_for(lang, self.placement, src_vec, tgt_vec) if self.tagged else None


def direction_plan(data: Any) -> DirectionPlan:
    """The plan of a ``data`` config: ``data.directions`` (+ ``zero_shot``), or ``src_lang -> tgt_lang``."""
    if getattr(data, "directions", None) is None:  # (a stand-in config of an export may lack the key)
        return DirectionPlan((Direction(data.src_lang, data.tgt_lang),))
    return DirectionPlan(tuple(Direction.parse(x) for x in data.directions),
                         tuple(Direction.parse(x) for x in data.zero_shot),
                         data.tag_placement, data.sampling_temperature)


def temperature_probabilities(sizes: Sequence[int], temperature: float) -> np.ndarray:
    """``p_i ~ n_i^(1/T)``, normalised (computed in log space: no overflow for large corpora or small T)."""
    n = np.asarray(sizes, dtype=np.float64)
    if n.ndim != 1 or not len(n) or (n <= 0).any():
        raise VectorseqError(f"temperature sampling needs one positive size per direction, got {list(sizes)}")
    if not temperature > 0:
        raise VectorseqError(f"the sampling temperature must be > 0, got {temperature}")
    logits = np.log(n) / temperature
    p = np.exp(logits - logits.max())
    return p / p.sum()


def check_directions(d: Any, v: Any, e: Any) -> None:
    """The config's ``data.directions`` / ``zero_shot`` / ``valid_direction`` (distinct pairs of two languages;
    several of them on in-memory data only) and what one vectorizer per language needs (``v``: the
    ``vectorizer`` section, ``e``: ``embeddings``)."""
    if d.directions is None:
        if d.zero_shot or d.valid_direction:
            key = "zero_shot" if d.zero_shot else "valid_direction"
            raise ConfigError(f"data.{key} needs data.directions (the directions the model is trained on)")
        _check_per_language(None, v, e)
        return
    trained, zero = [x.split("-") for x in d.directions], [x.split("-") for x in d.zero_shot]
    for key, pairs in (("directions", trained), ("zero_shot", zero)):
        if any(a == b for a, b in pairs) or len({tuple(p) for p in pairs}) < len(pairs):
            raise ConfigError(f"data.{key}: {getattr(d, key)} repeats a direction or translates a language into "
                              "itself; list each SRC-TGT once, with two different languages")
    if not trained or set(d.zero_shot) & set(d.directions):
        raise ConfigError("data.directions must list at least one direction, none of them also in data.zero_shot")
    known = {lang for p in trained for lang in p}
    for a, b in zero:
        if b not in {t for _, t in trained} or a not in known:
            raise ConfigError(f"data.zero_shot: {a}-{b} needs {a} among the trained languages and {b} among the "
                              f"trained target languages ({', '.join(d.directions)})")
    if d.valid_direction is not None and d.valid_direction not in d.directions:
        raise ConfigError(f"data.valid_direction: {d.valid_direction} is not a trained direction; use one of "
                          f"{', '.join(d.directions)} or null (the mean over them)")
    if len(trained) + len(zero) > 1:
        if d.dataset == "files":
            _check_file_templates(d)
    _check_per_language(known, v, e)


def _check_file_templates(d: Any) -> None:
    """With several directions, every file name must say where its languages go (``{src}`` / ``{tgt}``), or all
    directions would read the same file."""
    for split in ("train", "valid", "test"):
        for key in ("src", "tgt", "tsv"):
            path = getattr(getattr(d, split), key)
            if path and "{src}" not in path and "{tgt}" not in path:
                raise ConfigError(f"data.{split}.{key}: {path} names one file for all of data.directions; write "
                                  "the languages as {src} and {tgt}, e.g. train.{src}-{tgt}.{src}")


def _check_per_language(languages: set[str] | None, v: Any, e: Any) -> None:
    """``vectorizer.per_language`` needs several directions and table inputs; a ``vectors`` mapping needs
    ``per_language`` and names only the model's languages."""
    if v.per_language and languages is None:
        raise ConfigError("vectorizer.per_language needs data.directions (a model of several languages); a "
                          "bilingual model already has one vectorizer per side (vectorizer.shared: false)")
    for side in ("src", "tgt"):
        es = getattr(e, side)
        if v.per_language and es.input not in ("embedding", "one_hot"):
            raise ConfigError(f"embeddings.{side}.input: {es.input} reads one vocabulary's words or counts; with "
                              "vectorizer.per_language use input: embedding or one_hot")
        if isinstance(es.vectors, dict):
            if not v.per_language:
                raise ConfigError(f"embeddings.{side}.vectors maps languages to files, which needs "
                                  "vectorizer.per_language: true; give one file otherwise")
            unknown = sorted(set(es.vectors) - (languages or set()))
            if unknown or not all(isinstance(f, str) and f for f in es.vectors.values()):
                raise ConfigError(f"embeddings.{side}.vectors: {', '.join(unknown) or 'an entry'} is not a language "
                                  f"of data.directions with a file name; the languages are "
                                  f"{', '.join(sorted(languages or []))}")
