"""The two inference engines behind the server, one interface: encode texts, decode a batch of id lists,
explain one text, describe the model.

- :class:`TorchEngine`: a model folder through :class:`~vectorseq.translator.Translator` (the same search
  as ``Translator.translate``: :func:`vectorseq.decoding.translate_ids` with the config's decoding settings);
- :class:`CT2Engine`: a ``vectorseq export`` folder through
  :class:`~vectorseq.export.ct2_translator.CT2Translator` (int8 or float32 with ``compute_type``). Its
  explanation's attention is CTranslate2's alignment head (the last decoder layer's first head, as the export
  writes it), not the average the PyTorch model gives.

Each engine is used from one thread only (the server's decode thread).
"""
from __future__ import annotations

from pathlib import Path

from ..data.directions import direction_plan
from ..decoding import translate_ids
from ..errors import VectorseqError
from ..explain import ExplainedHypothesis, Explanation, memory_columns, pieces, vectorization_summary
from ..export import CT2Translator
from ..translator import Translator
from ..vectorizer import EOS_ID

#: (text, score) per hypothesis; score None where the engine gives none (CTranslate2's greedy search)
Result = list[tuple[str, float | None]]


class TorchEngine:
    kind = "pytorch"

    def __init__(self, translator: Translator):
        self.tr = translator
        self.config = translator.config

    def encode(self, texts: list[str]) -> list[list[int]]:
        return self.tr.encode_sources(texts)

    def decode(self, ids: list[list[int]], beam: int, n_best: int) -> list[Result]:
        d = self.config.decoding
        hyps = translate_ids(self.tr.model, ids, beam_size=beam, length_penalty=d.length_penalty,
                             max_length_ratio=d.max_length_ratio, max_length_extra=d.max_length_extra,
                             n_best=n_best, batch_size=d.batch_size, device=self.tr.device)
        text = self.tr.tgt_vectorizer.decode
        return [[(text(h.tokens), float(h.normalized)) for h in hs] for hs in hyps]

    def explain(self, text: str, beam: int, n_best: int, layer: int | None) -> dict:
        return self.tr.explain(text, beam=beam, n_best=n_best, layer=layer).to_dict()

    def parameters(self) -> int:
        return self.tr.model.num_parameters()


class CT2Engine:
    kind = "ctranslate2"

    def __init__(self, translator: CT2Translator, compute_type: str):
        self.tr = translator
        self.config = translator.config
        self.compute_type = compute_type

    def encode(self, texts: list[str]) -> list[list[int]]:
        return self.tr.encode_sources(texts)

    def decode(self, ids: list[list[int]], beam: int, n_best: int) -> list[Result]:
        d = self.config.decoding
        hyps = self.tr.translate_ids(ids, beam=beam, n_best=n_best, batch_size=d.batch_size,
                                     length_penalty=d.length_penalty, max_length_ratio=d.max_length_ratio,
                                     max_length_extra=d.max_length_extra)
        text = self.tr.tgt_vectorizer.decode
        return [[(text(out), s) for out, s in hs] for hs in hyps]

    def explain(self, text: str, beam: int, n_best: int, layer: int | None) -> dict:
        """Pieces from our vectorizers, hypotheses and attention from CTranslate2 (``layer`` is ignored:
        the export keeps one alignment head)."""
        tr, cfg = self.tr, self.config
        src_ids = tr.encode_sources([text])[0]
        src = pieces(tr.src_vectorizer, src_ids, None, cfg.embeddings.src, None, text)
        hyps: list[ExplainedHypothesis] = []
        if text.strip():
            res = tr.ct2.translate_batch([[tr.src_tokens[i] for i in src_ids]], beam_size=beam, num_hypotheses=n_best,
                                         length_penalty=cfg.decoding.length_penalty, return_attention=True,
                                         return_scores=True, min_decoding_length=0)[0]
            for toks, score, att in zip(res.hypotheses, res.scores, res.attention):
                ids = [tr.tgt_index[t] for t in toks] + [EOS_ID]
                rows = [[round(float(v), 5) for v in row] for row in att]
                rows += [rows[-1]] if rows else []  # no attention row is returned for </s>: repeat the last
                tgt = pieces(tr.tgt_vectorizer, ids, None, cfg.embeddings.tgt, None)
                hyps.append(ExplainedHypothesis(tr.tgt_vectorizer.decode(ids), float(score), tgt, rows[: len(ids)]))
        else:
            hyps.append(ExplainedHypothesis("", None, [], []))
        summary = vectorization_summary(tr)
        return Explanation(text, src, memory_columns(None, src, len(src)), hyps, summary).to_dict()

    def parameters(self) -> int | None:
        return None  # not stored in an export


def load_engine(model_dir: str | Path, engine: str, device: str, compute_type: str,
                intra_threads: int = 0) -> TorchEngine | CT2Engine:
    if engine == "ctranslate2":
        return CT2Engine(CT2Translator.load(model_dir, device=device, compute_type=compute_type,
                                            intra_threads=intra_threads), compute_type)
    tr = Translator.load(model_dir, device=device)
    if direction_plan(tr.config.data).tagged:  # the request schema has no way to choose a direction yet
        raise VectorseqError(f"serve: {model_dir} is a model of several directions (data.directions), which the "
                             "server cannot route yet; use `vectorseq translate MODEL --tgt-lang XX` (and --src-lang)")
    return TorchEngine(tr)


def describe(name: str, engine: TorchEngine | CT2Engine) -> dict:
    """What ``GET /models`` says about one model."""
    cfg = engine.config
    d = cfg.decoding
    out = {"name": name, "engine": engine.kind,
           "languages": {"src": cfg.data.src_lang, "tgt": cfg.data.tgt_lang},
           "model": {"type": cfg.model.type, "d_model": cfg.model.d_model,
                     "encoder_layers": cfg.model.encoder_layers, "decoder_layers": cfg.model.decoder_layers},
           "parameters": engine.parameters(),
           "decoding": {"beam_size": d.beam_size, "length_penalty": d.length_penalty,
                        "max_length_ratio": d.max_length_ratio},
           "vectorization": vectorization_summary(engine.tr)}
    if engine.kind == "ctranslate2":
        out["compute_type"] = engine.compute_type
    return out
