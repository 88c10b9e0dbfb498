"""The tiny training config the training tests share: the built-in corpus and a one-layer Transformer."""
from __future__ import annotations

from vectorseq.config import Config, config_from_dict, merge

TINY = {
    "name": "tiny",
    "data": {"dataset": "builtin", "builtin": {"n_train": 400, "n_val": 30, "n_test": 30, "seed": 1}},
    "vectorizer": {"shared": True, "src": {"split": "word", "standardize": "none", "max_tokens": None}},
    "model": {"type": "transformer", "d_model": 32, "ff_size": 64, "heads": 2, "encoder_layers": 1,
              "decoder_layers": 1, "dropout": 0.2},
    "training": {"batch_tokens": 400, "lr": 0.003, "warmup_steps": 5, "max_steps": 12, "valid_every": 6,
                 "threads": 1, "seed": 3},
    "decoding": {"beam_size": 2, "batch_size": 16},
}


def tiny_config(**over) -> Config:
    """TINY with ``over`` merged in (section -> keys)."""
    return config_from_dict(merge(TINY, over))


def quiet(*args, **kwargs) -> None:
    """A log function that prints nothing."""
