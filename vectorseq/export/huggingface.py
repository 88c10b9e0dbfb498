"""Export a model folder as a Hugging Face ``transformers`` MarianMT model.

    >>> from vectorseq.export import export_model
    >>> export_model("runs/post", "runs/post-hf", format="huggingface")
    >>> from transformers import pipeline
    >>> pipeline("translation", model="runs/post-hf")("A man rides a bike.")

The folder loads with ``AutoModelForSeq2SeqLM.from_pretrained`` and ``AutoTokenizer.from_pretrained`` (no
``trust_remote_code``: only transformers' own MarianMT classes are used) and holds ``config.json``,
``generation_config.json``, ``model.safetensors``, the tokenizer (``source.spm``, ``target.spm``, ``vocab.json``,
``target_vocab.json`` for separate vocabularies, ``tokenizer_config.json``), a model card ``README.md`` and
``vectorseq_export.json`` (provenance, and what was checked).

How our Transformer maps onto MarianMT (transformers' ``models/marian``), exactly
-----------------------------------------------------------------------------------
* layout: MarianMT is post-norm everywhere (``LN(x + F(x))``) with no final LayerNorm: our
  ``model.norm: post``. Pre-norm models are refused (see :func:`check_exportable`);
* positions: both add fixed sinusoids from position 0 with the same frequencies, but ours interleave sin (even
  dimensions) and cos (odd), MarianMT's put all sin first and all cos second. Renumbering the model
  dimension by that permutation in *every* weight that reads or writes the residual stream (columns of
  q/k/v/fc1/lm_head and of the embedding tables, rows and biases of out_proj/fc2, LayerNorm weights and biases)
  computes the same function: LayerNorm, attention and the feed-forward are all equivariant to a permutation of
  the model dimension;
* embeddings: ours are ``table[ids] * scale``. When both sides' scale is sqrt(d_model) (learned tables),
  ``scale_embedding: true`` and the tables are exported as they are; otherwise (pretrained tables scale by
  1/std) the scale is folded into the tables and ``scale_embedding: false``. Projections to d_model, one-hot
  inputs and tied tables of another width are folded as in the CTranslate2 export (:mod:`.tables`);
* vocabularies and tying: one table for both sides (``model.share_embeddings``) becomes ``model.shared``
  (``share_encoder_decoder_embeddings: true``); otherwise encoder and decoder tables are separate. The output
  layer is tied (``tie_word_embeddings: true``) when it equals the exported decoder table, else it is
  ``lm_head``; ``final_logits_bias`` is zero (we have none). Separate vocabularies of different sizes are
  both padded to the larger size (transformers 4.x gives the decoder table ``vocab_size`` rows), padded output
  rows with a bias of -1e9 (probability 0);
* attention: our fused ``qkv`` (and cross-attention ``kv``) rows split into ``q_proj``/``k_proj``/``v_proj``;
* special ids stay ours: ``<pad>`` 0, ``<unk>`` 1, ``<s>`` 2 = ``decoder_start_token_id``, ``</s>`` 3; the
  tokenizer appends only ``</s>`` to the source, as vectorseq does;
* tokenizer: ``MarianTokenizer`` runs our SentencePiece model(s) and maps pieces to our ids through
  ``vocab.json``. It reproduces our source encoding only when the source standardization is none (it has no
  lower-casing, punctuation stripping or NFKC of its own), so any other is refused, as are word, character and
  byte vectorizers, which MarianTokenizer cannot express.

Every export is checked before it is written: the transformers model's logits on a batch of sample sentences
must match ours within :data:`LOGIT_TOLERANCE` and its tokenizer must give our ids for them.

Differences that remain (written into the model card): transformers' beam search ranks finished hypotheses by
``score / length**a`` (vectorseq: GNMT ``((5 + length) / 6)**alpha``; the export sets ``a = 0.75 * alpha``, the
closest match at typical lengths, see :data:`GNMT_SLOPE`) and stops at ``max_length`` tokens
(vectorseq: ``max_length_ratio * source length + max_length_extra``), so beam outputs may differ slightly while
greedy outputs are the same; a literal ``</s>``, ``<pad>`` or ``<unk>`` typed in the input is a special token to
the tokenizer (to vectorseq, text); ``skip_special_tokens`` drops ``<unk>`` from outputs (vectorseq writes it);
MarianTokenizer strips the outer spaces of its output (a final lone ``▁`` piece decodes to a trailing space in
vectorseq).
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..config import Config, load_config
from ..errors import VectorseqError
from ..modelfolder import CONFIG_FILE, METRICS_FILE, vectorizer_dirs
from ..models.transformer import TransformerSeq2Seq
from ..text.persistence import SENTENCEPIECE_FILE
from ..translator import Translator
from ..vectorizer import BOS_ID, EOS_ID, PAD_ID
from .model_card import model_card
from .tables import EXPORT_FILE, input_table, output_weight, prepare_output, refuse_several_directions

TARGET = "huggingface"
#: the largest |logit difference| the export-time check accepts (float32 rounding is ~1e-5)
LOGIT_TOLERANCE = 1e-4
#: the model's position table length and the tokenizer's/generation's default maximum length
MAX_POSITIONS = 1024
MAX_LENGTH = 512
#: the logit bias of output rows beyond the target vocabulary (padding to the source vocabulary's size)
PADDED_LOGIT = -1e9
#: transformers ranks finished beam hypotheses by score / len**a, vectorseq by GNMT's score / ((5 + len) / 6)**alpha.
#: Their log-slopes agree where a = alpha * len / (5 + len); at a typical 15-token Multi30k output that is
#: 0.75 * alpha, which on the benchmark model gave 977 of 1,000 beam outputs identical (a = alpha: 844) and
#: BLEU within 0.05 (a = alpha: 0.46), so the exported generation config uses it (benchmarks/RESULTS.md)
GNMT_SLOPE = 15 / (5 + 15)
#: files an export writes (removed first when re-exporting into the same folder)
HF_FILES = ("config.json", "generation_config.json", "model.safetensors", "source.spm", "target.spm", "vocab.json",
            "target_vocab.json", "tokenizer_config.json", "special_tokens_map.json", "README.md")


def require_transformers() -> Any:
    """The transformers module (an optional dependency, so imported here and not at the top), or a clear error."""
    try:
        import transformers  # optional heavy dependency
        from transformers import MarianConfig, MarianMTModel, MarianTokenizer  # noqa: F401  (what the export needs)
    except ImportError:  # pragma: no cover - depends on the environment
        raise VectorseqError("the huggingface export needs the transformers package: "
                             "pip install 'vectorseq[huggingface]'") from None
    return transformers


# ------------------------------------------------------------------------------------------------ checks
def check_exportable(cfg: Config) -> None:
    """Refuse, in one line and before any weights are read, what MarianMT cannot run exactly."""
    m, v, e = cfg.model, cfg.vectorizer, cfg.embeddings
    refuse_several_directions(cfg, "huggingface")
    if m.type != "transformer":
        raise VectorseqError(f"export to huggingface: model.type is {m.type!r}; only Transformer models map onto "
                             "MarianMT (retrain with model.type: transformer and model.norm: post)")
    if m.norm != "post":
        raise VectorseqError(
            f"export to huggingface: model.norm is {m.norm!r}; transformers has no architecture that runs our "
            "pre-norm Transformer exactly (M2M100 is pre-norm, but its fixed sinusoids use other frequencies and "
            "start at position pad+1), so retrain with model.norm: post, which exports as MarianMT")
    if m.d_model % 2:
        raise VectorseqError(f"export to huggingface: model.d_model is {m.d_model}; MarianMT's sin/cos halves "
                             "need an even d_model")
    for side in ("src",) if v.shared else ("src", "tgt"):
        vs = getattr(v, side)
        if vs.split != "sentencepiece":
            raise VectorseqError(
                f"export to huggingface: vectorizer.{side}.split is {vs.split!r}; transformers' MarianTokenizer "
                f"runs SentencePiece models only, so retrain with vectorizer.{side}.split: sentencepiece")
    if v.src.standardize not in (None, "none"):
        raise VectorseqError(
            f"export to huggingface: vectorizer.src.standardize is {v.src.standardize!r}; MarianTokenizer cannot "
            "reproduce it (it feeds raw text to SentencePiece), so retrain with vectorizer.src.standardize: null")
    for side in ("src", "tgt"):
        kind = getattr(e, side).input
        if kind not in ("embedding", "one_hot"):
            raise VectorseqError(f"export to huggingface: embeddings.{side}.input is {kind!r}; MarianMT has "
                                 "token embedding tables only (embedding or one_hot inputs can be exported)")


# ------------------------------------------------------------------------------------------------ weights
def residual_permutation(d: int) -> torch.Tensor:
    """Index P with ``marian_dim[j] = our_dim[P[j]]``: our even (sin) dimensions first, then the odd (cos)."""
    return torch.cat([torch.arange(0, d, 2), torch.arange(1, d, 2)])


class _Weights:
    """Collects MarianMT's state dict from our modules, permuting the model dimension (``perm``)."""

    def __init__(self, perm: torch.Tensor):
        self.p, self.sd = perm, {}

    def put(self, name: str, t: torch.Tensor) -> None:
        self.sd[name] = t.detach().to("cpu", torch.float32).contiguous().clone()

    def reads(self, name: str, lin: torch.nn.Linear, rows: slice = slice(None)) -> None:
        """A linear layer that reads the residual stream (its input columns are permuted)."""
        self.put(f"{name}.weight", lin.weight[rows][:, self.p])
        self.put(f"{name}.bias", lin.bias[rows])

    def writes(self, name: str, lin: torch.nn.Linear) -> None:
        """A linear layer that writes to the residual stream (its output rows are permuted)."""
        self.put(f"{name}.weight", lin.weight[self.p])
        self.put(f"{name}.bias", lin.bias[self.p])

    def norm(self, name: str, ln: torch.nn.LayerNorm) -> None:
        self.put(f"{name}.weight", ln.weight[self.p])
        self.put(f"{name}.bias", ln.bias[self.p])

    def attention(self, name: str, q: tuple, k: tuple, v: tuple, out: torch.nn.Linear) -> None:
        for proj, (lin, rows) in zip(("q", "k", "v"), (q, k, v)):
            self.reads(f"{name}.{proj}_proj", lin, rows)
        self.writes(f"{name}.out_proj", out)


def _layers(w: _Weights, model: TransformerSeq2Seq) -> None:
    d = model.d_model
    thirds = [slice(i * d, (i + 1) * d) for i in range(3)]
    for i, layer in enumerate(model.encoder):
        p = f"model.encoder.layers.{i}"
        qkv = layer.attn.qkv
        w.attention(f"{p}.self_attn", (qkv, thirds[0]), (qkv, thirds[1]), (qkv, thirds[2]), layer.attn.out)
        w.norm(f"{p}.self_attn_layer_norm", layer.norm1)
        w.reads(f"{p}.fc1", layer.ff[0])
        w.writes(f"{p}.fc2", layer.ff[3])
        w.norm(f"{p}.final_layer_norm", layer.norm2)
    for i, layer in enumerate(model.decoder):
        p = f"model.decoder.layers.{i}"
        qkv, ca = layer.self_attn.qkv, layer.cross_attn
        w.attention(f"{p}.self_attn", (qkv, thirds[0]), (qkv, thirds[1]), (qkv, thirds[2]), layer.self_attn.out)
        w.norm(f"{p}.self_attn_layer_norm", layer.norm1)
        # cross-attention keys/values read the encoder output, which is the (permuted) residual stream too
        w.attention(f"{p}.encoder_attn", (ca.q, slice(None)), (ca.kv, thirds[0]), (ca.kv, thirds[1]), ca.out)
        w.norm(f"{p}.encoder_attn_layer_norm", layer.norm2)
        w.reads(f"{p}.fc1", layer.ff[0])
        w.writes(f"{p}.fc2", layer.ff[3])
        w.norm(f"{p}.final_layer_norm", layer.norm3)


def _embeddings(w: _Weights, model: TransformerSeq2Seq, same_vocab: bool) -> dict[str, Any]:
    """Embedding tables and output layer into ``w``; returns the MarianConfig settings they imply."""
    src, s_src = input_table(model.src_input, "source", TARGET)
    tgt, s_tgt = input_table(model.tgt_input, "target", TARGET)
    out = output_weight(model)
    root = math.sqrt(model.d_model)
    scaled = all(abs(s - root) <= 1e-6 * root for s in (s_src, s_tgt))
    if not scaled:  # MarianMT has one scale for both sides, sqrt(d) or 1: fold ours into the tables
        src, tgt = src * s_src, tgt * s_tgt
    src, tgt, out = src[:, w.p], tgt[:, w.p], out[:, w.p]
    V, v_tgt = max(src.size(0), tgt.size(0)), tgt.size(0)
    # transformers 4.x builds the decoder table with vocab_size rows whatever decoder_vocab_size says, so both
    # sides get the larger size: padded source rows are never looked up (the tokenizer maps pieces to our ids
    # only) and padded target rows get a logit bias of -1e9, so their probability is exactly 0 in float32
    src, tgt, out = (F.pad(t, (0, 0, 0, V - t.size(0))) for t in (src, tgt, out))
    bias = torch.zeros(1, V)
    bias[:, v_tgt:] = PADDED_LOGIT
    shared = same_vocab and torch.equal(src, tgt)
    tied = torch.equal(tgt, out)
    if shared:
        w.put("model.shared.weight", src)
    else:
        w.put("model.encoder.embed_tokens.weight", src)
        w.put("model.decoder.embed_tokens.weight", tgt)
    if not tied:
        w.put("lm_head.weight", out)
    w.put("final_logits_bias", bias)
    return {"scale_embedding": scaled, "share_encoder_decoder_embeddings": shared, "tie_word_embeddings": tied,
            "vocab_size": V, "decoder_vocab_size": V}


def marian_config(tr: Translator, settings: dict[str, Any]) -> Any:
    """The ``transformers.MarianConfig`` of a post-norm model (``settings`` from the embeddings)."""
    from transformers import MarianConfig  # optional heavy dependency

    m, model = tr.config.model, tr.model
    heads = model.encoder[0].attn.h
    return MarianConfig(
        d_model=m.d_model, encoder_layers=len(model.encoder), decoder_layers=len(model.decoder),
        encoder_attention_heads=heads, decoder_attention_heads=heads,
        encoder_ffn_dim=m.ff_size, decoder_ffn_dim=m.ff_size, activation_function="relu",
        # our feed-forward dropout sits after the ReLU: MarianMT's activation_dropout (only used in training)
        dropout=m.dropout, attention_dropout=m.attention_dropout, activation_dropout=m.dropout,
        max_position_embeddings=MAX_POSITIONS, pad_token_id=PAD_ID, eos_token_id=EOS_ID,
        # generation settings live in generation_config.json (MarianConfig's forced_eos default 0 would be ours)
        decoder_start_token_id=BOS_ID, forced_eos_token_id=None, **settings)


def generation_config(cfg: Config) -> Any:
    """Generation defaults close to ``vectorseq translate``: our beam size, and the length penalty that
    approximates our GNMT alpha best (:data:`GNMT_SLOPE`)."""
    from transformers import GenerationConfig  # optional heavy dependency

    return GenerationConfig(decoder_start_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID,
                            forced_eos_token_id=EOS_ID, num_beams=cfg.decoding.beam_size,
                            length_penalty=round(cfg.decoding.length_penalty * GNMT_SLOPE, 4),
                            max_length=MAX_LENGTH)


def build_marian(tr: Translator) -> Any:
    """A ``transformers.MarianMTModel`` that computes what ``tr.model`` computes (checked by the caller)."""
    from transformers import MarianMTModel  # optional heavy dependency

    model = tr.model
    if not isinstance(model, TransformerSeq2Seq) or model.norm != "post":
        raise VectorseqError("export to huggingface: only post-norm Transformers map onto MarianMT "
                             "(retrain with model.norm: post)")
    w = _Weights(residual_permutation(model.d_model))
    same_vocab = tr.src_vectorizer.get_vocabulary() == tr.tgt_vectorizer.get_vocabulary()
    settings = _embeddings(w, model, same_vocab)
    _layers(w, model)
    torch.manual_seed(0)  # MarianMTModel initialises weights it then overwrites: keep the global RNG's use fixed
    hf = MarianMTModel(marian_config(tr, settings)).eval()
    missing, unexpected = hf.load_state_dict(w.sd, strict=False)
    # positions are computed by MarianMT itself; tied aliases are filled through the table they share
    left = [k for k in missing if "embed_positions" not in k and not _is_tied_alias(k, settings)]
    if unexpected or left:
        raise VectorseqError(f"export to huggingface: the MarianMT weights do not fit (missing {left[:3]}, "
                             f"unexpected {unexpected[:3]}); please report this with the model's config.yaml")
    hf.generation_config = generation_config(tr.config)
    return hf


def _is_tied_alias(key: str, settings: dict[str, Any]) -> bool:
    if key == "lm_head.weight":
        return settings["tie_word_embeddings"]
    return key.endswith("embed_tokens.weight") and settings["share_encoder_decoder_embeddings"]


# ------------------------------------------------------------------------------------------------ check
def sample_texts(tr: Translator, n: int = 8, seed: int = 0) -> list[str]:
    """Source sentences for the export-time check: random pieces of the source SentencePiece model, decoded."""
    rng = np.random.default_rng(seed)
    V = tr.src_vectorizer.vocabulary_size()
    texts = []
    for length in rng.integers(3, 16, n):
        text = tr.src_vectorizer.decode(rng.integers(4, V, length).tolist()).strip()
        texts.append(text or "a")
    return texts


def max_logit_difference(tr: Translator, hf: Any, tokenizer: Any, texts: list[str],
                         targets: list[str] | None = None) -> float:
    """max |logit(ours) - logit(transformers)| with teacher forcing: ``texts`` are the sources, ``targets``
    (default: ``texts`` again) the decoder inputs; also checks the tokenizer gives our source ids."""
    ours = tr.encode_sources(texts)
    theirs = tokenizer(texts)["input_ids"]
    if theirs != ours:
        bad = next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)
        raise VectorseqError(f"export to huggingface: the tokenizer encodes {texts[bad]!r} as {theirs[bad]} but "
                             f"vectorseq as {ours[bad]}; please report this with the model's config.yaml")
    enc = tokenizer(texts, return_tensors="pt", padding=True)
    tgt = [[BOS_ID] + tr.tgt_vectorizer.encode(t) for t in (texts if targets is None else targets)]
    T = max(map(len, tgt))
    dec = torch.tensor([t + [PAD_ID] * (T - len(t)) for t in tgt])
    with torch.inference_mode():
        a = tr.model(enc["input_ids"], enc["attention_mask"].bool(), dec)
        b = hf(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], decoder_input_ids=dec).logits
    real = dec != PAD_ID  # padded decoder positions are never read
    return float((a - b[..., : a.size(-1)]).abs()[real].max())


# ------------------------------------------------------------------------------------------------ tokenizer
def write_tokenizer(tr: Translator, model_dir: Path, out: Path) -> Any:
    """MarianTokenizer files in ``out`` (our SentencePiece models and piece -> id maps); returns the tokenizer."""
    from transformers import MarianTokenizer  # optional heavy dependency

    shared = tr.config.vectorizer.shared
    src_dir, tgt_dir = vectorizer_dirs(model_dir, shared)
    shutil.copyfile(src_dir / SENTENCEPIECE_FILE, out / "source.spm")
    shutil.copyfile(tgt_dir / SENTENCEPIECE_FILE, out / "target.spm")
    vocabs = [("vocab.json", tr.src_vectorizer)] + ([] if shared else [("target_vocab.json", tr.tgt_vectorizer)])
    for name, vec in vocabs:  # SentencePiece pieces are unique, so piece -> id is one-to-one
        ids = {piece: i for i, piece in enumerate(vec.get_vocabulary())}
        (out / name).write_text(json.dumps(ids, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    tok = MarianTokenizer(
        source_spm=str(out / "source.spm"), target_spm=str(out / "target.spm"), vocab=str(out / "vocab.json"),
        target_vocab_file=None if shared else str(out / "target_vocab.json"), separate_vocabs=not shared,
        model_max_length=MAX_LENGTH,
        # our decode joins SentencePiece pieces and nothing else: no " ." -> "." clean-up
        clean_up_tokenization_spaces=False)
    tok.save_pretrained(str(out))
    return MarianTokenizer.from_pretrained(str(out))  # what users will load, for the check


# ------------------------------------------------------------------------------------------------ export
def export_huggingface(model_dir: str | Path, output_dir: str | Path) -> Path:
    """Write a post-norm model folder as a transformers MarianMT folder (see the module docstring)."""
    transformers = require_transformers()
    src_dir = Path(model_dir)
    if not (src_dir / CONFIG_FILE).is_file():
        raise VectorseqError(f"{src_dir}: not a vectorseq model folder (no {CONFIG_FILE})")
    cfg = load_config(src_dir / CONFIG_FILE)
    check_exportable(cfg)
    tr = Translator.load(src_dir, device="cpu")
    hf = build_marian(tr)

    out = Path(output_dir)
    prepare_output(src_dir, out, HF_FILES)
    tokenizer = write_tokenizer(tr, src_dir, out)
    texts = sample_texts(tr)
    diff = max_logit_difference(tr, hf, tokenizer, texts)
    if not diff <= LOGIT_TOLERANCE:  # `not <=` also catches NaN
        raise VectorseqError(f"export to huggingface: the MarianMT logits differ from vectorseq's by {diff:.2e} "
                             f"(> {LOGIT_TOLERANCE}); please report this with the model's config.yaml")
    hf.save_pretrained(str(out))
    metrics = _read_metrics(src_dir)
    meta = {
        "format": "huggingface", "architecture": "MarianMTModel", "transformers_version": transformers.__version__,
        "torch_version": torch.__version__, "source_model": str(src_dir.resolve()),
        "checked": {"sentences": len(texts), "max_abs_logit_difference": diff, "tolerance": LOGIT_TOLERANCE},
        "mapping": {k: getattr(hf.config, k) for k in ("scale_embedding", "share_encoder_decoder_embeddings",
                                                         "tie_word_embeddings", "vocab_size", "decoder_vocab_size")},
    }
    (out / EXPORT_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    (out / "README.md").write_text(model_card(cfg, metrics, meta, out.name), encoding="utf-8")
    return out


def _read_metrics(model_dir: Path) -> dict[str, Any]:
    path = model_dir / METRICS_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):  # a damaged metrics file only costs the card its scores
        return {}
