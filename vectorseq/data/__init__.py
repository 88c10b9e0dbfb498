"""The data stage: reading and validating parallel text, named datasets and the built-in corpus.

In the order data flows:

* :mod:`vectorseq.data.lines` -- opening plain or gzip files and decoding their lines (one place for it).
* :mod:`vectorseq.data.pairs` -- :class:`~vectorseq.data.pairs.PairReader`: pairs from two aligned files
  or one TSV file, validated (``on_error="raise"|"skip"``, errors naming the file, the line and the fix),
  optionally one shard of them. Every reader below reads through it.
* :mod:`vectorseq.data.corpus` -- :class:`ParallelCorpus`, the in-memory result of every reader.
* :mod:`vectorseq.data.parallel` -- :func:`read_parallel` (two aligned files), :func:`read_tsv`,
  :func:`read_monolingual`.
* :mod:`vectorseq.data.multi30k` -- :func:`load_multi30k`: the Multi30k benchmark from a folder, the
  cache, or a verified download.
* :mod:`vectorseq.data.synthetic` -- :func:`generate_corpus` / :func:`builtin_splits`: a deterministic
  English -> German/French/... corpus of numbers, dates and times that needs no download.
* :mod:`vectorseq.data.splits` -- :func:`load_splits` / :func:`load_split`: the one loader of the
  train / valid / test splits a config names (builtin, multi30k or files).
* :mod:`vectorseq.data.streaming` -- corpora larger than memory: windowed, sharded batches
  (:mod:`~vectorseq.data.windowed`), their DataLoader dataset (:mod:`~vectorseq.data.torch_dataset`),
  :mod:`~vectorseq.data.lockstep` for DDP ranks and reservoir samples (:mod:`~vectorseq.data.sampling`).

Batching (token-budget batches of encoded pairs) lives in :mod:`vectorseq.data.batching`;
:mod:`vectorseq.data.options` checks the arguments all of these take.
"""
from __future__ import annotations

from vectorseq.data.corpus import ParallelCorpus
from vectorseq.data.multi30k import (
    SPLITS as MULTI30K_SPLITS,
    download_multi30k,
    load_multi30k,
    multi30k_cache_dir,
    multi30k_default_dir,
)
from vectorseq.data.pairs import SKIP_REASONS
from vectorseq.data.parallel import read_monolingual, read_parallel, read_tsv
from vectorseq.data.splits import load_split, load_splits
from vectorseq.data.synthetic import KINDS as SYNTHETIC_KINDS
from vectorseq.data.synthetic import builtin_splits, describe, generate_corpus, render_pair, supported_languages

__all__ = [
    "ParallelCorpus",
    "read_parallel",
    "read_tsv",
    "read_monolingual",
    "SKIP_REASONS",
    "load_multi30k",
    "download_multi30k",
    "multi30k_default_dir",
    "multi30k_cache_dir",
    "MULTI30K_SPLITS",
    "generate_corpus",
    "builtin_splits",
    "describe",
    "render_pair",
    "supported_languages",
    "SYNTHETIC_KINDS",
    "load_splits",
    "load_split",
]
