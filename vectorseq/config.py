"""The experiment config: every key documented, validated, typos never silently ignored.

A config is a YAML (or JSON) file with the sections below. Each section is a dataclass whose fields carry
their documentation, so the reference in ``docs/config.md`` is generated from this file
(``vectorseq config --reference``) and can never drift from what the code accepts.

Loading walks the YAML against the dataclasses: an unknown key is an error with a did-you-mean, a value of
the wrong type or outside its choices is an error that names the key and what it accepts.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .data.directions import check_directions
from .errors import ConfigError, VectorseqError, did_you_mean
from .text.options import STANDARDIZE_OPTIONS, TRANSLATION_DEFAULTS
from .text.subword_sampling import SamplingSpec
from .yaml_io import UniqueKeyLoader, read_yaml, yaml_problem  # noqa: F401 (read_yaml is part of this module's API)


def _f(default: Any, doc: str, **kw: Any) -> Any:
    """A dataclass field with documentation and optional checks the builder applies to every value.

    ``ge``/``gt``/``lt``/``le``: the range of a number (of each element of a list), e.g. ``ge=0, lt=1`` for
    a dropout probability; ``negative_ok``: the value may be negative (otherwise negatives are refused).
    """
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"doc": doc, **kw})
    return field(default=default, metadata={"doc": doc, **kw})


def _sub(cls: type, doc: str) -> Any:
    return field(default_factory=cls, metadata={"doc": doc})


# ----------------------------------------------------------------------------------------------- data
_DIRECTION = {"pattern": r"[A-Za-z_]+-[A-Za-z_]+", "expected": "a direction SRC-TGT such as en-de"}


@dataclass
class FilesConfig:
    """Paths of one split given as two aligned files or one TSV file."""

    src: str | None = _f(None, "Source-side file (plain text or .gz, one sentence per line).")
    tgt: str | None = _f(None, "Target-side file, aligned line by line with `src`.")
    tsv: str | None = _f(None, "A TSV file with source in column 0 and target in column 1 (instead of src/tgt).")


@dataclass
class BuiltinConfig:
    """The built-in generated corpus (numbers and dates, English -> tgt_lang); needs no download."""

    n_train: int = _f(12000, "Training pairs to generate.")
    n_val: int = _f(300, "Validation pairs.", ge=1)
    n_test: int = _f(300, "Test pairs.")
    seed: int = _f(0, "Generator seed (the corpus is identical for identical settings).")


@dataclass
class DataConfig:
    """Where the parallel text comes from and how it is checked."""

    dataset: Literal["builtin", "multi30k", "files"] = _f(
        "builtin", "`builtin` (generated, offline), `multi30k` (named dataset) or `files` (train/valid/test below).")
    src_lang: str = _f("en", "Source language code (multi30k: en, de or fr).")
    tgt_lang: str = _f("de", "Target language code.")
    data_dir: str | None = _f(
        None, "multi30k: folder holding {split}.{lang}.gz; else $VECTORSEQ_MULTI30K, the cache, or a download.")
    train: FilesConfig = _sub(FilesConfig, "dataset=files: the training split (several directions: names with {src} "
                              "and {tgt}, e.g. train.{src}-{tgt}.{src}).")
    valid: FilesConfig = _sub(FilesConfig, "dataset=files: the validation split.")
    test: FilesConfig = _sub(FilesConfig, "dataset=files: the test split (optional).")
    test_split: str = _f("test_2016_flickr", "multi30k: which test split `vectorseq evaluate` and the run summary use.")
    builtin: BuiltinConfig = _sub(BuiltinConfig, "dataset=builtin: corpus size and seed.")
    subset: int | None = _f(None, "Use only N training pairs (for learning curves); null = all.")
    subset_mode: Literal["first", "random"] = _f("random", "How the subset is taken: the first N or a seeded random N.")
    max_length: int | None = _f(
        100, "Pairs with more whitespace tokens than this on either side are handled by `on_error`.", ge=1)
    max_chars: int | None = _f(
        2000, "Pairs with more characters than this on either side are handled by `on_error` (counted before "
        "vectorization: a long line without spaces is one whitespace token). null = no limit.", ge=1)
    max_ids: int | None = _f(
        1024, "In-memory training pairs with more token ids than this on either side after vectorization "
        "(subwords, characters, bytes) are dropped and counted, so no batch grows without bound. null = no limit.",
        ge=1)
    on_error: Literal["raise", "skip"] = _f(
        "skip", "Bad pairs (empty, over-long, invalid UTF-8): `raise` stops with file:line, `skip` drops and counts them.")
    streaming: bool = _f(
        False, "dataset=files: read the training files window by window every epoch instead of loading them "
        "(corpora larger than memory; vectorseq.data.streaming). Ranks and DataLoader workers read disjoint lines.")
    window: int = _f(100000, "streaming: sentence pairs held at once (per rank and worker) for length bucketing "
                     "and shuffling; memory is bounded by it.")
    adapt_sample: int = _f(
        1000000, "streaming: a reservoir sample of this many training pairs adapts the vectorizers and gives the "
        "token statistics (coverage, IDF); above the corpus size, every pair is used.")
    num_workers: int = _f(0, "streaming: DataLoader worker processes that read and encode (0 = the training process).")
    directions: list[str] | None = _f(
        None, "Several translation directions in one model, e.g. [en-de, en-fr, de-en] (builtin: English and "
        "its target languages; multi30k: any pair of en, de, fr, cs). null = the one direction src_lang -> "
        "tgt_lang; a list of one direction is that bilingual model (no tag).", **_DIRECTION)
    zero_shot: list[str] = _f(
        [], "Directions scored (validation, test) but never trained, e.g. de-fr after en-de and en-fr; their "
        "target language must be trained. Reports label them zero-shot.", **_DIRECTION)
    valid_direction: str | None = _f(
        None, "Several directions: validation BLEU/chrF (so the best checkpoint and early stopping) of this trained "
        "direction only; null = the mean over the trained directions.", **_DIRECTION)
    tag_placement: Literal["source", "decoder"] = _f(
        "source", "Several directions: the target-language tag <2xx> starts the source (Johnson et al. 2017) or "
        "is the decoder's first token in place of <s>. Always one token, in every vectorizer mode.")
    sampling_temperature: float = _f(
        1.0, "Several directions: batches come from direction i with probability ~ n_i^(1/T) (n_i its training "
        "pairs): 1 = in proportion to the data, 5 is common, large (100) = uniform. Seeded by (seed, epoch).", gt=0)


# ------------------------------------------------------------------------------------------ vectorizer
def _check_sampling(vs: Any, side: str) -> None:
    """Subword sampling needs SentencePiece and values in its model type's range (one-line ConfigError)."""
    spec = vs.sampling()
    if spec is None:
        if vs.sampling_nbest != -1:
            raise ConfigError(f"vectorizer.{side}.sampling_nbest is set but sampling_alpha is null (sampling is off)")
        return
    if vs.split != "sentencepiece":
        raise ConfigError(f"vectorizer.{side}.sampling_alpha needs split: sentencepiece (got {vs.split!r}); "
                          "subword sampling re-segments words into SentencePiece pieces")
    try:
        spec.check(vs.sentencepiece_model_type, where=f"vectorizer.{side}.sampling")
    except VectorseqError as exc:
        raise ConfigError(str(exc)) from None


_V = TRANSLATION_DEFAULTS  # the vectorizer's defaults live in vectorseq/text/options.py, with their reasons


@dataclass
class VectorizerSideConfig:
    """How one side's text becomes token ids (see vectorseq.vectorizer.TextVectorizer)."""

    standardize: str | None = _f(
        _V["standardize"], f"{', '.join(STANDARDIZE_OPTIONS[:-1])} or {STANDARDIZE_OPTIONS[-1]} (null = none)."
    )
    split: Literal["whitespace", "word", "character", "sentencepiece", "byte"] = _f(
        _V["split"], "whitespace, word (splits punctuation off), character, sentencepiece (subwords) or byte "
        "(UTF-8 bytes: a fixed 260-id vocabulary, no <unk>; max_tokens is ignored, min_freq must be 1)."
    )
    max_tokens: int | None = _f(_V["max_tokens"], "Vocabulary size including the 4 specials (required for sentencepiece).")
    min_freq: int = _f(_V["min_freq"], "Word/character split: drop tokens seen fewer times than this.")
    sentencepiece_model_type: Literal["bpe", "unigram"] = _f(_V["sentencepiece_model_type"], "SentencePiece algorithm.")
    sampling_alpha: float | None = _f(
        None, "Subword regularization of training batches (split: sentencepiece; null = off): each epoch draws a new "
        "segmentation of every training sentence, seeded by (training.seed, epoch, sentence). unigram: sampling "
        "smoothing exponent alpha > 0 (Kudo 2018; 0.1 is usual); bpe: BPE-dropout drop probability in (0, 1) "
        "(Provilkov et al. 2020; 0.1 was best). Validation, test and translation always use the deterministic "
        "segmentation."
    )
    sampling_nbest: int = _f(
        -1, "unigram sampling: -1 = sample from the whole lattice (forward-filtering backward-sampling), n = from "
        "the n best segmentations (at most 512; slower). Must stay -1 for bpe (BPE-dropout has no n-best list).",
        negative_ok=True
    )

    def sampling(self) -> SamplingSpec | None:
        """The side's subword sampling, or None when off."""
        return None if self.sampling_alpha is None else SamplingSpec(self.sampling_alpha, self.sampling_nbest)


#: Keys that model folders written by older versions hold but that no longer exist; loading drops them.
#: ``vectorizer.*.output_mode`` was never read (count-based inputs are chosen under ``embeddings``).
RETIRED_KEYS = (("vectorizer", "src", "output_mode"), ("vectorizer", "tgt", "output_mode"))


def _drop_retired(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``raw`` without :data:`RETIRED_KEYS` (so an old model folder's config.yaml still loads)."""
    raw = copy.deepcopy(raw)
    for *parents, key in RETIRED_KEYS:
        node: Any = raw
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(key, None)
    return raw


@dataclass
class VectorizerConfig:
    """Source and target vectorizers; `shared: true` adapts one vectorizer on both sides."""

    shared: bool = _f(True, "One vocabulary for source and target (needed for `model.share_embeddings`). With "
                      "several directions: one vectorizer for all languages, adapted on a language-balanced sample.")
    per_language: bool = _f(False, "Several directions: one vectorizer per language (each with its side's settings "
                            "and max_tokens; shared: true makes one per language for both sides), the languages' "
                            "vocabularies laid end to end in one table; translating needs the source language.")
    src: VectorizerSideConfig = _sub(VectorizerSideConfig, "Source side (and both sides when shared).")
    tgt: VectorizerSideConfig = _sub(VectorizerSideConfig, "Target side (ignored when shared).")


# ------------------------------------------------------------------------------------------ embeddings
@dataclass
class EmbeddingSideConfig:
    """How one side's embedding table starts and which of its rows learn."""

    input: Literal["embedding", "one_hot", "bag", "token_features", "sentence_vector", "char_ngrams", "gbst"] = _f(
        "embedding",
        "embedding (a table), one_hot (linear layer over one-hot vectors), bag (TF-IDF weighted bag of words, "
        "order discarded), token_features (TF-IDF weight and IDF added beside the embedding), "
        "sentence_vector (TF-IDF sentence vector as an extra memory slot), char_ngrams (a word's row plus its "
        "hashed character n-gram rows, fastText's subword model, learned; unseen source words get vectors at "
        "translation time; word-level source split only), gbst (learned segmentation over a byte or character "
        "source: soft choice of block sizes, then downsampling; Charformer). Source side only except `embedding`.",
    )
    vectors: str | dict[str, str] | None = _f(
        None, "Pretrained vectors: a file (GloVe/word2vec/fastText text or binary, .npy) or `glove-6b-50d`; "
        "with input: char_ngrams a fastText .bin (word rows and n-gram buckets); with vectorizer.per_language a "
        "mapping language -> file (languages left out learn their rows)."
    )
    dim: int | None = _f(
        None, "Width of the pretrained vectors; filled in at training time and saved, so loading needs no file."
    )
    policy: Literal["learned", "frozen", "finetune", "partial"] = _f(
        "learned",
        "learned (random init), frozen, finetune, or partial (pretrained rows frozen, unmatched rows trained).",
    )
    unfreeze_after: int | None = _f(None, "frozen/partial: make every row trainable after this many updates.")
    lr_multiplier: float = _f(1.0, "Learning-rate multiplier for this embedding table.")
    projection: Literal["linear", "pad_truncate"] = _f(
        "linear", "When the vectors' width differs from d_model: a learned linear projection, or pad/truncate."
    )
    on_error: Literal["raise", "skip"] = _f("raise", "Malformed lines in the vectors file: stop, or skip and count.")
    idf: Literal["fixed", "learned"] = _f(
        "fixed",
        "Count-based inputs (bag, token_features, sentence_vector): the IDF fitted on the training corpus as a "
        "constant (fixed), or as the start of a log-space parameter trained by the translation loss (learned).",
    )
    idf_lr_multiplier: float = _f(1.0, "idf: learned: learning-rate multiplier for the log-IDF parameter.")
    ngram_min: int = _f(3, "char_ngrams: shortest character n-gram (fastText's minn; `<`/`>` mark word boundaries).")
    ngram_max: int = _f(6, "char_ngrams: longest character n-gram (fastText's maxn).")
    buckets: int = _f(
        100_000, "char_ngrams: hash buckets (rows) of the n-gram table (fastText's 2M would be 1 GB at width 128 "
        "plus Adam's two copies). With a fastText .bin in `vectors`, its minn/maxn/bucket replace these three.",
    )
    gbst_max_block: int = _f(4, "input: gbst: candidate block sizes 1..this many bytes/characters (1-16).")
    gbst_downsample: int = _f(2, "input: gbst: mean-pool stride; the encoder sees ceil(T / this) positions (1-16).")
    gbst_calibrate: bool = _f(False, "input: gbst: Charformer's position-wise score calibration (costs T x T per sentence).")


def _check_gbst(cfg: "Config") -> None:
    """``input: gbst`` needs a byte or character source and block sizes / strides in 1..16."""
    e = cfg.embeddings.src
    for key in ("gbst_max_block", "gbst_downsample"):
        if not 1 <= getattr(e, key) <= 16:
            raise ConfigError(f"embeddings.src.{key} must be between 1 and 16, got {getattr(e, key)}")
    split = cfg.vectorizer.src.split
    if e.input == "gbst" and split not in ("byte", "character"):
        raise ConfigError(f"embeddings.src.input: gbst segments bytes or characters; set vectorizer.src.split to "
                          f"byte (or character), not {split!r}")


@dataclass
class EmbeddingsConfig:
    """Embeddings of the source and target side."""

    src: EmbeddingSideConfig = _sub(EmbeddingSideConfig, "Source side.")
    tgt: EmbeddingSideConfig = _sub(EmbeddingSideConfig, "Target side.")


def check_char_ngrams(side: EmbeddingSideConfig, split: str | None) -> None:
    """``input: char_ngrams``: ``1 <= ngram_min <= ngram_max``, ``buckets >= 1`` and a word-level source split."""
    if side.ngram_min < 1 or side.ngram_max < side.ngram_min:
        raise ConfigError(f"embeddings.src.ngram_min ({side.ngram_min}) and ngram_max ({side.ngram_max}) need "
                          "1 <= ngram_min <= ngram_max")
    if side.buckets < 1:
        raise ConfigError(f"embeddings.src.buckets must be at least 1 (got {side.buckets})")
    if split not in ("word", "whitespace"):
        raise ConfigError(f"embeddings.src.input: char_ngrams builds word vectors from character n-grams and needs "
                          f"a word-level source vectorizer (vectorizer.src.split: word or whitespace), not {split!r}: "
                          "subword, character and byte splits have no unseen words to build")


# ---------------------------------------------------------------------------------------------- model
@dataclass
class ModelConfig:
    """The encoder-decoder."""

    type: Literal["transformer", "rnn"] = _f("transformer", "transformer or rnn.")
    d_model: int = _f(128, "Width of embeddings and hidden states.", ge=1)
    ff_size: int = _f(256, "Transformer feed-forward width.", ge=1)
    heads: int = _f(4, "Transformer attention heads.", ge=1)
    encoder_layers: int = _f(4, "Encoder layers.", ge=1)
    decoder_layers: int = _f(4, "Decoder layers.", ge=1)
    dropout: float = _f(0.1, "Dropout on embeddings, attention outputs and feed-forward / RNN outputs.",
                            ge=0, lt=1)
    attention_dropout: float = _f(0.0, "Dropout on attention weights (Transformer).", ge=0, lt=1)
    norm: Literal["pre", "post"] = _f(
        "pre", "Transformer: where each sub-layer's LayerNorm sits. pre: x + F(LN(x)), with a final LayerNorm after "
        "the encoder and the decoder (trains stably without long warmup); post: LN(x + F(x)), no final LayerNorm "
        "(Vaswani et al. 2017; MarianMT's layout, so `vectorseq export --format huggingface` can write it as a "
        "MarianMT model). Folders saved before this key existed are pre-norm.")
    tie_embeddings: bool = _f(True, "Tie the decoder's input embedding and output projection.")
    share_embeddings: bool = _f(False, "One embedding table for encoder and decoder (needs vectorizer.shared).")
    rnn_cell: Literal["lstm", "gru"] = _f("lstm", "rnn: recurrent cell.")
    bidirectional: bool = _f(True, "rnn: bidirectional encoder.")
    attention: Literal["bahdanau", "luong"] = _f("bahdanau", "rnn: additive (Bahdanau) or general (Luong) attention.")


# -------------------------------------------------------------------------------------------- training
@dataclass
class TrainingConfig:
    """Optimisation, validation, stopping and checkpoints."""

    seed: int = _f(42, "Seed for initialisation, batch order and dropout (runs are reproducible).")
    batch_tokens: int = _f(4096, "Token budget per batch: max(src, tgt) length x sentences, padding included.")
    accumulate: int = _f(1, "Batches whose gradients are summed into one update (a larger effective batch).")
    max_steps: int | None = _f(None, "Stop after this many updates.", ge=1)
    max_epochs: int | None = _f(None, "Stop after this many passes over the training data.", ge=1)
    max_minutes: float | None = _f(None, "Stop after this much wall-clock training time.", gt=0)
    lr: float = _f(0.0005, "Peak learning rate (AdamW); 0 keeps the weights as they are.", ge=0)
    weight_decay: float = _f(0.0, "AdamW weight decay.")
    betas: list[float] = _f([0.9, 0.98], "AdamW betas (each in [0, 1)).", ge=0, lt=1)
    schedule: Literal["inverse_sqrt", "plateau", "constant"] = _f(
        "inverse_sqrt", "Linear warmup then 1/sqrt(step) decay, halve-on-plateau of the validation score, or constant."
    )
    warmup_steps: int = _f(400, "Linear warmup length (inverse_sqrt and constant).")
    plateau_patience: int = _f(2, "plateau: validations without improvement before the rate is halved.")
    label_smoothing: float = _f(0.1, "Label smoothing of the cross-entropy loss.", ge=0, lt=1)
    clip_norm: float | None = _f(1.0, "Clip the gradient norm to this (null = no clipping).", gt=0)
    valid_every: int = _f(500, "Validate every N updates (and at the end).")
    valid_max_sentences: int | None = _f(None, "Decode at most this many validation sentences for BLEU (null = all).")
    early_stopping_metric: Literal["bleu", "loss", "bleu+loss"] = _f(
        "bleu", "Which validation score picks the best checkpoint and counts for patience; bleu+loss: BLEU picks "
        "it, and patience counts only validations where neither BLEU nor the validation loss improved.")
    patience: int | None = _f(None, "Stop after this many validations without improvement (null = never).")
    min_steps: int | None = _f(None, "Patience may stop a run only after this many updates (null = no minimum).")
    average_checkpoints: int = _f(0, "Average the last N validations' weights at the end; kept as model.safetensors "
                                     "only if it validates better (metrics.json: averaged). 0 = off.", ge=0)
    threads: int | None = _f(None, "torch intra-op threads (null = number of cores).")
    device: str = _f("auto", "auto (cuda when available), cpu, cuda[:N] or mps.",
                     pattern=r"auto|cpu|mps|cuda(:\d+)?", expected="auto, cpu, cuda, cuda:N or mps")
    amp: bool = _f(True, "bf16 autocast on GPUs that support it (ignored on CPU).")
    resume: bool = _f(True, "Resume from MODEL_DIR/checkpoints/last when it exists.")
    log_every: int = _f(50, "Refresh the progress bar statistics every N updates.")
    dist_timeout_s: float = _f(600.0, "torchrun/DDP: a rank that does not join a collective within this many "
                                      "seconds fails the job.", gt=0)


# -------------------------------------------------------------------------------------------- decoding
@dataclass
class DecodingConfig:
    """How translations are produced (validation uses greedy search; evaluate/translate use these)."""

    beam_size: int = _f(5, "Beam size (1 = greedy search).", ge=1)
    length_penalty: float = _f(1.0, "GNMT-style length penalty alpha: score / ((5 + len) / 6) ** alpha.")
    max_length_ratio: float = _f(1.5, "Stop a hypothesis at max_length_ratio * source length + max_length_extra.", gt=0)
    max_length_extra: int = _f(10, "See max_length_ratio.")
    n_best: int = _f(1, "Return this many hypotheses per sentence (<= beam_size).", ge=1)
    batch_size: int = _f(64, "Sentences decoded together (sorted by length, output in input order).", ge=1)
    max_input_tokens: int = _f(
        1024, "translate/evaluate: a source with more token ids than this (after vectorization) is cut to its "
        "first max_input_tokens ids, with a warning naming the line, so one huge input cannot stall decoding.", ge=1)


@dataclass
class Config:
    """A whole experiment."""

    name: str = _f("experiment", "A name for the run (used in reports).")
    data: DataConfig = _sub(DataConfig, "Where the parallel text comes from.")
    vectorizer: VectorizerConfig = _sub(VectorizerConfig, "Text -> token ids.")
    embeddings: EmbeddingsConfig = _sub(EmbeddingsConfig, "Token ids -> vectors.")
    model: ModelConfig = _sub(ModelConfig, "The encoder-decoder.")
    training: TrainingConfig = _sub(TrainingConfig, "Optimisation and stopping.")
    decoding: DecodingConfig = _sub(DecodingConfig, "Search.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8")

    def check(self) -> "Config":
        """Cross-field checks that a single key cannot express."""
        m, v = self.model, self.vectorizer
        if m.share_embeddings and not v.shared:
            raise ConfigError("model.share_embeddings: true needs vectorizer.shared: true (one vocabulary)")
        if m.type == "transformer" and m.d_model % m.heads:
            raise ConfigError(f"model.d_model ({m.d_model}) must be divisible by model.heads ({m.heads})")
        for side in ("src", "tgt"):
            vs = v.src if (v.shared or side == "src") else v.tgt
            if vs.split == "sentencepiece" and not vs.max_tokens:
                raise ConfigError(f"vectorizer.{side}.max_tokens is required with split: sentencepiece")
            if vs.split == "byte" and vs.min_freq != 1:
                raise ConfigError(f"vectorizer.{side}.min_freq does not apply to split: byte (no byte is dropped); use 1")
            _check_sampling(vs, "src" if v.shared else side)
        if self.embeddings.src.input == "char_ngrams":
            check_char_ngrams(self.embeddings.src, v.src.split)
        _check_gbst(self)
        if self.embeddings.tgt.input != "embedding":
            raise ConfigError(
                f"embeddings.tgt.input: {self.embeddings.tgt.input!r} is for the source side only; "
                "use `embedding` on the target side"
            )
        for side in ("src", "tgt"):
            es = getattr(self.embeddings, side)
            if es.idf == "learned" and es.input not in ("bag", "token_features", "sentence_vector"):
                raise ConfigError(f"embeddings.{side}.idf: learned needs a count-based input (bag, token_features "
                                  f"or sentence_vector), not input: {es.input}; use idf: fixed")
            if es.idf_lr_multiplier <= 0:
                raise ConfigError(f"embeddings.{side}.idf_lr_multiplier must be > 0 (use idf: fixed for a constant IDF)")
        t = self.training
        if t.max_steps is None and t.max_epochs is None and t.max_minutes is None:
            raise ConfigError("training: set at least one of max_steps, max_epochs or max_minutes")
        for key in ("accumulate", "batch_tokens", "valid_every", "log_every"):
            if getattr(t, key) < 1:
                raise ConfigError(f"training.{key} must be at least 1")
        _check_min_steps(t)
        if self.decoding.beam_size < 1 or self.decoding.batch_size < 1:
            raise ConfigError("decoding.beam_size and decoding.batch_size must be at least 1")
        if self.decoding.n_best > self.decoding.beam_size:
            raise ConfigError("decoding.n_best must be <= decoding.beam_size")
        if self.data.dataset == "files" and not (self.data.train.tsv or (self.data.train.src and self.data.train.tgt)):
            raise ConfigError("data.dataset: files needs data.train.src and data.train.tgt (or data.train.tsv)")
        d = self.data
        if d.streaming and d.dataset != "files":
            raise ConfigError(f"data.streaming: true reads data.train files line by line; it needs data.dataset: files "
                              f"(got {d.dataset!r}, which fits in memory: turn streaming off)")
        if d.streaming and d.subset:
            raise ConfigError("data.subset cannot be combined with data.streaming: a subset fits in memory, "
                              "turn streaming off (or cut the files)")
        for key, low in (("window", 1), ("adapt_sample", 1), ("num_workers", 0)):
            if getattr(d, key) < low:
                raise ConfigError(f"data.{key} must be at least {low}")
        check_directions(d, v, self.embeddings)
        return self


def _check_min_steps(t: TrainingConfig) -> None:
    """training.min_steps: a positive number of updates, within max_steps."""
    if t.min_steps is None:
        return
    if t.min_steps < 1:
        raise ConfigError(f"training.min_steps must be at least 1 (or null for no minimum), got {t.min_steps}")
    if t.max_steps is not None and t.min_steps > t.max_steps:
        raise ConfigError(f"training.min_steps ({t.min_steps}) is larger than training.max_steps ({t.max_steps}); "
                          "lower min_steps or raise max_steps")


# ------------------------------------------------------------------------------------------- loading
def _type_ok(value: Any, annotation: Any) -> tuple[bool, Any]:
    """Check (and gently coerce: int -> float) a YAML value against a field annotation."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            ok, v = _type_ok(value, arg)
            if ok:
                return True, v
        return False, value
    if origin is Literal:
        return value in typing.get_args(annotation), value
    if annotation is type(None):
        return value is None, value
    if annotation is Any:
        return True, value
    if annotation is dict or origin is dict:  # a free-form mapping (experiment files: base, strategies)
        return isinstance(value, dict), value
    if origin is list:
        (inner,) = typing.get_args(annotation)
        if not isinstance(value, list):
            return False, value
        out = []
        for x in value:
            ok, v = _type_ok(x, inner)
            if not ok:
                return False, value
            out.append(v)
        return True, out
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value)
        if isinstance(value, str):  # YAML 1.1 reads `1e-4` (no dot) as a string: accept what is plainly a number
            try:
                return True, float(value.strip().replace("_", ""))
            except ValueError:
                return False, value
        return False, value
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if annotation is bool:
        return isinstance(value, bool), value
    if annotation is str:
        return isinstance(value, str), value
    return False, value


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return "null"
    if origin is list:
        return f"a list of {_describe(typing.get_args(annotation)[0])}"
    if annotation is dict or origin is dict:
        return "a mapping"
    return getattr(annotation, "__name__", str(annotation))


def _at(source: str, path: str) -> str:
    return ": ".join(p for p in (source, path) if p)


def _unknown_key(source: str, path: str, key: Any, names: list[str]) -> ConfigError:
    close = did_you_mean(key, names)
    hint = f"; did you mean {close!r}?" if close else f"; valid keys: {', '.join(names)}"
    if source:  # a file of another kind (an experiment): name the section, then the key
        return ConfigError(f"{_at(source, path)}: unknown key {key!r}{hint}")
    return ConfigError(f"unknown config key {(f'{path}.{key}' if path else str(key))!r}{hint}")


def _range_text(meta: Any) -> str:
    """The range a field's metadata allows, as ``[0, 1)``, ``> 0``, ``>= 1`` (empty when unbounded)."""
    lo = ("[", meta["ge"]) if "ge" in meta else ("(", meta["gt"]) if "gt" in meta else None
    hi = ("]", meta["le"]) if "le" in meta else (")", meta["lt"]) if "lt" in meta else None
    if lo and hi:
        return f"in {lo[0]}{lo[1]}, {hi[1]}{hi[0]}"
    if lo:
        return f"{'>=' if lo[0] == '[' else '>'} {lo[1]}"
    return f"{'<=' if hi[0] == ']' else '<'} {hi[1]}" if hi else ""


def _in_range(x: float, meta: Any) -> bool:
    """Whether the number ``x`` lies in the range of the field metadata ``meta``."""
    if "ge" in meta and not x >= meta["ge"] or "gt" in meta and not x > meta["gt"]:
        return False
    return not ("le" in meta and not x <= meta["le"] or "lt" in meta and not x < meta["lt"])


def _check_value(where: str, value: Any, meta: Any, shown: Any) -> None:
    """The one value check of every config key: finite numbers inside the field's range (no negatives unless
    ``negative_ok``), strings matching its pattern; a list is checked element by element against the range.
    A ConfigError names the key, the value as written (``shown``) and what it must be."""
    items = value if isinstance(value, list) else [value]
    rng = _range_text(meta)
    for x in items:
        if isinstance(x, bool) or x is None:
            continue
        if isinstance(x, float) and not math.isfinite(x):
            raise ConfigError(f"{where}: {x!r} is not a finite number; write a number{' ' + rng if rng else ''}"
                              " (or null where the key allows it)")
        if isinstance(x, (int, float)) and x is value and x < 0 and not meta.get("negative_ok", False):
            raise ConfigError(f"{where}: {shown!r} must not be negative{'; it must be ' + rng if rng else ''}")
        if isinstance(x, (int, float)) and not _in_range(x, meta):
            raise ConfigError(f"{where}: {shown!r} is out of range; it must be {rng}")
        if isinstance(x, str) and "pattern" in meta and not re.fullmatch(meta["pattern"], x):
            raise ConfigError(f"{where}: {x!r} is not valid; expected {meta.get('expected', meta['pattern'])}")


def build_dataclass(cls: type, raw: Any, path: str = "", source: str = "") -> Any:
    """Validate a mapping (as read from YAML) into the dataclass ``cls``, nested dataclasses included.

    Unknown keys get a did-you-mean, values are checked against the field annotations (a field's
    ``metadata["expected"]`` words what it accepts when the annotation alone would not say it well).
    ``path``: the dotted key path of ``raw``; ``source``: the file it came from, for files other than a
    config (experiment files): messages then start with it, e.g. ``exp.yaml: budget: unknown key 'max_step'``.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{_at(source, path) or 'config'}: expected a mapping of keys, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            raise _unknown_key(source, path, key, list(fields))
        where = f"{path}.{key}" if path else str(key)
        ann = hints[key]
        if dataclasses.is_dataclass(ann):
            kwargs[key] = build_dataclass(ann, value, where, source)
            continue
        ok, coerced = _type_ok(value, ann)
        if not ok:
            expected = fields[key].metadata.get("expected") or _describe(ann)
            raise ConfigError(f"{_at(source, where)}: {value!r} is not valid; expected {expected}")
        _check_value(_at(source, where), coerced, fields[key].metadata, value)
        kwargs[key] = coerced
    return cls(**kwargs)


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Validate a nested dict (as read from YAML) into a :class:`Config`."""
    return build_dataclass(Config, _drop_retired(raw)).check()


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base`` (used by `compare` strategies and --set)."""
    out = copy.deepcopy(base)  # not a JSON round trip: YAML values such as dates are no JSON (a traceback once)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_override(text: str) -> dict[str, Any]:
    """``training.max_steps=100`` -> ``{"training": {"max_steps": 100}}`` (value parsed as YAML)."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected KEY.PATH=VALUE, e.g. training.max_steps=100")
    key, value = text.split("=", 1)
    parts = key.strip().split(".")
    if not all(p.strip() for p in parts):
        raise ConfigError(f"--set {text!r}: {key!r} is not a key path; expected KEY.PATH=VALUE, e.g. training.lr=0.001")
    try:
        parsed = yaml.load(value, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as e:
        raise ConfigError(f"--set {text!r}: the value is not valid YAML ({yaml_problem(e)}); "
                          "quote it, e.g. --set 'name=\"a: b\"'") from None
    node: dict[str, Any] = {}
    cur = node
    for p in parts[:-1]:
        cur = cur.setdefault(p.strip(), {})
    cur[parts[-1].strip()] = parsed
    return node


def load_config(path: str | Path | None = None, overrides: list[str] | dict | None = None) -> Config:
    """Read a YAML/JSON config file (or the defaults when ``path`` is None) and apply overrides."""
    raw: dict[str, Any] = (read_yaml(path) or {}) if path is not None else {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config file is a mapping of sections (data:, model:, training: ...), "
                          f"not a {type(raw).__name__}")
    if isinstance(overrides, dict):
        raw = merge(raw, overrides)
    else:
        for o in overrides or []:
            raw = merge(raw, parse_override(o))
    return config_from_dict(raw)


def reference_markdown() -> str:
    """The config reference (docs/config.md), generated from the dataclasses above."""
    lines = ["# Config reference", "", "Generated by `vectorseq config --reference` from `vectorseq/config.py`.", ""]

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        rows = []
        subs = []
        for f in dataclasses.fields(cls):
            ann = hints[f.name]
            if dataclasses.is_dataclass(ann):
                subs.append((f, ann))
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            rows.append(
                f"| `{prefix}{f.name}` | {_describe(ann)} | `{json.dumps(default)}` | {f.metadata.get('doc', '')} |"
            )
        if rows:
            title = prefix.rstrip(".") or "top level"
            lines.extend([f"## {title}", "", (cls.__doc__ or "").strip(), "", "| key | type | default | meaning |",
                          "| --- | --- | --- | --- |", *rows, ""])
        for f, ann in subs:
            walk(ann, f"{prefix}{f.name}.")

    walk(Config, "")
    return "\n".join(lines)
