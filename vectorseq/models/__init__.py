"""Encoder-decoder models. :func:`build_model` turns a config and two vectorizers into a model."""
from __future__ import annotations

from typing import Any

from ..embeddings.factory import build_input_layer
from ..errors import ConfigError
from .base import EncoderOutput, Seq2Seq
from .rnn import RNNSeq2Seq
from .transformer import TransformerSeq2Seq

__all__ = ["build_model", "Seq2Seq", "EncoderOutput", "TransformerSeq2Seq", "RNNSeq2Seq"]


def build_model(cfg: Any, src_vectorizer: Any, tgt_vectorizer: Any) -> Seq2Seq:
    """Build the model of ``cfg.model`` with input layers from the embedding factory."""
    m, e = cfg.model, cfg.embeddings
    bt = cfg.training.batch_tokens
    src_in = build_input_layer(e.src, src_vectorizer, m.d_model, batch_tokens=bt)
    if m.share_embeddings:
        if src_vectorizer is not tgt_vectorizer and src_vectorizer.get_vocabulary() != tgt_vectorizer.get_vocabulary():
            raise ConfigError("model.share_embeddings needs one shared vocabulary (vectorizer.shared: true)")
        if e.src.input != "embedding" or e.src.vectors != e.tgt.vectors:
            raise ConfigError("model.share_embeddings needs the same `embedding` input on both sides")
        tgt_in = src_in
    else:
        tgt_in = build_input_layer(e.tgt, tgt_vectorizer, m.d_model, batch_tokens=bt)
    V = tgt_vectorizer.vocabulary_size()
    if m.type == "transformer":
        return TransformerSeq2Seq(src_in, tgt_in, V, d_model=m.d_model, ff_size=m.ff_size, heads=m.heads,
                                  encoder_layers=m.encoder_layers, decoder_layers=m.decoder_layers,
                                  dropout=m.dropout, attention_dropout=m.attention_dropout,
                                  tie_embeddings=m.tie_embeddings, norm=m.norm)
    return RNNSeq2Seq(src_in, tgt_in, V, d_model=m.d_model, encoder_layers=m.encoder_layers,
                      decoder_layers=m.decoder_layers, dropout=m.dropout, cell=m.rnn_cell,
                      bidirectional=m.bidirectional, attention=m.attention, tie_embeddings=m.tie_embeddings)
