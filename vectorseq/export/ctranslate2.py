"""Export a model folder to CTranslate2.

    >>> from vectorseq.export import export_model
    >>> export_model("runs/demo", "runs/demo-ct2")                       # float32 weights
    >>> export_model("runs/demo", "runs/demo-ct2-int8", quantization="int8")

The exported folder maps raw text to raw text on its own. It holds the CTranslate2 model (``model.bin``,
``config.json``, ``shared_vocabulary.json`` or ``source_vocabulary.json`` / ``target_vocabulary.json``; the
folder can be opened directly with ``ctranslate2.Translator(dir)``) and, next to it, what vectorseq needs to
turn text into tokens and back: ``config.yaml``, ``vectorizer_shared/`` (or ``vectorizer_src/`` and
``vectorizer_tgt/``) and ``vectorseq_export.json`` (format, quantization, versions, limits).
:class:`vectorseq.export.CT2Translator` loads it.

How our Transformer maps onto ``ctranslate2.specs.TransformerSpec``
--------------------------------------------------------------------
* pre-norm layers (``pre_norm=True``) with final encoder/decoder layer norms (``enc_norm``/``dec_norm``), or
  for ``model.norm: post`` post-norm layers (``pre_norm=False``, no final layer norms), ReLU feed-forward, layer-norm epsilon 1e-5 (PyTorch's default; CTranslate2's own default is 1e-6);
* self-attention: our fused ``qkv`` linear is CTranslate2's fused ``[q; k; v]`` ``linear[0]``; cross-attention:
  ``q`` is ``linear[0]`` and our fused ``kv`` is ``linear[1]`` (``[k; v]``); ``out`` is ``linear[2]``;
* embeddings: the input layer computes ``proj(table[ids] * scale)``. ``scale`` is a stored buffer (sqrt(dim)
  for learned tables, 1/std for pretrained ones), so it is exported as the float ``scale_embeddings`` of each
  side (CTranslate2 multiplies by it, as for fairseq models) and the table itself is exported unscaled; a
  projection to d_model (``linear`` or ``pad_truncate``, for vectors of another width) is folded into the
  table (``proj`` is linear, so ``proj(t * s) = proj(t) * s``). A one-hot input (a linear layer over one-hot
  vectors) is exactly a table (its weight, transposed) with scale 1;
* output projection: CTranslate2 always has its own ``decoder.projection``. Untied models export
  ``output.proj``; tied ones export the *unscaled* target table (CTranslate2 then stores it once, as an
  alias of the embedding, since the two are equal). When the tied table is narrower/wider than d_model the
  ``pre`` linear is folded in (``W @ pre``);
* positions: our sinusoidal table interleaves sin (even dims) and cos (odd dims); CTranslate2's built-in
  sinusoidal encoding (and its converters' tables, e.g. Marian's) concatenates ``[sin | cos]``. They differ,
  so our table is exported explicitly as ``position_encodings`` of ``max_positions`` rows (default 1024;
  inputs are truncated and outputs cut at that many tokens);
* vocabularies: our vocabulary lists (specials ``<pad> <unk> <s> </s>`` at ids 0..3), with
  ``unk_token``/``bos_token``/``eos_token`` and ``decoder_start_token = "<s>"``. Should a vocabulary list
  hold the same string twice, later copies are renamed so that CTranslate2's token -> id map is one-to-one
  (the CT2 translator maps ids through the exported list, never through strings of its own).

Not exportable (a :class:`~vectorseq.errors.VectorseqError` says so): RNN models (CTranslate2 runs
Transformers only) and source inputs that are not a plain table (count-based, ``char_ngrams``, ``gbst``), which
have no CTranslate2 equivalent.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch

from ..config import load_config
from ..errors import VectorseqError
from ..models.transformer import TransformerSeq2Seq, sinusoidal_positions
from ..modelfolder import CONFIG_FILE, METRICS_FILE, vectorizer_dirs
from ..translator import Translator
from .huggingface import export_huggingface
from .tables import EXPORT_FILE, input_table, output_weight, prepare_output, refuse_several_directions

FORMATS = ("ctranslate2", "huggingface")
#: files that a CTranslate2 export writes (removed first when re-exporting into the same folder)
_CT2_FILES = ("model.bin", "config.json", "shared_vocabulary.json", "source_vocabulary.json",
              "target_vocabulary.json", "vocabulary.json")
DEFAULT_MAX_POSITIONS = 1024


def require_ctranslate2() -> Any:
    """The ctranslate2 module (an optional dependency, so imported here and not at the top), or a clear error."""
    try:
        import ctranslate2  # optional heavy dependency
        from ctranslate2.specs import transformer_spec  # noqa: F401  (the converter API the export builds on)
    except ImportError:  # pragma: no cover - depends on the environment
        raise VectorseqError("the ctranslate2 export needs the ctranslate2 package: "
                             "pip install 'vectorseq[ctranslate2]' (or pip install ctranslate2)") from None
    return ctranslate2


def _np(t: torch.Tensor):
    return t.detach().to("cpu", torch.float32).contiguous().numpy().copy()


# ------------------------------------------------------------------------------------------------ checks
def check_exportable(cfg: Any) -> None:
    """Refuse configs that CTranslate2 cannot run, before any weights are read."""
    m, e = cfg.model, cfg.embeddings
    refuse_several_directions(cfg, "ctranslate2")
    if m.type != "transformer":
        raise VectorseqError(
            f"export to ctranslate2: model.type is {m.type!r}; CTranslate2 runs Transformer models only "
            "(retrain with model.type: transformer, or translate this model with `vectorseq translate`)")
    for side in ("src", "tgt"):
        kind = getattr(e, side).input
        if kind not in ("embedding", "one_hot"):
            raise VectorseqError(
                f"export to ctranslate2: embeddings.{side}.input is {kind!r}; count-based inputs (bag, "
                "token_features, sentence_vector), char_ngrams and gbst have no CTranslate2 equivalent. Only "
                "`embedding` and `one_hot` inputs can be exported; translate this model with `vectorseq translate`")


def unique_tokens(vocab: list[str]) -> list[str]:
    """The vocabulary with any repeated string renamed (``<vectorseq:ID>``), so token -> id is one-to-one."""
    seen: set[str] = set()
    out = []
    for i, tok in enumerate(vocab):
        if tok in seen or tok == "":
            tok = f"<vectorseq:{i}>"
        seen.add(tok)
        out.append(tok)
    return out


def sinusoidal_table(length: int, dim: int) -> torch.Tensor:

    return sinusoidal_positions(length, dim)


# ------------------------------------------------------------------------------------------------ spec
def build_ctranslate2_spec(model: torch.nn.Module, src_vocab: list[str], tgt_vocab: list[str],
                           max_positions: int = DEFAULT_MAX_POSITIONS) -> Any:
    """A filled ``ctranslate2.specs.TransformerSpec`` for a :class:`TransformerSeq2Seq` (not yet validated)."""
    require_ctranslate2()
    from ctranslate2.specs import common_spec, transformer_spec  # optional heavy dependency


    if not isinstance(model, TransformerSeq2Seq):
        raise VectorseqError(f"export to ctranslate2: {type(model).__name__} is not a Transformer; "
                             "CTranslate2 runs Transformer models only")
    heads = model.encoder[0].attn.h if len(model.encoder) else model.decoder[0].self_attn.h
    pre = getattr(model, "norm", "pre") == "pre"
    spec = transformer_spec.TransformerSpec.from_config(
        (len(model.encoder), len(model.decoder)), heads, pre_norm=pre,
        activation=common_spec.Activation.RELU)
    cfg = spec.config
    cfg.unk_token, cfg.bos_token, cfg.eos_token = "<unk>", "<s>", "</s>"
    cfg.decoder_start_token = "<s>"
    cfg.add_source_bos, cfg.add_source_eos = False, False  # the CT2 translator appends </s> itself
    eps = float(model.decoder[0].norm1.eps)  # every LayerNorm is built with PyTorch's default
    cfg.layer_norm_epsilon = eps

    d = model.d_model
    positions = _np(sinusoidal_table(max_positions, d))

    def linear(ls: Any, mod: torch.nn.Linear) -> None:
        ls.weight = _np(mod.weight)
        if mod.bias is not None:
            ls.bias = _np(mod.bias)

    def norm(ns: Any, mod: torch.nn.LayerNorm) -> None:
        if abs(mod.eps - eps) > 1e-12:
            raise VectorseqError("export to ctranslate2: layer norms with different epsilons")
        ns.gamma, ns.beta = _np(mod.weight), _np(mod.bias)

    # encoder
    table, scale = input_table(model.src_input, "source", "ctranslate2")
    enc = spec.encoder
    enc.embeddings[0].weight = _np(table)
    enc.scale_embeddings = scale
    enc.position_encodings.encodings = positions
    if pre:  # post-norm specs have no final layer norm (nor has the model)
        norm(enc.layer_norm, model.enc_norm)
    for ls, layer in zip(enc.layer, model.encoder):
        norm(ls.self_attention.layer_norm, layer.norm1)
        linear(ls.self_attention.linear[0], layer.attn.qkv)
        linear(ls.self_attention.linear[1], layer.attn.out)
        norm(ls.ffn.layer_norm, layer.norm2)
        linear(ls.ffn.linear_0, layer.ff[0])
        linear(ls.ffn.linear_1, layer.ff[3])

    # decoder
    table, scale = input_table(model.tgt_input, "target", "ctranslate2")
    dec = spec.decoder
    dec.embeddings.weight = _np(table)
    dec.scale_embeddings = scale
    dec.position_encodings.encodings = positions
    if pre:
        norm(dec.layer_norm, model.dec_norm)
    for ls, layer in zip(dec.layer, model.decoder):
        norm(ls.self_attention.layer_norm, layer.norm1)
        linear(ls.self_attention.linear[0], layer.self_attn.qkv)
        linear(ls.self_attention.linear[1], layer.self_attn.out)
        norm(ls.attention.layer_norm, layer.norm2)
        linear(ls.attention.linear[0], layer.cross_attn.q)
        linear(ls.attention.linear[1], layer.cross_attn.kv)
        linear(ls.attention.linear[2], layer.cross_attn.out)
        norm(ls.ffn.layer_norm, layer.norm3)
        linear(ls.ffn.linear_0, layer.ff[0])
        linear(ls.ffn.linear_1, layer.ff[3])
    dec.projection.weight = _np(output_weight(model))

    spec.register_source_vocabulary(unique_tokens(list(src_vocab)))
    spec.register_target_vocabulary(unique_tokens(list(tgt_vocab)))
    return spec


# ------------------------------------------------------------------------------------------------ export
def export_model(model_dir: str | Path, output_dir: str | Path, format: str = "ctranslate2",
                 quantization: str | None = None, max_positions: int = DEFAULT_MAX_POSITIONS) -> Path:
    """Convert a vectorseq model folder for another engine; returns the exported folder.

    ``format``: ``"ctranslate2"`` or ``"huggingface"`` (a transformers MarianMT folder, for ``model.norm:
    post`` models; see :mod:`vectorseq.export.huggingface`). ``quantization`` (ctranslate2 only): a CTranslate2 weight type (``int8``, ``int8_float32``,
    ``int8_float16``, ``int16``, ``float16``, ``bfloat16``, ``float32``) or None (float32 weights; the
    compute type can still be chosen when loading, e.g. ``compute_type="int8"``).
    """
    if format not in FORMATS:
        raise VectorseqError(f"export: unknown format {format!r}; supported: {', '.join(FORMATS)}")
    if format == "huggingface":
        if quantization is not None:
            raise VectorseqError("export: --quantization applies to --format ctranslate2 only")
        return export_huggingface(model_dir, output_dir)
    ct2 = require_ctranslate2()
    from ctranslate2.specs.model_spec import ACCEPTED_MODEL_TYPES  # optional heavy dependency

    if quantization is not None and quantization not in ACCEPTED_MODEL_TYPES:
        raise VectorseqError(f"export: quantization {quantization!r} is not one of "
                             f"{', '.join(ACCEPTED_MODEL_TYPES)}")
    if not isinstance(max_positions, int) or max_positions < 16:
        raise VectorseqError(f"export: max_positions must be an integer >= 16, got {max_positions!r}")

    src_dir = Path(model_dir)
    if not (src_dir / CONFIG_FILE).is_file():
        raise VectorseqError(f"{src_dir}: not a vectorseq model folder (no {CONFIG_FILE})")
    cfg = load_config(src_dir / CONFIG_FILE)
    check_exportable(cfg)
    tr = Translator.load(src_dir, device="cpu")
    spec = build_ctranslate2_spec(tr.model, tr.src_vectorizer.get_vocabulary(),
                                  tr.tgt_vectorizer.get_vocabulary(), max_positions=max_positions)
    try:
        spec.validate()
        spec.optimize(quantization=quantization)
    except ValueError as e:  # a spec that does not fit: a bug here, but say what happened
        raise VectorseqError(f"export to ctranslate2: the converted model is incomplete: {e}") from None

    out = Path(output_dir)
    prepare_output(src_dir, out, _CT2_FILES + (CONFIG_FILE, METRICS_FILE))
    spec.save(str(out))
    shutil.copyfile(src_dir / CONFIG_FILE, out / CONFIG_FILE)
    for s in {*vectorizer_dirs(src_dir, cfg.vectorizer.shared)}:
        shutil.copytree(s, out / s.name)
    if (src_dir / METRICS_FILE).is_file():
        shutil.copyfile(src_dir / METRICS_FILE, out / METRICS_FILE)
    meta = {
        "format": "ctranslate2",
        "ctranslate2_version": ct2.__version__,
        "quantization": quantization,
        "max_positions": max_positions,
        "source_model": str(src_dir.resolve()),
        "notes": "source ids end with </s>; decoding starts from <s>; length penalty of CTranslate2 is "
                 "score / len**alpha (vectorseq: GNMT ((5+len)/6)**alpha)",
    }
    (out / EXPORT_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return out
