"""Lowercased BLEU on Moses-tokenized text, the way fairseq's published Multi30k numbers are reported, beside
sacreBLEU's: is a gap to a published score the metric or the model?

    zcat test_2016_flickr.en.gz | vectorseq translate MODEL --beam 5 > hyps.de
    pip install sacremoses          # not a vectorseq dependency: only this script needs it
    python benchmarks/tokenized_bleu.py hyps.de test_2016_flickr.de.gz --lang de
"""
from __future__ import annotations

import argparse
import gzip
import json

import sacrebleu


def _lines(path: str) -> list[str]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("hyps")
    ap.add_argument("refs", help="the reference file (.gz allowed)")
    ap.add_argument("--lang", default="de")
    a = ap.parse_args()
    from sacremoses import MosesTokenizer  # optional: see the docstring

    hyps, refs = _lines(a.hyps), _lines(a.refs)
    if len(hyps) != len(refs):
        raise SystemExit(f"error: {a.hyps}: {len(hyps)} lines, but {a.refs} has {len(refs)}; translate the whole file")
    mt = MosesTokenizer(lang=a.lang)

    def tok(s: str) -> str:
        return mt.tokenize(s.lower(), escape=False, return_str=True)

    print(json.dumps({
        "sentences": len(hyps),
        "sacrebleu_13a_lowercased": round(sacrebleu.corpus_bleu(hyps, [refs], lowercase=True).score, 2),
        "moses_tokenized_lowercased": round(sacrebleu.corpus_bleu([tok(h) for h in hyps], [[tok(r) for r in refs]],
                                                                  tokenize="none", force=True).score, 2)}))


if __name__ == "__main__":
    main()
