"""The data stage: reading and validating parallel text, named datasets and the built-in corpus.

* :mod:`vectorseq.data.parallel` -- :func:`read_parallel` (two aligned files), :func:`read_tsv`,
  :func:`read_monolingual` and the :class:`ParallelCorpus` they return; plain text or gzip, with
  validation errors that name the file, the line and the fix.
* :mod:`vectorseq.data.multi30k` -- :func:`load_multi30k`: the Multi30k benchmark from a folder, the
  cache, or a verified download.
* :mod:`vectorseq.data.synthetic` -- :func:`generate_corpus` / :func:`builtin_splits`: a deterministic
  English -> German/French/... corpus of numbers, dates and times that needs no download.

Batching (token-budget batches of encoded pairs) lives in :mod:`vectorseq.data.batching`.
"""
from __future__ import annotations

from vectorseq.data.multi30k import (
    SPLITS as MULTI30K_SPLITS,
    download_multi30k,
    load_multi30k,
    multi30k_cache_dir,
    multi30k_default_dir,
)
from vectorseq.data.parallel import SKIP_REASONS, ParallelCorpus, read_monolingual, read_parallel, read_tsv
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
]
