"""Pretrained vectors per language: ``embeddings.src.vectors: {en: glove-6b-50d, de: vectors.de.vec}``.

With one vocabulary per language (:class:`~vectorseq.language_vectorizer.LanguageVectorizers`), each language's
rows are built from its own file by :func:`~vectorseq.embeddings.matrix.build_matrix` and placed at that
language's ids; a language without a file (and the language tags) gets random rows drawn like the files' OOV
rows, and learns them. The files must have one width: they fill one table. Nothing here aligns the spaces of
two languages' vectors (use vectors that are already aligned, e.g. fastText's aligned ones, if that matters).
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import ConfigError
from ..text.vocabulary import NUM_SPECIAL_TOKENS
from .matrix import PretrainedMatrix, build_matrix

__all__ = ["build_language_matrix"]


def build_language_matrix(files: Mapping[str, str], vectorizer: Any, *, on_error: str = "raise",
                          cache_dir: Any = None, seed: int = 0) -> PretrainedMatrix:
    """One ``[V, dim]`` matrix over ``vectorizer``'s id space from one vectors file per language."""
    parts = {lang: build_matrix(path, vectorizer.vectorizers[lang].get_vocabulary(), on_error=on_error,
                                cache_dir=cache_dir, seed=seed) for lang, path in sorted(files.items())}
    dims = {lang: p.dim for lang, p in parts.items()}
    if len(set(dims.values())) != 1:
        raise ConfigError(f"embeddings vectors per language have different widths ({dims}); they fill one table, "
                          "so give files of one width")
    dim = next(iter(dims.values()))
    matched = np.concatenate([p.matrix[p.pretrained_mask] for p in parts.values()])
    if len(matched) < 2:  # no moments to draw from: the files' own OOV rows' spread
        matched = np.concatenate([p.matrix[NUM_SPECIAL_TOKENS:] for p in parts.values()])
    V = vectorizer.vocabulary_size()
    rng = np.random.default_rng(seed)
    matrix = rng.normal(matched.mean(0), matched.std(0) + 1e-6, (V, dim)).astype(np.float32)
    how, mask = ["random"] * V, np.zeros(V, dtype=bool)
    first = next(iter(parts.values()))
    matrix[:NUM_SPECIAL_TOKENS], how[:NUM_SPECIAL_TOKENS] = first.matrix[:NUM_SPECIAL_TOKENS], first.how[:NUM_SPECIAL_TOKENS]
    for i in range(NUM_SPECIAL_TOKENS, NUM_SPECIAL_TOKENS + len(vectorizer.reserved_tokens)):
        how[i] = "special"  # the language tags: control tokens, never looked up
    for lang, p in parts.items():
        start, stop = vectorizer.range(lang)
        matrix[start:stop] = p.matrix[NUM_SPECIAL_TOKENS:]
        how[start:stop] = p.how[NUM_SPECIAL_TOKENS:]
        mask[start:stop] = p.pretrained_mask[NUM_SPECIAL_TOKENS:]
    return PretrainedMatrix(matrix, how, mask, dim, source=", ".join(f"{k}: {v}" for k, v in sorted(files.items())),
                            format="per-language", vocabulary=vectorizer.get_vocabulary(),
                            stats={lang: p.stats for lang, p in parts.items()})
