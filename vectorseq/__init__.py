"""vectorseq: sequence-to-sequence models where text vectorization is a first-class, swappable part.

The public API is imported lazily so that ``import vectorseq`` stays fast and a notebook can use one stage
(say, the vectorizer) without loading the others.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "TextVectorizer": "vectorseq.vectorizer",
    "SamplingSpec": "vectorseq.vectorizer",
    "VectorseqError": "vectorseq.errors",
    "Translator": "vectorseq.translator",
    "train": "vectorseq.training",
    "load_config": "vectorseq.config",
}


def __getattr__(name: str):
    if name in _LAZY:  # PEP 562: the stage is imported on first use
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vectorseq' has no attribute {name!r}")


__all__ = sorted(_LAZY) + ["__version__"]
