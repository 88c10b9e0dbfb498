"""Target-language tags of a multilingual model: ``<2de>`` tells one model to translate into German.

Johnson et al. (2017) put a tag naming the target language at the start of the source; mBART and fairseq's
``--decoder-langtok`` make it the decoder's first token instead (it replaces ``<s>``). Both placements exist
here (``data.tag_placement: source | decoder``). A tag is a *reserved token* of the vectorizer
(:mod:`vectorseq.text.reserved_tokens`), so it is exactly one id in every split mode, never standardized,
never segmented, and never produced by text; :class:`Tagging` says where its id goes in one sentence pair.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .vocabulary import BOS_ID

#: How a tag is written: ``<2de>`` ("to German"), the form of Johnson et al. (2017).
TAG_FORMAT = "<2{}>"
PLACEMENTS = ("source", "decoder")


def tag_token(lang: str) -> str:
    """The tag of target language ``lang``: ``<2de>``."""
    return TAG_FORMAT.format(lang)


def language_tags(langs: Iterable[str]) -> list[str]:
    """The tags of ``langs``, sorted by language (a fixed order: the vocabulary must not depend on set order)."""
    return [tag_token(lang) for lang in sorted(set(langs))]


@dataclass(frozen=True)
class Tagging:
    """Where one direction's tag goes: ``src_prefix`` (an id before the source, or None) and ``tgt_start``
    (the decoder's first input: ``<s>``, or the tag)."""

    src_prefix: int | None = None
    tgt_start: int = BOS_ID

    def source(self, ids: Sequence[int]) -> list[int]:
        """Source ids with the tag in front (when it goes there)."""
        return list(ids) if self.src_prefix is None else [self.src_prefix, *ids]


#: No tag at all: a bilingual model.
UNTAGGED = Tagging()


def tagging_for(lang: str, placement: str, src_vec: Any, tgt_vec: Any) -> Tagging:
    """The :class:`Tagging` of target language ``lang``: its tag's id in the source vectorizer (placement
    ``source``) or the target vectorizer (``decoder``)."""
    if placement == "decoder":
        return Tagging(tgt_start=tgt_vec.reserved_id(tag_token(lang)))
    return Tagging(src_prefix=src_vec.reserved_id(tag_token(lang)))
