"""Streaming training data: corpora larger than memory, read a window at a time. One import for all of it.

The streaming path is four small modules; this one gathers their public names, so that
``from vectorseq.data.streaming import StreamingDataset, lockstep, sample_pairs`` keeps working:

* :mod:`vectorseq.data.windowed` -- :class:`StreamingBatches`: read (through the one pair reader,
  :class:`~vectorseq.data.pairs.PairReader`), shard by line, encode and cut ``window`` pairs at a time into
  token-budget batches with the same rule as the in-memory path. Memory is bounded by the window.
* :mod:`vectorseq.data.torch_dataset` -- :class:`StreamingDataset`: the stream as a
  ``torch.utils.data.IterableDataset`` whose DataLoader workers read disjoint shards.
* :mod:`vectorseq.data.lockstep` -- :func:`lockstep`: groups a rank's batches into updates and stops every
  DDP rank at the same update, since ranks may get different numbers of batches.
* :mod:`vectorseq.data.sampling` -- :func:`sample_lines` / :func:`sample_pairs` (reservoir samples in one
  pass) and :func:`adapt_on_sample`: a bounded sample stands in for the training set where all of it was
  needed in memory (adapting vectorizers, token counts, IDF).

:func:`count_lines` (from :mod:`vectorseq.data.pairs`) checks that two files are aligned before a run.
"""
from __future__ import annotations

from vectorseq.data.lockstep import lockstep
from vectorseq.data.pairs import count_lines
from vectorseq.data.sampling import DEFAULT_ADAPT_SAMPLE, adapt_on_sample, sample_lines, sample_pairs
from vectorseq.data.torch_dataset import StreamingDataset
from vectorseq.data.windowed import DEFAULT_WINDOW, ENCODE_CHUNK, StreamingBatches

__all__ = [
    "StreamingBatches",
    "StreamingDataset",
    "lockstep",
    "count_lines",
    "sample_lines",
    "sample_pairs",
    "adapt_on_sample",
    "DEFAULT_WINDOW",
    "DEFAULT_ADAPT_SAMPLE",
    "ENCODE_CHUNK",
]
