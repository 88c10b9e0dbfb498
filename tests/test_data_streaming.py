"""Tests for vectorseq/data/streaming.py: one import for the whole streaming path."""
from __future__ import annotations

from vectorseq.data import lockstep, pairs, sampling, streaming, torch_dataset, windowed


def test_streaming_gathers_the_public_names_of_its_modules():
    assert streaming.StreamingBatches is windowed.StreamingBatches
    assert streaming.StreamingDataset is torch_dataset.StreamingDataset
    assert streaming.lockstep is lockstep.lockstep
    assert streaming.sample_pairs is sampling.sample_pairs
    assert streaming.sample_lines is sampling.sample_lines
    assert streaming.adapt_on_sample is sampling.adapt_on_sample
    assert streaming.count_lines is pairs.count_lines
    assert all(hasattr(streaming, name) for name in streaming.__all__)
