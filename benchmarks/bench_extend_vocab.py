"""Benchmark: sentences with out-of-vocabulary source words, translated with and without ``--extend-vocab``.

What is measured
----------------
A model folder trained on Multi30k with a word-level source and frozen (or ``partial``) pretrained source
vectors (e.g. ``embeddings.src.vectors: glove-6b-50d, policy: frozen``). Its vocabulary extension
(``MODEL_DIR/extension/``) is built first if it is missing (``vectorseq embeddings extend``; ``--vectors``,
``--max-words``), and its summary is printed as the first JSON line.

The test split (default ``test_2016_flickr``, languages from the model's config) is translated twice with
the same decoding settings (the config's, or ``--beam``), through the same code path
(:func:`vectorseq.decoding.translate_ids`):

* ``baseline``: the model as trained: unknown source words are ``<unk>``;
* ``extend_vocab``: unknown source words found in the extension get their pretrained vectors
  (:func:`vectorseq.tools.extend_vocab.attach_extension`).

Scores (sacreBLEU BLEU and chrF, :func:`vectorseq.evaluation.score`) are reported on

* ``all``: the whole split;
* ``rescued_subset``: the sentences with at least one source token that is ``<unk>`` to the model but in
  the extension (the only sentences whose input changes);
* ``unk_subset``: the sentences with at least one ``<unk>`` source token (rescued or not).

``oov`` counts source tokens: ``unk_tokens`` (``<unk>`` to the model), ``rescued_tokens`` (of those, in the
extension). ``changed_outside_subset`` (extend_vocab line) counts sentences outside the rescued subset
whose translation changed: it must be 0 (the extension does not touch in-vocabulary inputs).

Output: one JSON line for the extension (when built here), one per setting, then one with up to
``--examples`` rescued sentences (source, reference, both translations, the rescued words).

    python3 benchmarks/bench_extend_vocab.py --model-dir runs/m30k_glove_frozen \\
        [--multi30k-dir ../shared/data/multi30k] [--beam 5] [--device cuda]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from vectorseq.config import load_config  # noqa: E402
from vectorseq.data.multi30k import load_multi30k, multi30k_default_dir  # noqa: E402
from vectorseq.decoding import translate_ids  # noqa: E402
from vectorseq.evaluation import score  # noqa: E402
from vectorseq.tools.extend_vocab import (  # noqa: E402
    EXTENSION_DIR,
    attach_extension,
    extend_model_folder,
    oov_stats,
)
from vectorseq.translator import Translator  # noqa: E402


def _scores(hyps: list[str], refs: list[str], index: list[int]) -> dict:
    if not index:
        return {"sentences": 0, "bleu": None, "chrf": None}
    s = score([hyps[i] for i in index], [refs[i] for i in index])
    return {"sentences": s["sentences"], "bleu": s["bleu"], "bleu_lc": s["bleu_lc"], "chrf": s["chrf"]}


def _translate(tr: Translator, ids: list[list[int]], beam: int, batch_size: int | None) -> list[str]:
    d = tr.config.decoding
    hyps = translate_ids(tr.model, ids, beam_size=beam, length_penalty=d.length_penalty,
                         max_length_ratio=d.max_length_ratio, max_length_extra=d.max_length_extra,
                         batch_size=batch_size or d.batch_size, device=tr.device)
    return [tr.tgt_vectorizer.decode(h[0].tokens) for h in hyps]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", required=True, help="a model folder (word-level source, frozen/partial vectors)")
    ap.add_argument("--multi30k-dir", default=None,
                    help="folder with {split}.{lang}.gz (default: $VECTORSEQ_MULTI30K or ../shared/data/multi30k)")
    ap.add_argument("--split", default="test_2016_flickr")
    ap.add_argument("--beam", type=int, default=None, help="beam size (default: the config's)")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--vectors", default=None, help="vectors for building the extension (default: the config's)")
    ap.add_argument("--max-words", type=int, default=50_000, help="extension size when it is built here")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the extension even if it exists")
    ap.add_argument("--examples", type=int, default=5, help="rescued sentences to show (last line)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)

    model_dir = Path(a.model_dir)
    cfg = load_config(model_dir / "config.yaml")
    if a.rebuild or not (model_dir / EXTENSION_DIR / "vocab.json").is_file():
        t0 = time.time()
        summary = extend_model_folder(model_dir, vectors=a.vectors, max_words=a.max_words)
        summary.pop("first_words", None)
        print(json.dumps({"step": "extend", **summary, "seconds": round(time.time() - t0, 2)}, ensure_ascii=False),
              flush=True)

    data_dir = a.multi30k_dir or multi30k_default_dir()
    test = load_multi30k(a.split, src_lang=cfg.data.src_lang, tgt_lang=cfg.data.tgt_lang, data_dir=data_dir,
                         download=False)
    src, refs = test.src, test.tgt
    beam = a.beam or cfg.decoding.beam_size

    tr = Translator.load(model_dir, device=a.device)
    base_ids = tr.encode_sources(src)  # no extension attached yet: the plain vectorizer ids
    ext = attach_extension(tr, model_dir)
    ext_ids = tr.encode_sources(src)
    vec, V = tr.src_vectorizer, ext.base_vocab_size
    rescued = [i for i in range(len(src)) if ext_ids[i] != base_ids[i]]
    with_unk = [i for i in range(len(src)) if 1 in base_ids[i]]
    stats = oov_stats(vec, ext, src)
    common = {"model_dir": str(model_dir), "split": a.split, "pair": f"{cfg.data.src_lang}-{cfg.data.tgt_lang}",
              "policy": cfg.embeddings.src.policy, "vectors": cfg.embeddings.src.vectors, "beam": beam,
              "extension_words": len(ext), "source_vocab": V, "device": str(tr.device)}

    results = {}
    for setting, ids in (("baseline", base_ids), ("extend_vocab", ext_ids)):
        t0 = time.time()
        # the same model object: ids < V read the same table; the baseline never uses an id >= V
        hyps = _translate(tr, ids, beam, a.batch_size)
        dt = time.time() - t0
        results[setting] = hyps
        line = {"setting": setting, **common, "all": _scores(hyps, refs, list(range(len(src)))),
                "rescued_subset": _scores(hyps, refs, rescued), "unk_subset": _scores(hyps, refs, with_unk),
                "oov": stats, "seconds": round(dt, 2)}
        if setting == "extend_vocab":
            inside = set(rescued)
            line["changed_outside_subset"] = sum(1 for i in range(len(src)) if i not in inside
                                                 and hyps[i] != results["baseline"][i])
            line["changed_inside_subset"] = sum(1 for i in rescued if hyps[i] != results["baseline"][i])
        print(json.dumps(line, ensure_ascii=False), flush=True)

    examples = []
    for i in rescued[: a.examples]:
        toks = vec.tokenize(src[i])
        words = [t for t, k in zip(toks, ext_ids[i]) if k >= V]
        examples.append({"source": src[i], "rescued": words, "reference": refs[i],
                         "baseline": results["baseline"][i], "extend_vocab": results["extend_vocab"][i]})
    print(json.dumps({"examples": examples}, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
