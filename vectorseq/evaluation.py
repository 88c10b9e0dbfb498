"""Scores of detokenized system output against raw references, through sacreBLEU.

- ``bleu``: sacreBLEU BLEU with its default 13a tokenization, cased (report it with ``bleu_signature``);
- ``chrf``: sacreBLEU chrF;
- ``bleu_lc``: lowercased, 13a-tokenized BLEU, the closest sacreBLEU variant to the lowercased tokenized
  multi-bleu numbers of the Multi30k literature.
The same function scores validation during training, ``vectorseq evaluate`` and comparison reports;
:func:`evaluate` translates a test split and scores it, once, for training, ``vectorseq compare`` and the CLI;
:func:`evaluate_directions` does it for every direction of a multilingual model and averages the trained ones
(zero-shot directions are scored and marked, never averaged in).
:func:`folder_split` reads the split a model folder's config names, confined to that folder.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from sacrebleu.metrics import BLEU, CHRF

from .data.corpus import ParallelCorpus
from .data.splits import load_split, load_splits
from .errors import VectorseqError


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


def evaluate(translator: Any, src: Sequence[str], refs: Sequence[str], *, beam: int | None = None,
             batch_size: int | None = None, samples: int = 5,
             tgt_lang: str | None = None, src_lang: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Translate ``src`` with a :class:`~vectorseq.translator.Translator` and score it against ``refs``.

    Returns the scores (with the beam size, the time taken and a few samples) and the hypotheses.
    ``tgt_lang`` / ``src_lang``: the target language of a multilingual model, and the source language of one
    with a vocabulary per language.
    """
    src, refs = list(src), list(refs)
    t0 = time.time()
    # a bilingual translator (or an export) takes neither keyword
    into = {k: v for k, v in (("tgt_lang", tgt_lang), ("src_lang", src_lang)) if v is not None}
    hyps = translator.translate(src, beam=beam, batch_size=batch_size, **into)
    dt = max(time.time() - t0, 1e-9)
    result = {**score(hyps, refs), "beam_size": beam or translator.config.decoding.beam_size,
              "seconds": round(dt, 2), "sentences_per_s": round(len(src) / dt, 1),
              "samples": [{"src": s, "ref": r, "hyp": h} for s, r, h in list(zip(src, refs, hyps))[:samples]]}
    return result, hyps


def evaluate_directions(translator: Any, tests: dict[Any, tuple[Any, bool]], *, beam: int | None = None,
                        batch_size: int | None = None, samples: int = 3) -> dict[str, Any]:
    """Score a multilingual model on ``tests``: ``{direction: (ParallelCorpus, zero_shot)}``.

    Returns ``{"directions": {name: scores (+ "zero_shot": True)}, "mean": {...}}``; the mean (BLEU, lowercased
    BLEU, chrF) is over the trained directions only, so zero-shot scores never flatter or drag it.
    """
    out: dict[str, dict[str, Any]] = {}
    for d, (corpus, zero_shot) in tests.items():
        scores, _ = evaluate(translator, corpus.src, corpus.tgt, beam=beam, batch_size=batch_size, samples=samples,
                             tgt_lang=d.tgt, src_lang=d.src)
        out[d.name] = {**scores, **({"zero_shot": True} if zero_shot else {})}
    trained = [s for s in out.values() if not s.get("zero_shot")] or list(out.values())
    mean = {k: round(sum(s[k] for s in trained) / len(trained), 2) for k in ("bleu", "bleu_lc", "chrf")}
    mean.update(sentences=sum(s["sentences"] for s in trained), directions=len(trained),
                beam_size=trained[0]["beam_size"])
    return {"directions": out, "mean": mean}


def folder_split(model_dir: str | Path, cfg: Any, name: str = "test") -> ParallelCorpus | None:
    """The ``name`` split (``test`` or ``valid``) that a model folder's config names, for ``vectorseq evaluate``.

    A model folder may come from someone else, so its ``config.yaml`` must not send evaluate to files anywhere on
    disk: with ``data.dataset: files`` a relative path is resolved against the model folder and every path
    (symlinks followed) must lie inside it; files elsewhere are passed explicitly (``--src``/``--ref``). The
    built-in corpus is generated, and Multi30k reads only its own file names.
    """
    if cfg.data.dataset != "files":
        return load_splits(cfg.data, seed=cfg.training.seed)[name]
    files, folder = getattr(cfg.data, name), Path(model_dir).resolve()
    inside = {}
    for key in ("src", "tgt", "tsv"):
        value = getattr(files, key)
        if value:
            path = (folder / value).resolve()  # an absolute value stays itself
            if not path.is_relative_to(folder):
                raise VectorseqError(f"{Path(model_dir) / 'config.yaml'}: data.{name}.{key} ({value}) lies outside "
                                     "the model folder, and evaluate reads a split's files only inside it; pass "
                                     "the files explicitly: --src FILE --ref FILE")
            inside[key] = str(path)
    return load_split(replace(files, **inside), cfg.data, name, required=False)
