"""Small stand-ins shared by tests."""
from __future__ import annotations

import torch

from vectorseq.config import config_from_dict


class FakeVocab:
    """Just enough of a vectorizer for building a model (no idf_, no tokenizer)."""

    def __init__(self, n: int):
        self.n = n

    def vocabulary_size(self) -> int:
        return self.n

    def get_vocabulary(self) -> list[str]:
        return [f"t{i}" for i in range(self.n)]


def model_config(model_type: str, **model) -> object:
    """A small Transformer or RNN config (no dropout unless asked) for model and search tests."""
    base = {"d_model": 32, "ff_size": 64, "heads": 4, "encoder_layers": 2, "decoder_layers": 2, "dropout": 0.0}
    if model_type == "rnn":
        base = {"d_model": 32, "encoder_layers": 1, "decoder_layers": 1, "dropout": 0.0}
    base.update(model)
    return config_from_dict({"model": {"type": model_type, **base}, "training": {"max_steps": 1},
                             "vectorizer": {"src": {"split": "whitespace", "max_tokens": None}}})


def random_source_batch(V: int, B: int = 5, S: int = 7, seed: int = 0):
    """Random source ids [B, S] with padded rows of different lengths, and their mask."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, V, (B, S), generator=g)
    lengths = torch.tensor([S, S - 1, 3, S, 2][:B])
    mask = torch.arange(S)[None] < lengths[:, None]
    src[~mask] = 0
    return src, mask
