"""How often a multilingual model's zero-shot outputs are in the wrong language (the off-target problem).

    python benchmarks/zero_shot_off_target.py MODEL_DIR [MODEL_DIR ...] --direction de-fr --other en

For every test source of the direction (here De->Fr) the corpus holds the same sentence in the ``--other``
language (the built-in corpus and Multi30k are multi-parallel), so each output is scored with sentence chrF
against both references; an output closer to the other language's reference counts as off target. Prints one
JSON line per model: the count, corpus BLEU against each reference.
"""
from __future__ import annotations

import argparse
import json

import sacrebleu

from vectorseq.data.directions import Direction, DirectionPlan
from vectorseq.data.multilingual import load_direction_splits
from vectorseq.translator import Translator


def off_target(model_dir: str, direction: Direction, other: str) -> dict:
    tr = Translator.load(model_dir)
    pivot = Direction(direction.src, other)
    # both directions as "trained" so the built-in corpus renders all three languages (train data is not read)
    splits = load_direction_splits(tr.config.data, DirectionPlan((pivot, direction)), seed=tr.config.training.seed)
    test, test_other = splits[direction]["test"], splits[pivot]["test"]
    assert test.src == test_other.src, "the corpus is not multi-parallel for these directions"
    langs = {"src_lang": direction.src} if tr.config.vectorizer.per_language else {}
    hyps = tr.translate(test.src, tgt_lang=direction.tgt, **langs)
    closer = sum(sacrebleu.sentence_chrf(h, [o]).score > sacrebleu.sentence_chrf(h, [t]).score
                 for h, o, t in zip(hyps, test_other.tgt, test.tgt))
    return {"model": model_dir, "direction": direction.name, "sentences": len(hyps),
            f"closer_to_{other}": closer,
            f"bleu_vs_{direction.tgt}": round(sacrebleu.corpus_bleu(hyps, [test.tgt]).score, 2),
            f"bleu_vs_{other}": round(sacrebleu.corpus_bleu(hyps, [test_other.tgt]).score, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dirs", nargs="+")
    ap.add_argument("--direction", default="de-fr", help="the zero-shot direction (SRC-TGT)")
    ap.add_argument("--other", default="en", help="the language off-target outputs drift into")
    a = ap.parse_args()
    for m in a.model_dirs:
        print(json.dumps(off_target(m, Direction.parse(a.direction), a.other)))


if __name__ == "__main__":
    main()
