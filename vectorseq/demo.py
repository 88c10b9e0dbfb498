"""``vectorseq demo``: the main job on the built-in corpus, offline, in a few minutes on 2 CPU cores.

It answers the project's question on a small scale: the same Transformer is trained under several text
vectorizations (SentencePiece subwords, characters, words) with the same budget of updates, then each model
folder is evaluated on the held-out test split and the comparison table, significance verdicts and sample
translations are printed. Model folders and the report (Markdown, HTML, figures) are written under
``--output`` (default ``runs/demo``); ``vectorseq translate runs/demo/runs/subword...`` then translates raw
text with any of them.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import yaml

from .compare import read_results, run_experiment
from .compare.results import RESULTS_FILE, TEST_REF_FILE, TEST_SRC_FILE
from .data.synthetic import describe
from .errors import VectorseqError
from .modelfolder import HYPOTHESES_FILE

#: The base config of every demo run (small Transformer, built-in English -> German corpus): the same file a
#: user trains with (`vectorseq train configs/demo.yaml`), so the demo and the docs cannot drift apart.
DEMO_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"


def base_config() -> dict[str, Any]:
    """The demo's config as a plain mapping (validated later, by the experiment runner)."""
    if not DEMO_CONFIG.is_file():
        raise VectorseqError(f"{DEMO_CONFIG}: the demo's config is missing; run the demo from a checkout of "
                             "vectorseq (installed with `bash scripts/setup.sh`)")
    return yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))


#: Strategies compared by the demo: only the vectorizer changes.
STRATEGIES: dict[str, dict[str, Any]] = {
    "subword": {"vectorizer": {"src": {"split": "sentencepiece", "max_tokens": 1000}}},
    "character": {"vectorizer": {"src": {"split": "character", "max_tokens": None}}},
    "word": {"vectorizer": {"src": {"split": "word", "max_tokens": None}}},
}


#: Updates of every demo run: a budget of work, not of minutes, so the printed scores are the same on every
#: machine with the same torch build and thread count (the README shows them).
UPDATES_PER_RUN = 800


def experiment(updates_per_run: int = UPDATES_PER_RUN, quick: bool = False) -> dict[str, Any]:
    base = base_config()
    budget: dict[str, Any] = {"max_steps": updates_per_run}
    if quick:  # a smoke test of the whole pipeline, not a meaningful comparison
        base["data"]["builtin"].update(n_train=600, n_val=40, n_test=40)
        base["model"].update(d_model=32, ff_size=64, encoder_layers=1, decoder_layers=1)
        base["training"].update(valid_every=10, batch_tokens=600)
        budget = {"max_steps": 20}
    return {"name": "demo", "base": base, "strategies": copy.deepcopy(STRATEGIES), "sizes": [None],
            "seeds": [42], "budget": budget}


def run_demo(output_dir: str | Path = "runs/demo", quick: bool = False, progress: bool = True,
             updates_per_run: int = UPDATES_PER_RUN) -> Path:
    t0 = time.time()
    print("vectorseq demo: how should text be turned into vectors for a seq2seq model?")
    print(describe("de").strip().split(". ")[0] + ".")
    print(f"One Transformer, three vectorizations ({', '.join(STRATEGIES)}), "
          f"{20 if quick else updates_per_run} updates of training each.\n")
    report = run_experiment(experiment(updates_per_run, quick), output_dir=output_dir, progress=progress)
    _print_samples(Path(report).parent)
    print(f"finished in {(time.time() - t0) / 60:.1f} minutes; report: {report}")
    return report


def _print_samples(out: Path, n: int = 4) -> None:
    """Side-by-side test translations of every strategy, and how to use the best model folder."""
    rows = [r for r in read_results(out / RESULTS_FILE) if r.get("status") == "ok"]
    src_file, ref_file = out / TEST_SRC_FILE, out / TEST_REF_FILE
    if not rows or not src_file.is_file():
        return
    src = src_file.read_text(encoding="utf-8").splitlines()
    ref = ref_file.read_text(encoding="utf-8").splitlines()
    hyps = {}
    for r in rows:
        h = out / r["model_dir"] / HYPOTHESES_FILE
        if h.is_file():
            hyps[r["strategy"]] = h.read_text(encoding="utf-8").splitlines()
    print("\nsample test translations:")
    width = max(len(k) for k in ["reference", *hyps])
    for i in range(0, len(src), max(1, len(src) // n))[:n]:
        print(f"  {'source':<{width}}  {src[i]}")
        print(f"  {'reference':<{width}}  {ref[i]}")
        for name, lines in hyps.items():
            mark = "ok" if lines[i] == ref[i] else "  "
            print(f"  {name:<{width}}  {lines[i]}  {mark}")
        print()
    best = max(rows, key=lambda r: r.get("test_bleu") or 0.0)
    folder = out / best["model_dir"]
    print(f"best: {best['strategy']} (test BLEU {best['test_bleu']}); try it:")
    print(f"  echo 'two thousand and forty-one' | vectorseq translate {folder}")

