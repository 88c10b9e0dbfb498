"""The output modes of :meth:`TextVectorizer.transform` other than ``"int"``: one-hot, multi-hot, count, TF-IDF.

``"one_hot"``
    numpy ``float32`` ``[B, T, V]`` (dense, like Keras). Unlike Keras, padding positions are all-zero rows
    (so ``out.sum(-1)`` is the mask). Refused with a :class:`VectorseqError` stating the memory it would take
    when over ``ONE_HOT_MAX_BYTES`` (use ``"int"`` ids with an embedding instead).
``"multi_hot"`` / ``"count"`` / ``"tf_idf"``
    ``scipy.sparse.csr_matrix`` ``[B, V]`` (``[B, max_tokens]`` with ``pad_to_max_tokens=True``), one row
    per text. Column ``i`` is vocabulary id ``i`` — unlike Keras we keep the pad column (always zero) so
    that columns and ids share one index. As in Keras, unknown tokens are counted in the ``<unk>`` column
    and ``ngrams=`` adds n-grams (tokens joined by one space) to the vocabulary: ``ngrams=2`` means
    unigrams and bigrams, ``ngrams=(2, 3)`` means exactly bigrams and trigrams (Keras semantics: a tuple
    lists the orders; scikit-learn's ``ngram_range=(2, 3)`` is the same here, but ``(1, 3)`` differs).
    ``multi_hot`` and ``count`` are ``float32``.

    ``"tf_idf"`` follows scikit-learn: the counts go through ``sklearn``'s ``TfidfTransformer`` with the idf
    learned in ``adapt`` (:func:`vectorseq.text.vocabulary.idf_from_df`), optional ``sublinear_tf`` and
    ``tfidf_norm`` (``"l2"`` by default), as ``float64``. On texts without unknown tokens the values equal
    ``TfidfVectorizer`` with the same tokens and vocabulary. Unknown tokens count in the ``<unk>`` column,
    whose idf is the mean idf of the vocabulary (as in Keras), and take part in the norm (scikit-learn would
    ignore them). With ``idf_weights=`` given (Keras semantics) the output is ``count * idf_weights`` and by
    default not normalized (``tfidf_norm="auto"`` means ``"l2"`` for a learned idf, ``None`` for given
    weights).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse
from sklearn.feature_extraction.text import TfidfTransformer

from ..errors import VectorseqError


def human_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def one_hot(ids: np.ndarray, lengths: np.ndarray, width: int, max_bytes: int) -> np.ndarray:
    """Dense float32 ``[B, T, width]`` one-hot rows of padded ``ids`` (padding rows all zero)."""
    B, T = ids.shape
    nbytes = B * T * width * 4
    if nbytes > max_bytes:
        raise VectorseqError(
            f"output_mode='one_hot' for {B} texts x {T} positions x {width} ids would take {human_bytes(nbytes)} "
            f"(dense float32), over the {human_bytes(max_bytes)} limit (ONE_HOT_MAX_BYTES); use "
            f"output_mode='int' with an embedding layer, transform smaller batches, or lower max_tokens"
        )
    out = np.zeros((B, T, width), dtype=np.float32)
    b, t = np.nonzero(np.arange(T)[None, :] < lengths[:, None])
    out[b, t, ids[b, t]] = 1.0
    return out


def term_matrix(indices: list[int], indptr: list[int], width: int, mode: str) -> scipy.sparse.csr_matrix:
    """CSR ``[B, width]`` of term counts (``count``, ``tf_idf``) or presence (``multi_hot``) from flattened
    term ids and row pointers; float64 for ``tf_idf`` (scikit-learn's dtype), else float32."""
    dtype = np.float64 if mode == "tf_idf" else np.float32
    X = scipy.sparse.csr_matrix(
        (np.ones(len(indices), dtype=dtype), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(indptr) - 1, width),
    )
    X.sum_duplicates()  # counts; also sorts the column indices
    if mode == "multi_hot":
        X.data[:] = 1.0
    return X


def effective_norm(tfidf_norm: str, idf_given: bool) -> str | None:
    """``"auto"`` is ``"l2"`` for a learned idf and no norm for given ``idf_weights`` (Keras semantics)."""
    if tfidf_norm == "auto":
        tfidf_norm = "none" if idf_given else "l2"
    return None if tfidf_norm == "none" else tfidf_norm


def tfidf_transformer(
    idf: np.ndarray | None, width: int, norm: str | None, smooth_idf: bool, sublinear_tf: bool
) -> TfidfTransformer:
    """A scikit-learn ``TfidfTransformer`` carrying our idf (learned in one streaming pass, or given),
    zero-padded to ``width`` columns."""
    if idf is None:
        raise VectorseqError("output_mode='tf_idf' needs idf weights: call adapt(texts) or give idf_weights=")
    padded = np.zeros(width, dtype=np.float64)
    padded[: idf.shape[0]] = idf
    transformer = TfidfTransformer(norm=norm, use_idf=True, smooth_idf=smooth_idf, sublinear_tf=sublinear_tf)
    transformer.idf_ = padded
    transformer.n_features_in_ = width
    return transformer
