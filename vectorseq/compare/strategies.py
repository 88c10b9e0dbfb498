"""The strategy library: named ways of vectorizing, as partial configs an experiment can name.

An experiment's ``strategies`` is either a list of library names (``[learned_word, bpe_dropout]``) or a mapping
of name -> partial config, where a partial config may start from a library entry with ``from: NAME`` and
change what it needs (``{bpe_dropout_p02: {from: bpe_dropout, vectorizer: {src: {sampling_alpha: 0.2}}}}``).

Every entry is written against a word-level base (``configs/compare_multi30k_cpu.yaml``: separate word
vocabularies, learned tables, a Transformer); each changes only how the source (or both sides) become vectors.
"""
from __future__ import annotations

import copy
from typing import Any

from ..config import merge
from ..errors import ConfigError, did_you_mean

_SHARED_SUBWORDS = {"vectorizer": {"shared": True, "src": {"standardize": "none", "split": "sentencepiece",
                                                           "max_tokens": 8000}},
                    "model": {"share_embeddings": True}}

#: name -> (what it measures, partial config)
LIBRARY: dict[str, tuple[str, dict[str, Any]]] = {
    "learned_word": ("learned word embeddings (the base)", {}),
    "learned_subword": ("learned SentencePiece BPE subwords, 8k shared", _SHARED_SUBWORDS),
    "glove_frozen": ("GloVe 6B 50-d source vectors, frozen",
                     {"embeddings": {"src": {"vectors": "glove-6b-50d", "policy": "frozen"}}}),
    "glove_finetune": ("GloVe 6B 50-d source vectors, fine-tuned",
                       {"embeddings": {"src": {"vectors": "glove-6b-50d", "policy": "finetune"}}}),
    "glove_partial": ("GloVe 6B 50-d: pretrained rows frozen, the others learned",
                      {"embeddings": {"src": {"vectors": "glove-6b-50d", "policy": "partial"}}}),
    "tfidf_bag": ("a TF-IDF weighted bag of words (word order discarded)", {"embeddings": {"src": {"input": "bag"}}}),
    "tfidf_token_features": ("TF-IDF weight and IDF as token features",
                             {"embeddings": {"src": {"input": "token_features"}}}),
    "tfidf_sentence_vector": ("the TF-IDF sentence vector as an extra memory slot",
                              {"embeddings": {"src": {"input": "sentence_vector"}}}),
    "one_hot": ("a linear layer over one-hot vectors", {"embeddings": {"src": {"input": "one_hot"}}}),
    "tfidf_sentence_vector_learned_idf": ("the TF-IDF sentence vector with the IDF trained (from the corpus IDF)",
                                          {"embeddings": {"src": {"input": "sentence_vector", "idf": "learned"}}}),
    "tfidf_token_features_learned_idf": ("TF-IDF token features with the IDF trained (from the corpus IDF)",
                                         {"embeddings": {"src": {"input": "token_features", "idf": "learned"}}}),
    "tfidf_bag_learned_idf": ("a TF-IDF bag of words with the IDF trained (from the corpus IDF)",
                              {"embeddings": {"src": {"input": "bag", "idf": "learned"}}}),
    "char_ngrams": ("source words as their row plus hashed character n-grams (fastText's subword model), learned; "
                    "unseen words get vectors", {"embeddings": {"src": {"input": "char_ngrams"}}}),
    # the .bin is the experiment's: {my_ft: {from: fasttext_char_ngrams, embeddings: {src: {vectors: X.bin}}}}
    # (without vectors, training stops with a one-line error: policy finetune needs a .bin)
    "fasttext_char_ngrams": ("char_ngrams initialised from a fastText .bin (words and n-gram buckets), fine-tuned",
                             {"embeddings": {"src": {"input": "char_ngrams", "policy": "finetune"}}}),
    "bytes": ("source as UTF-8 bytes (a fixed 260-id vocabulary, no <unk>, nothing adapted); the target keeps "
              "the base's words, so against learned_word only the source vectorization differs",
              {"vectorizer": {"src": {"split": "byte", "max_tokens": None}}}),
    "gbst": ("learned segmentation (Charformer GBST) over source bytes: block sizes 1-4 weighed per byte by the "
             "translation loss, downsampled 2x; the target keeps the base's words (compare with bytes and learned_word)",
             {"vectorizer": {"src": {"split": "byte", "max_tokens": None}},
              "embeddings": {"src": {"input": "gbst", "gbst_max_block": 4, "gbst_downsample": 2}}}),
    # Kudo (2018) reports l=64, alpha=0.1 and l=inf, alpha=0.2-0.5 as good settings. Whole-lattice sampling at
    # alpha 0.1 (the SentencePiece README's example) is near-uniform over segmentations: on Multi30k it made
    # sentences ~70% longer and cost 16 BLEU at 3,000 pairs (docs/results/multi30k_learned), so the entry uses l=64.
    "subword_sampling": ("unigram subword regularization (alpha 0.1, 64-best), 8k shared, new each epoch",
                         merge(_SHARED_SUBWORDS, {"vectorizer": {"src": {
                             "sentencepiece_model_type": "unigram", "sampling_alpha": 0.1, "sampling_nbest": 64}}})),
    "bpe_dropout": ("BPE-dropout (p 0.1) over 8k shared BPE subwords, new each epoch",
                    merge(_SHARED_SUBWORDS, {"vectorizer": {"src": {"sampling_alpha": 0.1}}})),
}


def library_entry(name: str, where: str = "strategies") -> dict[str, Any]:
    """A copy of the partial config of library entry ``name`` (a one-line error names the closest entry)."""
    if name not in LIBRARY:
        hint = did_you_mean(name, LIBRARY)
        raise ConfigError(f"{where}: {name!r} is not in the strategy library"
                          + (f" (did you mean {hint!r}?)" if hint else f"; known: {', '.join(LIBRARY)}"))
    return copy.deepcopy(LIBRARY[name][1])


def resolve_strategy(name: str, override: Any, where: str) -> dict[str, Any]:
    """The partial config of one strategy: ``override`` as written, merged over its ``from:`` library entry."""
    override = dict(override or {})
    start = override.pop("from", None)
    if start is None:
        return override
    if not isinstance(start, str):
        raise ConfigError(f"{where}: {name}: from: expected the name of a library strategy, got {start!r}")
    return merge(library_entry(start, f"{where}: {name}: from"), override)


def describe(name: str) -> str | None:
    """What a library strategy measures (None for names outside the library)."""
    return LIBRARY[name][0] if name in LIBRARY else None
