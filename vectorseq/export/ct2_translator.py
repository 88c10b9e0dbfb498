"""CTranslate2 as an inference engine behind the :class:`~vectorseq.translator.Translator` API.

:class:`CT2Translator` runs a folder written by :func:`vectorseq.export.export_model` with CTranslate2:

    >>> from vectorseq.export import CT2Translator
    >>> t = CT2Translator.load("runs/demo-ct2", compute_type="int8")
    >>> t.translate(["two thousand and forty-one"], beam=5)
    ['zweitausendeinundvierzig']

Text goes through our own vectorizers (the same ones the PyTorch model uses): a source becomes its ids plus
``</s>`` (as in :meth:`Translator.encode_sources`), the ids become the exported vocabulary's tokens, and the
output tokens become ids again before our vectorizer decodes them, so SentencePiece, word and character
vocabularies all round-trip exactly as with PyTorch.

Decoding rules, compared with :mod:`vectorseq.decoding`:

* start token ``<s>``, stop at ``</s>``; an empty output (``</s>`` first) is allowed (``min_decoding_length=0``);
* a source without content (an empty line, or one that standardizes to nothing: just ``</s>``) is not run
  through the model: CTranslate2 returns an empty translation for it by design, where PyTorch decodes
  something from the bare ``</s>``;
* sources are truncated at the exported ``max_positions`` (1024) tokens, and outputs stop there too
  (PyTorch grows its position table instead);
* length limit: ours forces ``</s>`` once a hypothesis has ``int(len(source ids) * max_length_ratio) +
  max_length_extra`` tokens (``</s>`` included). Here each batch decodes up to the longest limit of its
  sentences and every output is then cut to its own limit, which for greedy search (``beam=1``) gives exactly
  our outputs (up to floating-point ties: CTranslate2's kernels round differently);
* length penalty: ours is GNMT, ``score / ((5 + len) / 6) ** alpha``; CTranslate2's ``length_penalty`` is
  ``score / len ** alpha``. The config's alpha is passed through unchanged, so beam search (``beam > 1``) may
  rank finished hypotheses a little differently, and CTranslate2's beam search stops by its own rule (and
  without forced ``</s>`` at the limit). Expect nearly, not exactly, the same beam outputs;
* ``compute_type="int8"`` quantizes weights when loading (any export); ``default`` keeps the exported type.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..config import load_config
from ..errors import VectorseqError
from ..modelfolder import CONFIG_FILE, WEIGHTS_FILE, load_vectorizers

from .ctranslate2 import EXPORT_FILE, require_ctranslate2


def _vocab_file(d: Path, side: str) -> Path:
    shared = d / "shared_vocabulary.json"
    return shared if shared.is_file() else d / f"{side}_vocabulary.json"


def _max_length(n_src_ids: int, ratio: float, extra: int) -> int:
    """Our limit on output tokens (EOS included), computed in float32 as :func:`decoding._max_lengths` does."""
    return int(np.float32(n_src_ids) * np.float32(ratio)) + int(extra)


class CT2Translator:
    """An exported model run by CTranslate2; same ``translate`` API as :class:`~vectorseq.translator.Translator`."""

    def __init__(self, ct2_translator: Any, src_vectorizer: Any, tgt_vectorizer: Any, config: Any,
                 src_tokens: list[str], tgt_tokens: list[str], max_positions: int = 1024):
        self.ct2 = ct2_translator
        self.src_vectorizer, self.tgt_vectorizer = src_vectorizer, tgt_vectorizer
        self.config = config
        self.src_tokens = src_tokens
        self.tgt_index = {t: i for i, t in enumerate(tgt_tokens)}
        self.max_positions = max_positions

    @classmethod
    def load(cls, export_dir: str | Path, device: str = "cpu", compute_type: str = "default",
             intra_threads: int = 0, inter_threads: int = 1) -> "CT2Translator":
        """Load a folder written by :func:`vectorseq.export.export_model`.

        ``compute_type``: ``default`` (the exported weight type), ``int8``, ``int8_float32``, ``float32``, ...
        ``intra_threads``: threads per translation (0 = CTranslate2's default).
        """
        ctranslate2 = require_ctranslate2()
        d = Path(export_dir)
        if not (d / "model.bin").is_file() or not (d / CONFIG_FILE).is_file():
            hint = (" (this is a PyTorch model folder: export it first with `vectorseq export DIR -o OUT`)"
                    if (d / WEIGHTS_FILE).is_file() else "")
            raise VectorseqError(f"{d}: not a CTranslate2 export of a vectorseq model (needs model.bin and "
                                 f"{CONFIG_FILE}){hint}")
        meta = json.loads((d / EXPORT_FILE).read_text()) if (d / EXPORT_FILE).is_file() else {}
        cfg = load_config(d / CONFIG_FILE)
        src_vec, tgt_vec = load_vectorizers(d, cfg.vectorizer.shared)
        src_tokens = json.loads(_vocab_file(d, "source").read_text(encoding="utf-8"))
        tgt_tokens = json.loads(_vocab_file(d, "target").read_text(encoding="utf-8"))
        if len(src_tokens) != src_vec.vocabulary_size() or len(tgt_tokens) != tgt_vec.vocabulary_size():
            raise VectorseqError(f"{d}: the CTranslate2 vocabularies do not match the vectorizers; export again")
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        try:
            tr = ctranslate2.Translator(str(d), device=device, compute_type=compute_type,
                                        intra_threads=intra_threads, inter_threads=inter_threads)
        except (RuntimeError, ValueError) as e:
            raise VectorseqError(f"{d}: CTranslate2 could not load the model on {device} with compute_type "
                                 f"{compute_type!r}: {e}") from None
        return cls(tr, src_vec, tgt_vec, cfg, src_tokens, tgt_tokens, int(meta.get("max_positions", 1024)))

    # ------------------------------------------------------------------------------------------------
    def encode_sources(self, texts: Sequence[str]) -> list[list[int]]:
        return self.src_vectorizer.encode_sources(texts)

    def translate_ids(self, src_ids: list[list[int]], beam: int, n_best: int, batch_size: int,
                      length_penalty: float, max_length_ratio: float, max_length_extra: int
                      ) -> list[list[tuple[list[int], float | None]]]:
        """Per sentence, ``n_best`` (ids without EOS, score) pairs, in input order."""
        cap = self.max_positions
        limits = [max(0, min(_max_length(len(s), max_length_ratio, max_length_extra), cap) - 1) for s in src_ids]
        toks = self.src_tokens
        index = self.tgt_index
        out: list[list[tuple[list[int], float | None]]] = [[] for _ in src_ids]
        order = sorted(range(len(src_ids)), key=lambda i: len(src_ids[i]))
        for b in range(0, len(order), batch_size):
            idx = order[b: b + batch_size]
            source = [[toks[i] for i in src_ids[j][:cap]] for j in idx]
            results = self.ct2.translate_batch(
                source, beam_size=beam, num_hypotheses=n_best, length_penalty=length_penalty,
                max_decoding_length=max(1, max(limits[j] for j in idx)), min_decoding_length=0,
                max_input_length=cap, return_scores=beam > 1, max_batch_size=0)
            for j, res in zip(idx, results):
                scores = res.scores if res.scores else [None] * len(res.hypotheses)
                out[j] = [([index[t] for t in hyp][: limits[j]], s) for hyp, s in zip(res.hypotheses, scores)]
        return out

    def translate(self, texts: Sequence[str] | str, beam: int | None = None, n_best: int = 1,
                  batch_size: int | None = None, length_penalty: float | None = None) -> list:
        """Translate raw strings. ``n_best > 1`` returns a list of ``n_best`` strings per input."""
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        d = self.config.decoding
        beam = d.beam_size if beam is None else int(beam)
        if beam < 1 or n_best < 1 or n_best > beam:
            raise VectorseqError(f"translate: need 1 <= n_best ({n_best}) <= beam ({beam})")
        hyps = self.translate_ids(
            self.encode_sources(items), beam=beam, n_best=n_best, batch_size=batch_size or d.batch_size,
            length_penalty=d.length_penalty if length_penalty is None else length_penalty,
            max_length_ratio=d.max_length_ratio, max_length_extra=d.max_length_extra)
        decode = self.tgt_vectorizer.decode
        out = [decode(h[0][0]) if n_best == 1 else [decode(ids) for ids, _ in h] for h in hyps]
        return out[0] if single else out
