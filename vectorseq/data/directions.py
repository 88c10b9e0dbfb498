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

__all__ = ["Direction", "DirectionPlan", "direction_plan", "temperature_probabilities"]


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
