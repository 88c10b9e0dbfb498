"""Preparing a training run: everything between the run's start (:mod:`~vectorseq.training.run`) and the
first update.

In the order :func:`vectorseq.training.train` calls them: :func:`load_data` (the splits, or a sample of the streamed training files), the vectorizers
(adapted on the training text and saved, or loaded when resuming), the pretrained vectors (their width is
recorded in the config: it is part of the model's shape), the model with its input layers fitted on the
training ids (pretrained rows, table policies, IDF; coverage report), and the :mod:`batch source
<vectorseq.data.batch_source>` the loop reads.
"""
from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import Config, load_config
from ..data.batch_source import BatchSource, InMemorySource, SampledSource, StreamingSource
from ..data.directions import direction_plan
from ..data.language_balance import AdaptText
from ..data.splits import load_split, load_splits
from ..data.streaming import sample_pairs
from ..embeddings.factory import prepare_pretrained
from ..errors import VectorseqError
from ..language_vectorizer import LanguageVectorizers
from ..models import build_model
from ..modelfolder import CONFIG_FILE, COVERAGE_FILE, LAST_CHECKPOINT, load_vectorizers, save_vectorizers
from ..text.language_tags import language_tags
from ..vectorizer import TextVectorizer
from .extend import STOPPING_KEYS
from .run import Run

Ids = tuple[list[np.ndarray], list[np.ndarray]]  # source and target ids of a corpus, without specials


# ------------------------------------------------------------------------------------------------- data
@dataclass
class TrainingData:
    splits: dict[str, Any]  # train (None when streamed), valid, test (or None)
    train: Any  # the training corpus, the stream's sample, None (streaming and resuming), or an AdaptText
    directions: list[Any] | None = None  # several directions: their DirectionData (vectorseq.training.multilingual)


def load_data(run: Run, splits: dict[str, Any] | None) -> TrainingData:
    """The splits (``splits`` when the caller already loaded them) and the text the vectorizers learn from.

    A streamed training set is read window by window every epoch. A reservoir sample of its pairs stands in
    for it where all of it was needed in memory: adapting the vectorizers, the token counts of the coverage
    report and the IDF of count-based inputs. Its pass also validates every line, so a bad or misaligned
    file fails now rather than mid-epoch.
    """
    cfg = run.cfg
    splits = splits if splits is not None else _load_splits(cfg)
    train = splits["train"]
    if cfg.data.streaming:
        train = None if run.resuming else sample_pairs(**stream_files(cfg.data.train), n=cfg.data.adapt_sample,
                                                       seed=cfg.training.seed, **_stream_filters(cfg))
    if train is not None and len(train) == 0:
        raise VectorseqError("the training data is empty after filtering; check data.max_length and the files")
    if splits.get("valid") is not None and len(splits["valid"]) == 0:  # validation would divide by zero later
        raise VectorseqError(f"the validation split ({_split_source(cfg, 'valid')}) is empty after filtering; "
                             "give it sentence pairs, or check data.max_length and data.on_error")
    return TrainingData(splits, train)


def _split_source(cfg: Config, name: str) -> str:
    """Where a split comes from, for messages: its file(s), or the dataset's name."""
    d = cfg.data
    files = getattr(d, name)
    if d.dataset == "files":
        return files.tsv or f"{files.src} + {files.tgt}"
    return f"dataset {d.dataset}"


def _load_splits(cfg: Config) -> dict[str, Any]:
    d = cfg.data
    if d.streaming:  # the training files are streamed, never loaded: read only valid and test
        return {"train": None, "valid": load_split(d.valid, d, "valid", True),
                "test": load_split(d.test, d, "test", False)}
    return load_splits(d, seed=cfg.training.seed)


def stream_files(files: Any) -> dict[str, Any]:
    """A split's files (``data.train``) as the stream readers' keyword arguments: ``tsv``, or the two paths."""
    return {"tsv": files.tsv} if files.tsv else {"src_path": files.src, "tgt_path": files.tgt}


def _stream_filters(cfg: Config) -> dict[str, Any]:
    return {"max_length": cfg.data.max_length, "on_error": cfg.data.on_error, "max_chars": cfg.data.max_chars}


# ------------------------------------------------------------------------------------------ vectorizers
def make_vectorizer(side: Any, seed: int, reserved_tokens: list[str] | None = None) -> TextVectorizer:
    """An unadapted vectorizer for one side's ``vectorizer`` config (``reserved_tokens``: language tags)."""
    return TextVectorizer(standardize=side.standardize, split=side.split, max_tokens=side.max_tokens,
                          min_freq=side.min_freq, sentencepiece_model_type=side.sentencepiece_model_type,
                          seed=seed, reserved_tokens=reserved_tokens)


def side_tags(cfg: Config) -> tuple[list[str] | None, list[str] | None]:
    """The language tags each vectorizer reserves: the source's (tag before the source) or the target's (tag
    as the decoder's first token); none for a bilingual model, so its vectorizers are exactly as before."""
    plan = direction_plan(cfg.data)
    if not plan.tagged:
        return None, None
    tags = language_tags(plan.target_languages)
    on_source = plan.placement == "source" or cfg.vectorizer.shared
    return (tags if on_source else None), (tags if plan.placement == "decoder" else None)


def adapt_vectorizers(cfg: Config, train: Any) -> tuple[Any, Any]:
    """Adapt the vectorizers on the training text (a multilingual model's: balanced over its languages)."""
    seed, (src_tags, tgt_tags) = cfg.training.seed, side_tags(cfg)
    if cfg.vectorizer.per_language:
        return adapt_per_language(cfg, train, src_tags, tgt_tags)
    if cfg.vectorizer.shared:
        both = train.texts() if isinstance(train, AdaptText) else itertools.chain(train.src, train.tgt)
        vec = make_vectorizer(cfg.vectorizer.src, seed, src_tags).adapt(both)
        return vec, vec
    return (make_vectorizer(cfg.vectorizer.src, seed, src_tags).adapt(train.src),
            make_vectorizer(cfg.vectorizer.tgt, seed, tgt_tags).adapt(train.tgt))


def adapt_per_language(cfg: Config, train: AdaptText, src_tags: list[str] | None,
                       tgt_tags: list[str] | None) -> tuple[LanguageVectorizers, LanguageVectorizers]:
    """One vectorizer per language, each adapted on that language's distinct training sentences (either side):
    with ``shared``, one per language of the model for both sides (``vectorizer.src``'s settings); otherwise
    one per source language (``vectorizer.src``) and one per target language (``vectorizer.tgt``)."""
    plan, seed, v = direction_plan(cfg.data), cfg.training.seed, cfg.vectorizer

    def side(settings: Any, langs: list[str], tags: list[str] | None) -> LanguageVectorizers:
        return LanguageVectorizers({lang: make_vectorizer(settings, seed).adapt(train.distinct[lang])
                                    for lang in langs}, tags)

    if v.shared:
        both = side(v.src, plan.languages, src_tags)
        return both, both
    sources = sorted({d.src for d in plan.all})  # a zero-shot source needs a source vectorizer too
    return side(v.src, sources, src_tags), side(v.tgt, plan.target_languages, tgt_tags)


def encode_corpus(vec: TextVectorizer, texts: list[str]) -> list[np.ndarray]:
    """Token ids of every sentence, without specials (batches add EOS/BOS)."""
    return [np.asarray(ids, dtype=np.int64) for ids in vec.encode_many(texts)]


def encode_pairs(src_vec: TextVectorizer, tgt_vec: TextVectorizer, corpus: Any) -> Ids:
    """Source and target ids of a parallel corpus (none for no corpus)."""
    if corpus is None:
        return [], []
    return encode_corpus(src_vec, corpus.src), encode_corpus(tgt_vec, corpus.tgt)


def drop_long_ids(run: Run, corpus: Any, ids: Ids) -> Ids:
    """The training ids without the pairs longer than ``data.max_ids`` token ids on either side (the corpus
    text is cut alike, so texts and ids stay aligned; the drops are counted under ``too_long``).

    Length rules before vectorization count whitespace tokens and characters; a subword, character or byte
    split can still turn one long "token" into thousands of ids, which would make one batch unbounded.
    """
    limit = run.cfg.data.max_ids
    if limit is None or corpus is None or not ids[0]:
        return ids
    keep = [i for i, (s, t) in enumerate(zip(*ids)) if len(s) <= limit and len(t) <= limit]
    dropped = len(ids[0]) - len(keep)
    if not dropped:
        return ids
    corpus.src, corpus.tgt = [corpus.src[i] for i in keep], [corpus.tgt[i] for i in keep]
    corpus.skipped["too_long"] = corpus.skipped.get("too_long", 0) + dropped
    run.say(f"{dropped} training pair(s) with more than data.max_ids={limit} token ids after vectorization dropped")
    if not keep:
        raise VectorseqError(f"every training pair has more than data.max_ids={limit} token ids after "
                             "vectorization; raise data.max_ids or shorten the sentences")
    return [ids[0][i] for i in keep], [ids[1][i] for i in keep]


def prepare_vectorizers(run: Run, train: Any) -> tuple[TextVectorizer, TextVectorizer]:
    """Adapt the vectorizers on the training text and save them (rank 0), or load the saved ones."""
    cfg, out, dist, shared = run.cfg, run.out, run.dist, run.cfg.vectorizer.shared
    if run.resuming:
        src_vec, tgt_vec = load_vectorizers(out, shared)
        saved = load_config(out / CONFIG_FILE)  # the vectors' width, recorded when the run started
        cfg.embeddings.src.dim, cfg.embeddings.tgt.dim = saved.embeddings.src.dim, saved.embeddings.tgt.dim
        # a fastText .bin's n-gram settings replaced the config's when the run started (char_ngrams)
        for key in ("ngram_min", "ngram_max", "buckets"):
            setattr(cfg.embeddings.src, key, getattr(saved.embeddings.src, key))
        if dist.main:
            _record_stopping_rule(saved, cfg, out)
        run.say(f"resuming from {out / LAST_CHECKPOINT}")
        return src_vec, tgt_vec
    if dist.main:
        t0 = time.time()
        src_vec, tgt_vec = adapt_vectorizers(cfg, train)
        save_vectorizers(out, src_vec, tgt_vec, shared)
        cfg.save(out / CONFIG_FILE)
        run.say(f"vectorizers adapted in {time.time() - t0:.1f}s: source {_sizes(src_vec)}, "
                f"target {_sizes(tgt_vec)}{' (shared)' if shared else ''}")
    dist.barrier()
    if not dist.main:
        src_vec, tgt_vec = load_vectorizers(out, shared)
    return src_vec, tgt_vec


def _record_stopping_rule(saved: Config, cfg: Config, out: Path) -> None:
    """A run resumed under another stopping rule (e.g. a larger max_steps) records the rule it continues under in
    the folder's config, so the folder says how long it trained; nothing else of the saved config changes."""
    changed = {k: getattr(cfg.training, k) for k in STOPPING_KEYS
               if getattr(cfg.training, k) != getattr(saved.training, k)}
    if changed:
        for key, value in changed.items():
            setattr(saved.training, key, value)
        saved.save(out / CONFIG_FILE)


def _sizes(vec: Any) -> str:
    """``8000 tokens``, or with one vocabulary per language ``847 tokens (de 316, en 264, fr 261)``."""
    langs = getattr(vec, "vectorizers", None)  # LanguageVectorizers
    per = f" ({', '.join(f'{k} {v.vocabulary_size()}' for k, v in langs.items())})" if langs else ""
    return f"{vec.vocabulary_size()} tokens{per}"


# ------------------------------------------------------------------------------------------------ model
def prepare_vectors(run: Run, src_vec: TextVectorizer, tgt_vec: TextVectorizer) -> dict[str, Any]:
    """The pretrained matrix of each side that has vectors (none when resuming: the checkpoint has them)."""
    cfg = run.cfg
    if run.resuming:
        return {}
    built = {"src": prepare_pretrained(cfg.embeddings.src, src_vec)}
    if not cfg.model.share_embeddings:
        built["tgt"] = prepare_pretrained(cfg.embeddings.tgt, tgt_vec)
    return {name: b for name, b in built.items() if b is not None}


def record_vector_widths(run: Run, built: dict[str, Any]) -> None:
    """The vectors' width is part of the model's shape: record it in the config and the model folder's copy,
    so loading never needs the vectors file."""
    if not built:
        return
    for name, b in built.items():
        getattr(run.cfg.embeddings, name).dim = int(b.dim)
    if run.dist.main:
        run.cfg.save(run.out / CONFIG_FILE)


def build_seeded_model(run: Run, src_vec: TextVectorizer, tgt_vec: TextVectorizer) -> torch.nn.Module:
    """The model, initialised from the training seed whatever was drawn before."""
    torch.manual_seed(run.cfg.training.seed)
    return build_model(run.cfg, src_vec, tgt_vec)


def fit_input_layers(run: Run, model: torch.nn.Module, vecs: tuple[TextVectorizer, TextVectorizer],
                     train_ids: Ids, built: dict[str, Any]) -> dict[str, Any]:
    """Fit each input layer on the training ids (or restore it from the checkpoint); return the coverage."""
    if run.resuming:
        for layer in (model.src_input, model.tgt_input):
            layer.restore()
        return {}
    cfg, coverage = run.cfg, {}
    sides = [("src", model.src_input, vecs[0], train_ids[0])]
    if model.tgt_input is not model.src_input:
        sides.append(("tgt", model.tgt_input, vecs[1], train_ids[1]))
    for name, layer, vec, ids in sides:
        report = layer.fit(ids, vec, built.get(name))
        if report is not None:
            report["source"] = str(getattr(cfg.embeddings, name).vectors)
            coverage[name] = report
    if coverage and run.dist.main:
        (run.out / COVERAGE_FILE).write_text(json.dumps(coverage, indent=1))
        for name, rep in coverage.items():
            run.say(f"embeddings.{name}: {getattr(cfg.embeddings, name).vectors} covers "
                    f"{100 * rep.get('type_coverage', 0):.1f}% of types, "
                    f"{100 * rep.get('token_coverage', 0):.1f}% of tokens")
    return coverage


# ------------------------------------------------------------------------------------------ batch source
def sampling_specs(cfg: Config) -> tuple[Any, Any]:
    """Each side's subword sampling (None = off); a shared vectorizer uses the source side's settings."""
    v = cfg.vectorizer
    return v.src.sampling(), (v.src if v.shared else v.tgt).sampling()


def build_batch_source(run: Run, data: TrainingData, vecs: tuple[TextVectorizer, TextVectorizer],
                       train_ids: Ids) -> BatchSource:
    """The training batches: the encoded training set in memory, or the training files streamed."""
    cfg, tc = run.cfg, run.cfg.training
    specs = sampling_specs(cfg)
    if not cfg.data.streaming:
        if specs == (None, None):
            return InMemorySource(*train_ids, tc.batch_tokens, tc.seed)
        corpus = data.splits["train"]
        return SampledSource(*train_ids, tc.batch_tokens, tc.seed, texts=(corpus.src, corpus.tgt), vecs=vecs,
                             specs=specs)
    described = data.train.source if data.train is not None else "the training files"
    data.train = None  # the sample has served its purpose: free it
    args = dict(**stream_files(cfg.data.train), src_vectorizer=vecs[0], tgt_vectorizer=vecs[1],
                batch_tokens=tc.batch_tokens, seed=tc.seed, window=cfg.data.window, sampling=specs,
                **_stream_filters(cfg))
    return StreamingSource(args, num_workers=cfg.data.num_workers, pin_memory=run.device.type == "cuda",
                           any_exhausted=run.dist.any_rank, description=f"streaming {described}:")
