"""``vectorseq demo --multilingual``: one model for several directions on the built-in corpus, offline.

It trains ``configs/demo_multilingual.yaml`` (En<->De and En<->Fr in one small Transformer, a shared
SentencePiece vocabulary, ``<2xx>`` target-language tags) into ``--output``, then prints every direction's
test scores (De->Fr is zero-shot: never trained), the mean over the trained directions, and one sentence
translated into each language.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .config import load_config
from .errors import VectorseqError
from .training import train
from .translator import Translator

#: The demo's config: the same file a user trains with, so the demo and the docs cannot drift apart.
DEMO_MULTILINGUAL_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "demo_multilingual.yaml"

#: A smoke test of the whole pipeline (``--quick``), not a meaningful model.
QUICK = {"data": {"builtin": {"n_train": 400, "n_val": 20, "n_test": 30}},
         "model": {"d_model": 32, "ff_size": 64, "encoder_layers": 1, "decoder_layers": 1},
         "training": {"max_steps": 20, "valid_every": 10, "batch_tokens": 600}, "decoding": {"beam_size": 2}}

SAMPLES = {"en": "two thousand and forty-one", "de": "zweitausendeinundvierzig"}


def run_multilingual_demo(output_dir: str | Path = "runs/demo_multilingual", quick: bool = False,
                          progress: bool = True) -> Path:
    """Train the multilingual demo model and print its scores by direction; returns the model folder."""
    if not DEMO_MULTILINGUAL_CONFIG.is_file():
        raise VectorseqError(f"{DEMO_MULTILINGUAL_CONFIG}: the demo's config is missing; run the demo from a "
                             "checkout of vectorseq")
    cfg = load_config(DEMO_MULTILINGUAL_CONFIG, QUICK if quick else None)
    t0 = time.time()
    print(f"vectorseq demo --multilingual: one model for {', '.join(cfg.data.directions)}; "
          f"{', '.join(cfg.data.zero_shot)} is never trained (zero-shot). {cfg.training.max_steps} updates.\n")
    result = train(cfg, output_dir, progress=progress)
    print(scores_table(result.metrics))
    _print_samples(Translator.load(result.model_dir))
    print(f"\nfinished in {(time.time() - t0) / 60:.1f} minutes; try it:")
    print(f"  echo '{SAMPLES['en']}' | vectorseq translate {result.model_dir} --tgt-lang fr")
    return Path(result.model_dir)


def scores_table(metrics: dict[str, Any]) -> str:
    """The test scores of every direction (zero-shot marked) and the mean over the trained ones, as Markdown."""
    rows = ["| direction | BLEU | chrF | |", "| --- | ---: | ---: | --- |"]
    for name, s in metrics.get("test_by_direction", {}).items():
        rows.append(f"| {name} | {s['bleu']:.1f} | {s['chrf']:.1f} | {'zero-shot' if s.get('zero_shot') else ''} |")
    mean = metrics.get("test", {})
    if mean:
        rows.append(f"| mean of {mean.get('directions')} trained | {mean['bleu']:.1f} | {mean['chrf']:.1f} | |")
    return "\n".join(rows)


def _print_samples(tr: Translator) -> None:
    print("\none sentence, every target language:")
    targets = direction_targets(tr)
    for src_lang, text in SAMPLES.items():
        for tgt in (t for t in targets if t != src_lang):
            print(f"  {src_lang}->{tgt}  {text!r} -> {tr.translate(text, tgt_lang=tgt)!r}")


def direction_targets(tr: Translator) -> list[str]:
    return sorted({d.split("-")[1] for d in tr.config.data.directions})
