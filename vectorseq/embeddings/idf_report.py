"""What a learned IDF learned: the words whose weight moved most from their corpus IDF.

A count-based input with ``embeddings.src.idf: learned`` keeps the corpus IDF in its buffer ``idf`` and the
trained weights in ``log_idf`` (:mod:`vectorseq.embeddings.countbased`), so a model folder alone is enough to
compare them. A word's move is ``ln(learned / corpus)``: +0.69 means its weight doubled. The model folder
does not hold the training text, so no word counts are given: the corpus IDF already orders the words by
document frequency (the higher, the rarer in the training sources).
``vectorseq embeddings inspect MODEL_DIR`` prints it (JSON, or a table with ``--format table``).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..errors import ConfigError
from ..text.vocabulary import PAD_ID

__all__ = ["idf_changes", "idf_table"]


def idf_changes(layer: torch.nn.Module, vocabulary: Sequence[str], top: int = 20) -> dict[str, Any]:
    """The ``top`` words whose learned IDF rose most and the ``top`` that fell most, against the corpus IDF.

    Each row: ``word``, ``id``, ``corpus_idf``, ``learned_idf``, ``log_ratio`` (ln learned/corpus). Also the
    median log ratio (l2 normalisation makes bag and sentence_vector blind to a common factor, so a shift of
    every word shows up there, not as a move of one word) and how many words moved at all.
    """
    if getattr(layer, "idf_mode", None) != "learned":
        raise ConfigError("this model's source input has no learned IDF: train it with embeddings.src.idf: learned "
                          "(and input: bag, token_features or sentence_vector)")
    with torch.no_grad():
        corpus = layer.idf.detach().double().cpu()
        learned = layer.idf_weights().detach().double().cpu()
    keep = torch.arange(corpus.numel()) != PAD_ID
    ids = torch.nonzero(keep).squeeze(1)
    ratio = torch.log(learned[ids] / corpus[ids])
    order = torch.argsort(ratio, descending=True, stable=True)

    def row(k: int) -> dict[str, Any]:
        i = int(ids[k])
        return {"word": vocabulary[i] if i < len(vocabulary) else f"<id {i}>", "id": i,
                "corpus_idf": round(float(corpus[i]), 6), "learned_idf": round(float(learned[i]), 6),
                "log_ratio": round(float(ratio[k]), 6)}

    n = min(top, len(ids))
    return {"input": type(layer).__name__, "vocabulary_size": int(corpus.numel()),
            "moved": int((ratio != 0).sum()), "median_log_ratio": round(float(ratio.median()), 6),
            "up": [row(int(k)) for k in order[:n]],
            "down": [row(int(k)) for k in reversed(order[len(order) - n:])]}


def idf_table(report: dict[str, Any]) -> str:
    """The report of :func:`idf_changes` as two plain-text tables (up, then down)."""
    lines = [f"{report['input']}: {report['moved']} of {report['vocabulary_size'] - 1} words moved, "
             f"median ln(learned/corpus) {report['median_log_ratio']:+.4f}"]
    for title in ("up", "down"):
        lines += ["", f"moved {title}:", f"{'word':<24} {'id':>6} {'corpus idf':>11} {'learned idf':>12} {'ln ratio':>9}"]
        for r in report[title]:
            lines.append(f"{r['word'][:24]:<24} {r['id']:>6} {r['corpus_idf']:>11.4f} {r['learned_idf']:>12.4f} "
                         f"{r['log_ratio']:>+9.4f}")
    return "\n".join(lines)
