"""Scores of detokenized system output against raw references, through sacreBLEU.

- ``bleu``: sacreBLEU BLEU with its default 13a tokenization, cased (report it with ``bleu_signature``);
- ``chrf``: sacreBLEU chrF;
- ``bleu_lc``: lowercased, 13a-tokenized BLEU, the closest sacreBLEU variant to the lowercased tokenized
  multi-bleu numbers of the Multi30k literature.
The same function scores validation during training, ``vectorseq evaluate`` and comparison reports.
"""
from __future__ import annotations

from typing import Sequence

from sacrebleu.metrics import BLEU, CHRF


def score(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    hyps, refs = list(hypotheses), [list(references)]
    bleu, bleu_lc, chrf = BLEU(), BLEU(lowercase=True), CHRF()
    b, bl, c = bleu.corpus_score(hyps, refs), bleu_lc.corpus_score(hyps, refs), chrf.corpus_score(hyps, refs)
    return {
        "bleu": round(b.score, 2),
        "bleu_lc": round(bl.score, 2),
        "chrf": round(c.score, 2),
        "bleu_signature": str(bleu.get_signature()),
        "bleu_lc_signature": str(bleu_lc.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "sentences": len(hyps),
    }
