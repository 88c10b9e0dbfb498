"""The in-memory form of a parallel corpus: aligned source and target sentences, and how they were read.

Every reader of the data stage returns a :class:`ParallelCorpus`: the files readers of
:mod:`vectorseq.data.parallel`, :func:`~vectorseq.data.multi30k.load_multi30k`, the built-in corpus of
:mod:`vectorseq.data.synthetic` and the pair sample of :mod:`vectorseq.data.sampling`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from vectorseq.errors import ConfigError

__all__ = ["ParallelCorpus"]


@dataclass
class ParallelCorpus:
    """Aligned source and target sentences, plus a record of how they were read.

    Attributes:
        src: source sentences; ``src[i]`` translates to ``tgt[i]``.
        tgt: target sentences, as many as ``src``.
        skipped: how many pairs the reader dropped, by reason (one of
            :data:`~vectorseq.data.pairs.SKIP_REASONS`); only reasons that occurred appear. Empty when
            nothing was skipped.
        source: a human-readable description of where the pairs came from (file names, dataset name,
            subset), for logs and reports.
        pairs_read: for a sample of a larger corpus (:func:`~vectorseq.data.sampling.sample_pairs`), how many
            valid pairs the whole corpus has; None otherwise.
    """

    src: list[str]
    tgt: list[str]
    skipped: dict[str, int] = field(default_factory=dict)
    source: str = ""
    pairs_read: int | None = None

    def __post_init__(self) -> None:
        if len(self.src) != len(self.tgt):
            raise ValueError(
                f"ParallelCorpus needs as many source as target sentences, got {len(self.src)} and {len(self.tgt)}"
            )

    def __len__(self) -> int:
        return len(self.src)

    def pairs(self) -> list[tuple[str, str]]:
        """Return the ``(source, target)`` pairs as a list, in corpus order."""
        return list(zip(self.src, self.tgt))

    @property
    def n_skipped(self) -> int:
        """Total number of pairs dropped while reading (the sum of :attr:`skipped`)."""
        return sum(self.skipped.values())

    def subset(self, n: int, mode: str = "first", seed: int = 0) -> "ParallelCorpus":
        """Return a corpus of ``n`` pairs taken from this one, e.g. for a learning curve.

        Args:
            n: how many pairs to keep, ``0 <= n <= len(self)``.
            mode: ``"first"`` keeps the first ``n`` pairs. ``"random"`` keeps ``n`` pairs chosen at random
                but reproducibly: the choice depends only on ``seed`` and ``len(self)``, and subsets with the
                same seed are *nested*, i.e. the random 1,000-pair subset is contained in the random
                3,000-pair subset. (One fixed shuffle of all indices is drawn from ``seed``; a subset of size
                ``n`` takes its first ``n`` entries.) The kept pairs stay in their original order.
            seed: the seed for ``mode="random"``; ignored for ``"first"``.

        Raises:
            VectorseqError (ConfigError): ``n`` is negative or larger than the corpus, or ``mode`` is unknown.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError(f"subset size must be a non-negative integer, got {n!r}")
        if n > len(self):
            raise ConfigError(
                f"cannot take a subset of {n} pairs from a corpus of {len(self)} pairs ({self.source or 'unnamed'}); "
                f"use a size of at most {len(self)}"
            )
        if mode == "first":
            indices = range(n)
            label = f"first {n} of {len(self)}"
        elif mode == "random":
            order = list(range(len(self)))
            random.Random(seed).shuffle(order)
            indices = sorted(order[:n])
            label = f"random {n} of {len(self)}, seed {seed}"
        else:
            raise ConfigError(f"unknown subset mode {mode!r}; use 'first' or 'random'")
        return ParallelCorpus(
            src=[self.src[i] for i in indices],
            tgt=[self.tgt[i] for i in indices],
            skipped=dict(self.skipped),
            source=f"{self.source} [{label}]" if self.source else f"[{label}]",
        )
