"""How much of a vocabulary (and of a corpus) pretrained vectors cover: :func:`coverage_report`.

It reads only the per-row ``how`` of a :class:`~vectorseq.embeddings.matrix.PretrainedMatrix` (how each
row was obtained), so it is written next to the weights as ``coverage.json`` by training and printed by
``vectorseq embeddings inspect``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vectorseq.errors import VectorseqError

__all__ = ["COVERED", "coverage_report"]

#: Ways a row can come from the vectors (exact, a case fallback, fastText subwords): the covered rows.
COVERED = ("exact", "lower", "title", "upper", "subword")
_SPECIAL = ("special", "pad")


def _fingerprint(pm: Any) -> str | None:
    """The first 16 hex digits of the sha256 of the pretrained rows (their values, in vocabulary order): two
    runs with the same fingerprint started from the same vectors, whatever file they were read from."""
    matrix, mask = getattr(pm, "matrix", None), getattr(pm, "pretrained_mask", None)
    if matrix is None or mask is None:
        return None
    rows = np.ascontiguousarray(np.asarray(matrix, dtype=np.float32)[np.asarray(mask, dtype=bool)])
    return hashlib.sha256(rows.tobytes()).hexdigest()[:16]


def coverage_report(vocabulary: Sequence[str], pretrained_matrix: Any,
                    token_counts: Mapping[str, int] | None = None, *, top: int = 20) -> dict:
    """How much of a vocabulary (and of a corpus) the pretrained vectors cover. JSON-able.

    ``pretrained_matrix`` is a :class:`~vectorseq.embeddings.matrix.PretrainedMatrix` (only its ``how`` is
    read). Specials (``how`` ``"special"`` / ``"pad"``) are left out of every number.

    Returns a dict with:
        ``types``: non-special vocabulary types; ``types_covered``: those with a pretrained vector
        (exact, fallback or subword); ``type_coverage``: their fraction (None for no types);
        ``matched``: types per way of matching (``exact``, ``lower``, ``title``, ``upper``,
        ``subword``); ``unmatched``: types without a vector;
        ``tokens`` / ``tokens_covered`` / ``token_coverage`` / ``matched_tokens``: the same weighted by
        ``token_counts`` (None without counts; words missing from the counts count 0);
        ``tokens_outside_vocabulary``: corpus tokens of words not in the vocabulary (not in the
        denominator: they are ``<unk>`` to the model);
        ``top_unmatched``: up to ``top`` unmatched words, most frequent first (ties in vocabulary
        order; vocabulary order without counts), as ``{"word", "count"}``.
    """
    vocab = list(vocabulary)
    how = pretrained_matrix.how
    if len(vocab) != len(how):
        raise VectorseqError(f"the vocabulary has {len(vocab)} words but the matrix has {len(how)} rows")
    types = [i for i, h in enumerate(how) if h not in _SPECIAL]
    covered = [i for i in types if how[i] in COVERED]
    unmatched = [i for i in types if how[i] not in COVERED]
    report: dict[str, Any] = {
        "types": len(types),
        "types_covered": len(covered),
        "type_coverage": (len(covered) / len(types)) if types else None,
        "matched": {k: sum(1 for i in types if how[i] == k) for k in COVERED},
        "unmatched": len(unmatched),
        "tokens": None, "tokens_covered": None, "token_coverage": None, "matched_tokens": None,
        "tokens_outside_vocabulary": None,
        "vectors_sha256": _fingerprint(pretrained_matrix),
    }
    if token_counts is None:
        report["top_unmatched"] = [{"word": vocab[i], "count": None} for i in unmatched[:top]]
        return report
    c = {w: int(v) for w, v in token_counts.items()}
    total = sum(c.get(vocab[i], 0) for i in types)
    cov = sum(c.get(vocab[i], 0) for i in covered)
    in_vocab = set(vocab)
    report.update(
        tokens=total, tokens_covered=cov, token_coverage=(cov / total) if total else None,
        matched_tokens={k: sum(c.get(vocab[i], 0) for i in types if how[i] == k) for k in COVERED},
        tokens_outside_vocabulary=sum(v for w, v in c.items() if w not in in_vocab),
    )
    order = sorted(unmatched, key=lambda i: (-c.get(vocab[i], 0), i))
    report["top_unmatched"] = [{"word": vocab[i], "count": c.get(vocab[i], 0)} for i in order[:top]]
    return report
