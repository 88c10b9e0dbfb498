"""Tests for vectorseq.text.batch: padding, truncation and EncodedBatch."""
from __future__ import annotations

import numpy as np

from vectorseq.vectorizer import PAD_ID, EncodedBatch, TextVectorizer


def test_encode_batch():
    import torch

    v = TextVectorizer(standardize=None).adapt(["a b c d", "a b"])
    batch = v.encode_batch(["a b c", "d", ""], add_bos=True, add_eos=True)
    assert isinstance(batch, EncodedBatch) and len(batch) == 3
    assert batch.ids.dtype == torch.int64 and batch.lengths.dtype == torch.int64 and batch.mask.dtype == torch.bool
    assert batch.ids.tolist() == [[2, 4, 5, 6, 3], [2, 7, 3, 0, 0], [2, 3, 0, 0, 0]]
    assert batch.lengths.tolist() == [5, 3, 2]
    assert torch.equal(batch.mask, batch.ids != PAD_ID)
    assert v.inverse_transform(batch.ids) == ["a b c", "d", ""]
    assert batch.to("cpu").ids.shape == (3, 5)
    # padding to a fixed length, truncation keeps the final EOS
    padded = v.encode_batch(["a"], add_eos=True, output_sequence_length=4)
    assert padded.ids.tolist() == [[4, 3, 0, 0]] and padded.mask.tolist() == [[True, True, False, False]]
    cut = v.encode_batch(["a b c d"], add_bos=True, add_eos=True, output_sequence_length=4)
    assert cut.ids.tolist() == [[2, 4, 5, 3]] and cut.lengths.tolist() == [4]
    assert v.encode_batch(["a b c d"], output_sequence_length=2).ids.tolist() == [[4, 5]]
    # the constructor's output_sequence_length applies too
    v3 = TextVectorizer(standardize=None, output_sequence_length=3, vocabulary=["a", "b", "c", "d"])
    assert v3.encode_batch(["a"]).ids.shape == (1, 3)
    out = v3.transform(["a b c d", "b"])
    assert out.dtype == np.int64 and out.tolist() == [[4, 5, 6], [5, 0, 0]]
    # encode_many == encode
    texts = ["a b", "c x d", ""]
    assert v.encode_many(texts, add_eos=True) == [v.encode(t, add_eos=True) for t in texts]
