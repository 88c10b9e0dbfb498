"""How a text became vectors and a translation: :func:`explain` (``Translator.explain``, the server's page,
``vectorseq inspect``).

For one source text it returns an :class:`Explanation`: the source pieces with their ids, ``<unk>`` marked,
where each piece's embedding row came from (a pretrained vectors file, learned from scratch, a vocabulary
extension, ...), the count-based weights when the source input layer uses them (TF-IDF, IDF), and for each
of the ``n_best`` hypotheses its target pieces, score and cross-attention (target pieces x source columns).

    >>> ex = Translator.load("runs/demo").explain("two thousand and forty-one", n_best=2)
    >>> [p.text for p in ex.source], ex.hypotheses[0].text, len(ex.hypotheses[0].attention)

The attention is recomputed by one teacher-forced pass over each finished hypothesis
(``model.cross_attention``), so decoding itself runs its usual fast path; the pass gives the attention the
incremental decoder used (decode_step equals the full forward pass, tests/test_models.py). Rows are the
target pieces (``</s>`` included), columns the encoder memory: the source pieces for most input layers; a
bag of words has one column per distinct term (in id order), a sentence vector an extra first slot,
learned segmentation (gbst) one column per pooled block.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from .language_vectorizer import for_language
from .vectorizer import BOS_ID, EOS_ID, NUM_SPECIAL_TOKENS, PAD_ID, UNK_ID

#: where an embedding row came from
ORIGINS = ("special", "pretrained", "learned", "random", "extension", "unknown")


@dataclass
class Piece:
    """One token id of a sequence as the model saw it."""

    text: str  # the vocabulary's spelling; for <unk>, the input's own piece
    id: int
    unk: bool
    origin: str  # one of ORIGINS: how this id's embedding row was obtained
    weight: float | None = None  # count-based input layers: this piece's TF-IDF weight in this sentence
    idf: float | None = None  # count-based input layers: the IDF the layer applies to this id


@dataclass
class ExplainedHypothesis:
    text: str
    score: float | None  # the ranking score (log-probability, length-normalized under beam search)
    pieces: list[Piece]
    attention: list[list[float]]  # [len(pieces), len(columns)]: each row sums to 1


@dataclass
class Explanation:
    text: str
    source: list[Piece]  # </s> included, as the encoder reads it
    columns: list[str]  # the attention's columns (the encoder memory's positions)
    hypotheses: list[ExplainedHypothesis]
    vectorization: dict = field(default_factory=dict)  # :func:`vectorization_summary`

    @property
    def translation(self) -> str:
        return self.hypotheses[0].text if self.hypotheses else ""

    def to_dict(self) -> dict:
        return {"translation": self.translation, **asdict(self)}


# --------------------------------------------------------------------------------------------- rows
def _pretrained_rows(layer: Any, side_cfg: Any, coverage: dict | None) -> set[int] | None:
    """The ids whose rows came from the vectors file: recorded at training (coverage.json), else the frozen
    rows of a ``partial`` table (its persistent ``trainable_rows``); None when it cannot be known."""
    if coverage and coverage.get("pretrained_rows") is not None:
        return set(int(i) for i in coverage["pretrained_rows"])
    rows = getattr(layer, "trainable_rows", None)
    if rows is not None and side_cfg.policy == "partial":
        return set((~rows.cpu()).nonzero().flatten().tolist()) - set(range(NUM_SPECIAL_TOKENS))
    return None


def row_origins(ids: list[int], layer: Any, side_cfg: Any, coverage: dict | None, vocab_size: int) -> list[str]:
    """For each id, how its embedding row was obtained (see :data:`ORIGINS`)."""
    pretrained = _pretrained_rows(layer, side_cfg, coverage) if side_cfg.vectors else set()
    # rows not found in the vectors file: trained like any learned row, unless the table stayed frozen
    missing = "random" if side_cfg.policy == "frozen" else "learned"
    out = []
    for i in ids:
        if i >= vocab_size:
            out.append("extension")  # frozen vectors of a word outside the vocabulary (tools.extend_vocab)
        elif i < NUM_SPECIAL_TOKENS and i != UNK_ID:
            out.append("special")
        elif pretrained is None:
            out.append("unknown")
        else:
            out.append("pretrained" if i in pretrained else missing)
    return out


def _count_weights(layer: Any, ids: list[int]) -> tuple[list[float], list[float]] | None:
    """TF-IDF and IDF per position for a count-based input layer (one that has ``term_stats``), else None."""
    if not hasattr(layer, "term_stats"):
        return None
    t = torch.tensor([ids], dtype=torch.long, device=layer.idf.device)
    with torch.no_grad():
        st = layer.term_stats(t, t != PAD_ID)
        idf = layer.idf_weights()[t]
    return st.tfidf[0].tolist(), idf[0].tolist()


def _surface(vectorizer: Any, text: str, ids: list[int]) -> list[str] | None:
    """The input's own pieces (for ``<unk>`` ids), when the tokenizer's pieces align with the ids."""
    if getattr(vectorizer, "split_name", None) == "byte":
        return None
    try:
        toks = vectorizer.tokenize(text)
    except Exception:  # a custom split callable may refuse; the vocabulary's spelling is then shown
        return None
    return toks if len(toks) == len(ids) else None


def pieces(vectorizer: Any, ids: list[int], layer: Any, side_cfg: Any, coverage: dict | None,
           text: str | None = None) -> list[Piece]:
    """The :class:`Piece` of every id (``text``: the raw input, to show what an ``<unk>`` stood for)."""
    vocab = vectorizer.get_vocabulary()
    content = [i for i in ids if i not in (EOS_ID, BOS_ID, PAD_ID)]
    surface = _surface(vectorizer, text, content) if text is not None else None
    origins = row_origins(ids, layer, side_cfg, coverage, len(vocab))
    weights = _count_weights(layer, ids) if all(i < len(vocab) for i in ids) else None
    out, k = [], 0
    for n, i in enumerate(ids):
        spelled = vocab[i] if i < len(vocab) else None
        if i not in (EOS_ID, BOS_ID, PAD_ID):
            spelled = surface[k] if surface is not None and (i == UNK_ID or spelled is None) else spelled
            k += 1
        if getattr(vectorizer, "split_name", None) == "byte" and 4 <= i < 260:
            spelled = _byte_label(i - 4)
        piece = Piece(text=spelled if spelled is not None else f"#{i}", id=int(i), unk=i == UNK_ID,
                      origin=origins[n])
        if weights is not None:
            piece.weight, piece.idf = round(float(weights[0][n]), 6), round(float(weights[1][n]), 6)
        out.append(piece)
    return out


def _byte_label(b: int) -> str:
    return chr(b) if 32 <= b < 127 else f"<0x{b:02X}>"


# --------------------------------------------------------------------------------------------- columns
def memory_columns(layer: Any, src: list[Piece], width: int) -> list[str]:
    """Labels of the encoder memory's ``width`` positions for the source pieces ``src``."""
    labels = [p.text for p in src]
    if width == len(labels):
        return labels
    if width == len(labels) + 1 and hasattr(layer, "sentence_vector"):
        return ["[sentence]"] + labels  # the TF-IDF sentence vector is slot 0
    distinct = sorted({p.id: p.text for p in src}.items())
    if width == len(distinct):  # a bag of words: one slot per distinct term, in id order
        return [t for _, t in distinct]
    step = getattr(layer, "downsample", None)
    if step and width == -(-len(labels) // step):  # gbst: each pooled slot covers `step` pieces
        return ["".join(labels[i: i + step]) for i in range(0, len(labels), step)]
    return [f"#{i}" for i in range(width)]


# --------------------------------------------------------------------------------------------- summary
def _side_summary(vectorizer: Any, side_cfg: Any, coverage: dict | None) -> dict:
    # one vocabulary per language: the languages' vectorizers share their settings; describe the first
    one = next(iter(vectorizer.vectorizers.values())) if hasattr(vectorizer, "vectorizers") else vectorizer
    s = {"split": one.split_name, "standardize": one.standardize_name,
         "vocabulary_size": vectorizer.vocabulary_size(), "input": side_cfg.input,
         "vectors": side_cfg.vectors, "policy": side_cfg.policy}
    if hasattr(vectorizer, "vectorizers"):
        s["languages"] = {lang: v.vocabulary_size() for lang, v in vectorizer.vectorizers.items()}
    if one.split_name == "sentencepiece":
        s["sentencepiece_model_type"] = one.sentencepiece_model_type
    if side_cfg.input in ("bag", "token_features", "sentence_vector"):
        s["idf"] = side_cfg.idf
    if coverage:
        s["type_coverage"] = coverage.get("type_coverage")
        s["token_coverage"] = coverage.get("token_coverage")
    return s


def vectorization_summary(translator: Any) -> dict:
    """How each side turns text into vectors: split, vocabulary, input layer, vectors and their coverage."""
    cfg, cov = translator.config, getattr(translator, "coverage", None) or {}
    return {"shared_vocabulary": bool(cfg.vectorizer.shared),
            "src": _side_summary(translator.src_vectorizer, cfg.embeddings.src, cov.get("src")),
            "tgt": _side_summary(translator.tgt_vectorizer, cfg.embeddings.tgt, cov.get("tgt"))}


# --------------------------------------------------------------------------------------------- explain
def _attention(model: Any, src_ids: list[int], hyps: list[Any], device: Any, layer: int | None,
               start: int = BOS_ID) -> torch.Tensor:
    """``[n_hyps, T_max, S]`` cross-attention of each hypothesis (teacher-forced from ``start``, the decoder's
    first input; layers averaged unless ``layer`` picks one)."""
    T = max(len(h.tokens) for h in hyps)
    tgt_in = torch.full((len(hyps), T), PAD_ID, dtype=torch.long)
    for r, h in enumerate(hyps):
        seq = [start] + list(h.tokens[:-1])  # row t predicts tokens[t]
        tgt_in[r, : len(seq)] = torch.tensor(seq, dtype=torch.long)
    src = torch.tensor([src_ids] * len(hyps), dtype=torch.long, device=device)
    with torch.inference_mode():
        att = model.cross_attention(src, src != PAD_ID, tgt_in.to(device))  # [L, n, T, S]
    return (att.mean(0) if layer is None else att[layer]).float().cpu()


def explain(translator: Any, text: str, beam: int | None = None, n_best: int = 1, layer: int | None = None,
            tgt_lang: str | None = None, src_lang: str | None = None) -> Explanation:
    """Translate ``text`` and explain it (see the module docstring). ``layer``: one decoder layer's
    attention instead of the average over layers; ``tgt_lang`` / ``src_lang``: as for ``translate`` (a
    multilingual model's tag is shown among the source pieces when it goes there). A text without content is
    not decoded (as the CLI and the server do): it explains to one empty hypothesis."""
    cfg, cov = translator.config, getattr(translator, "coverage", None) or {}
    model = translator.model
    tag = translator.tagging(tgt_lang) if hasattr(translator, "tagging") else None
    src_ids = translator.encode_sources([text], src_lang) if src_lang else translator.encode_sources([text])
    src_ids = src_ids[0] if tag is None else tag.source(src_ids[0])
    src_vec = for_language(translator.src_vectorizer, src_lang)
    src = pieces(src_vec, src_ids, model.src_input, cfg.embeddings.src, cov.get("src"), text)
    summary = vectorization_summary(translator)
    if not text.strip():
        return Explanation(text, src, [p.text for p in src], [ExplainedHypothesis("", None, [], [])], summary)
    langs = {k: v for k, v in (("tgt_lang", tgt_lang), ("src_lang", src_lang)) if v}  # an export takes neither
    hyps = translator.translate_hypotheses([text], beam=beam, n_best=n_best, **langs)[0]
    att = _attention(model, src_ids, hyps, translator.device, layer, BOS_ID if tag is None else tag.tgt_start)
    columns = memory_columns(model.src_input, src, att.size(-1))
    tgt_vec = for_language(translator.tgt_vectorizer, translator.target_language(tgt_lang)
                           if hasattr(translator, "target_language") else None)
    out = []
    for r, h in enumerate(hyps):
        tgt = pieces(tgt_vec, list(h.tokens), model.tgt_input, cfg.embeddings.tgt, cov.get("tgt"))
        rows = [[round(float(v), 5) for v in row] for row in att[r, : len(h.tokens)].tolist()]
        out.append(ExplainedHypothesis(tgt_vec.decode(h.tokens), float(h.normalized), tgt, rows))
    return Explanation(text, src, columns, out, summary)
