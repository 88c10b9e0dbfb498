"""Train your own word vectors (word2vec or fastText, with gensim) for later use as pretrained vectors.

The output is in the formats :mod:`vectorseq.embeddings.vectors_io` reads:

* ``algorithm="word2vec"``: ``OUT.vec`` -- word2vec text with a ``count dim`` header;
* ``algorithm="fasttext"``: ``OUT.vec`` and ``OUT.bin`` (a Facebook-format fastText model written by
  ``gensim.models.fasttext.save_facebook_model``), so that words missing from the training corpus
  later get subword (character n-gram) vectors from ``build_matrix("OUT.bin", ...)``.

Tokenization is explicit: the vectors are only useful if their words are the tokens the model's
vectorizer produces. ``tokenize`` is a callable ``str -> list[str]``, or any object with a
``.tokenize(text)`` method (e.g. a vectorizer, so that the vectors are trained on the very
SentencePiece pieces of a model); the default is ``str.split`` (whitespace, case kept), and
``lowercase=True`` lowercases each text before tokenizing.

The corpus is streamed, never held in memory: gensim iterates over it several times (one pass to
build the vocabulary, one per epoch), so a path is re-opened on each pass (plain text or gzip, one
sentence per line), and a one-shot iterator (a generator) is first spilled to a temporary gzip file.
Training is reproducible for a given ``seed`` with ``workers=1`` (more workers are faster but, as
in gensim, not deterministic).
"""
from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vectorseq.embeddings.vectors_io import open_text
from vectorseq.errors import ConfigError, DataError

__all__ = ["TrainedVectors", "train_vectors", "LineCorpus"]


def _tokenizer(tokenize: Any, lowercase: bool) -> Callable[[str], list[str]]:
    if tokenize is None:
        base: Callable[[str], list[str]] = str.split
    elif hasattr(tokenize, "tokenize") and callable(tokenize.tokenize):
        base = tokenize.tokenize
    elif callable(tokenize):
        base = tokenize
    else:
        raise ConfigError(
            f"tokenize must be a callable str -> list[str] or an object with .tokenize(text), "
            f"got {type(tokenize).__name__}")
    if lowercase:
        return lambda text: list(base(text.lower()))
    return lambda text: list(base(text))


class LineCorpus:
    """A restartable iterable of token lists over a text file (plain or gzip), one sentence per line.

    Every ``iter()`` re-opens the file, which is what gensim needs for its several passes. Blank
    lines are skipped.
    """

    def __init__(self, path: str | os.PathLike, tokenize: Callable[[str], list[str]]):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataError("corpus file not found (one sentence per line expected)", str(self.path))
        self.tokenize = tokenize

    def __iter__(self) -> Iterator[list[str]]:
        with open_text(self.path) as f:
            for line in f:
                tokens = self.tokenize(line.rstrip("\r\n"))
                if tokens:
                    yield tokens


class _TextsCorpus:
    """A restartable iterable of token lists over an in-memory collection of strings."""

    def __init__(self, texts: Iterable[str], tokenize: Callable[[str], list[str]]):
        self.texts, self.tokenize = texts, tokenize

    def __iter__(self) -> Iterator[list[str]]:
        for text in self.texts:
            if not isinstance(text, str):
                raise ConfigError(f"texts must be strings, got {type(text).__name__}")
            tokens = self.tokenize(text)
            if tokens:
                yield tokens


@dataclass
class TrainedVectors:
    """What :func:`train_vectors` wrote.

    ``vec_path``: word2vec text (``count dim`` header); ``bin_path``: the fastText model (None for
    word2vec) -- pass it to ``build_matrix`` to get subword vectors for unseen words;
    ``vocabulary_size``: words that reached ``min_count``; ``model``: the gensim model (not saved
    anywhere else; handy in notebooks).
    """

    vec_path: Path
    bin_path: Path | None
    algorithm: str
    dim: int
    vocabulary_size: int
    model: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """JSON-able summary (paths as strings, no model) -- what the CLI prints."""
        return {"vec_path": str(self.vec_path), "bin_path": str(self.bin_path) if self.bin_path else None,
                "algorithm": self.algorithm, "dim": self.dim, "vocabulary_size": self.vocabulary_size}


def _spill(texts: Iterable[str], directory: Path) -> Path:
    """Write a one-shot iterator of strings to a gzip file (one text per line)."""
    fd, name = tempfile.mkstemp(prefix=".corpus-", suffix=".txt.gz", dir=directory)
    os.close(fd)
    with gzip.open(name, "wt", encoding="utf-8", compresslevel=1) as f:
        for text in texts:
            if not isinstance(text, str):
                raise ConfigError(f"texts must be strings, got {type(text).__name__}")
            f.write(text.replace("\n", " ").replace("\r", " ") + "\n")
    return Path(name)


def train_vectors(
    texts_or_path: Iterable[str] | str | os.PathLike,
    *,
    output_path: str | os.PathLike,
    algorithm: str = "word2vec",
    dim: int = 100,
    window: int = 5,
    min_count: int = 2,
    epochs: int = 5,
    seed: int = 0,
    workers: int = 1,
    tokenize: Callable[[str], list[str]] | Any | None = None,
    lowercase: bool = False,
    sg: int = 0,
    min_n: int = 3,
    max_n: int = 6,
    bucket: int = 200_000,
    **gensim_kwargs: Any,
) -> TrainedVectors:
    """Train word2vec or fastText vectors with gensim and save them for :func:`build_matrix`.

    Args:
        texts_or_path: a corpus: a path (``str`` or ``PathLike``; plain text or gzip, one sentence
            per line) or an iterable of strings (a list is re-iterated; a generator is spilled to
            a temporary gzip file next to ``output_path`` first).
        output_path: where to write: ``X.vec`` (or ``X`` -> ``X.vec``); fastText also writes
            ``X.bin`` next to it. Parent folders are created.
        algorithm: ``"word2vec"`` or ``"fasttext"``.
        dim, window, min_count, epochs, seed, workers: as in gensim (``dim`` = ``vector_size``).
        tokenize: ``str -> list[str]``, or an object with ``.tokenize(text)`` (e.g. a vectorizer);
            default whitespace splitting (``str.split``).
        lowercase: lowercase each text before tokenizing.
        sg: 0 = CBOW (gensim's default), 1 = skip-gram.
        min_n, max_n, bucket: fastText character n-gram lengths and hash buckets. ``bucket`` defaults
            to 200,000 (80 MB at ``dim=100``), not fastText's 2,000,000, which suits
            Wikipedia-size corpora and would make a 800 MB ``.bin`` for a small corpus.
        **gensim_kwargs: passed to the gensim model (e.g. ``negative``, ``sample``, ``alpha``).

    Returns:
        A :class:`TrainedVectors`.

    Raises:
        ConfigError: a bad option; DataError: a missing corpus file or a corpus with no word that
        reaches ``min_count``.
    """
    _check_options(algorithm, dim=dim, window=window, min_count=min_count, epochs=epochs, workers=workers)
    vec_path, bin_path = _output_paths(output_path, algorithm)
    corpus, where, spilled = _corpus(texts_or_path, _tokenizer(tokenize, lowercase), vec_path.parent)
    try:
        model = _fit(corpus, where, algorithm, dict(vector_size=dim, window=window, min_count=min_count,
                                                    epochs=epochs, seed=seed, workers=workers, sg=sg, **gensim_kwargs),
                     dict(min_n=min_n, max_n=max_n, bucket=bucket))
    finally:
        if spilled is not None:
            spilled.unlink(missing_ok=True)
    _save(model, vec_path, bin_path)
    return TrainedVectors(vec_path=vec_path, bin_path=bin_path, algorithm=algorithm, dim=dim,
                          vocabulary_size=len(model.wv), model=model)


def _check_options(algorithm: str, **counts: int) -> None:
    if algorithm not in ("word2vec", "fasttext"):
        raise ConfigError(f"algorithm must be 'word2vec' or 'fasttext', got {algorithm!r}")
    for name, value in counts.items():
        if not isinstance(value, int) or value < (0 if name == "min_count" else 1):
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _output_paths(output_path: str | os.PathLike, algorithm: str) -> tuple[Path, Path | None]:
    """``X.vec`` (and ``X.bin`` for fastText), with their folder created."""
    out = Path(output_path)
    vec_path = out if out.suffix == ".vec" else Path(str(out) + ".vec")
    vec_path.parent.mkdir(parents=True, exist_ok=True)
    return vec_path, (vec_path.with_suffix(".bin") if algorithm == "fasttext" else None)


def _corpus(texts_or_path: Iterable[str] | str | os.PathLike, tok: Callable[[str], list[str]],
            spill_dir: Path) -> tuple[Iterable[list[str]], str, Path | None]:
    """A restartable corpus of token lists, a name for messages, and the temporary file to delete (or None)."""
    if isinstance(texts_or_path, (str, os.PathLike)):
        return LineCorpus(texts_or_path, tok), str(texts_or_path), None
    if iter(texts_or_path) is texts_or_path:  # a one-shot iterator: gensim needs several passes
        spilled = _spill(texts_or_path, spill_dir)
        return LineCorpus(spilled, tok), "the texts", spilled
    return _TextsCorpus(texts_or_path, tok), "the texts", None


def _fit(corpus: Iterable[list[str]], where: str, algorithm: str, common: dict, fasttext: dict) -> Any:
    """Build the vocabulary (one pass) and train (one pass per epoch)."""
    from gensim.models import FastText, Word2Vec  # optional heavy dependency, only when vectors are trained

    model = Word2Vec(**common) if algorithm == "word2vec" else FastText(**fasttext, **common)
    model.build_vocab(corpus_iterable=corpus)
    if len(model.wv) == 0:
        raise DataError(f"no word occurs at least min_count={common['min_count']} times; lower min_count or "
                        "give a larger corpus", where)
    model.train(corpus_iterable=corpus, total_examples=model.corpus_count, epochs=common["epochs"])
    return model


def _save(model: Any, vec_path: Path, bin_path: Path | None) -> None:
    model.wv.save_word2vec_format(str(vec_path), binary=False)
    if bin_path is not None:
        from gensim.models.fasttext import save_facebook_model  # optional heavy dependency (gensim)

        save_facebook_model(model, str(bin_path))
