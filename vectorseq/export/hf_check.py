"""How exactly a Hugging Face export reproduces its model folder: the figures the tests and the benchmark report.

    >>> from vectorseq import Translator
    >>> from vectorseq.export.hf_check import exactness, load_export
    >>> hf, tok = load_export("runs/post-hf")
    >>> exactness(Translator.load("runs/post"), hf, tok, sources, references)
    {'sentences': 1000, 'greedy_identical': 1000, 'max_abs_logit_difference': 3.1e-06, 'bleu_vectorseq': ..., ...}

Greedy outputs are compared token for token with the same length limit: transformers generates each sentence
with ``max_length`` = vectorseq's limit for it (``max_length_ratio * source ids + max_length_extra``) plus the
decoder start token, and its ``forced_eos_token_id`` ends a hypothesis at the limit exactly as vectorseq does.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import sacrebleu
import torch

from ..translator import Translator
from ..vectorizer import EOS_ID
from .huggingface import max_logit_difference


def load_export(export_dir: str | Path) -> tuple[Any, Any]:
    """(model, tokenizer) of an export, loaded the way users load it (Auto classes, no remote code)."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer  # optional heavy dependency

    model = AutoModelForSeq2SeqLM.from_pretrained(str(export_dir)).eval()
    return model, AutoTokenizer.from_pretrained(str(export_dir))


def length_limits(tr: Translator, texts: Sequence[str]) -> list[int]:
    """vectorseq's greedy/beam length limit (EOS included) for each source."""
    d = tr.config.decoding
    return [int(len(ids) * d.max_length_ratio) + d.max_length_extra for ids in tr.encode_sources(texts)]


def _until_eos(ids: list[int]) -> list[int]:
    """Generated ids after the decoder start token, up to and including the first EOS."""
    ids = ids[1:]
    return ids[: ids.index(EOS_ID) + 1] if EOS_ID in ids else ids


@torch.inference_mode()
def hf_greedy_ids(model: Any, tokenizer: Any, texts: Sequence[str], limits: Sequence[int]) -> list[list[int]]:
    """transformers' greedy ids per sentence (one at a time, so each gets its own length limit)."""
    out = []
    for text, limit in zip(texts, limits):
        enc = tokenizer([text], return_tensors="pt")
        ids = model.generate(**enc, num_beams=1, do_sample=False, max_length=limit + 1)[0].tolist()
        out.append(_until_eos(ids))
    return out


@torch.inference_mode()
def hf_translate(model: Any, tokenizer: Any, texts: Sequence[str], limits: Sequence[int], beam: int,
                 length_penalty: float = 1.0, batch_size: int = 32) -> list[str]:
    """transformers' translations, batched among sentences of the same length limit (so each sentence gets
    vectorseq's limit, as in :func:`hf_greedy_ids`)."""
    out = [""] * len(texts)
    by_limit: dict[int, list[int]] = {}
    for i, limit in enumerate(limits):
        by_limit.setdefault(limit, []).append(i)
    for limit, rows in by_limit.items():
        for j in range(0, len(rows), batch_size):
            chunk = rows[j: j + batch_size]
            enc = tokenizer([texts[i] for i in chunk], return_tensors="pt", padding=True)
            ids = model.generate(**enc, num_beams=beam, do_sample=False, length_penalty=length_penalty,
                                 max_length=limit + 1)
            for i, text in zip(chunk, tokenizer.batch_decode(ids, skip_special_tokens=True)):
                out[i] = text
    return out


def greedy_identical(tr: Translator, model: Any, tokenizer: Any, texts: Sequence[str]) -> list[bool]:
    """For each text: are vectorseq's and transformers' greedy token ids the same?"""
    ours = [h[0].tokens for h in tr.translate_hypotheses(list(texts), beam=1)]
    theirs = hf_greedy_ids(model, tokenizer, texts, length_limits(tr, texts))
    return [a == b for a, b in zip(ours, theirs)]


def exactness(tr: Translator, model: Any, tokenizer: Any, sources: Sequence[str], references: Sequence[str],
              beam: int = 5, logit_batch: int = 32) -> dict[str, Any]:
    """Greedy agreement, the largest logit difference on the first ``logit_batch`` sources (teacher forcing on
    their references) and corpus BLEU of beam search both ways, each with its own length penalty: vectorseq's
    GNMT alpha, and the one the export wrote into generation_config.json."""
    same = greedy_identical(tr, model, tokenizer, sources)
    logit_diff = max_logit_difference(tr, model, tokenizer, list(sources[:logit_batch]),
                                      targets=list(references[:logit_batch]))
    alpha, a = tr.config.decoding.length_penalty, model.generation_config.length_penalty
    ours = tr.translate(list(sources), beam=beam, length_penalty=alpha)
    theirs = hf_translate(model, tokenizer, sources, length_limits(tr, sources), beam, a)
    bleu = [sacrebleu.corpus_bleu(h, [list(references)]).score for h in (ours, theirs)]
    return {"sentences": len(sources), "greedy_identical": sum(same),
            "greedy_differing_lines": [i + 1 for i, s in enumerate(same) if not s][:20],
            "max_abs_logit_difference": logit_diff, "beam": beam, "length_penalty_gnmt_vectorseq": alpha,
            "length_penalty_transformers": a,
            "bleu_vectorseq": round(bleu[0], 2), "bleu_transformers": round(bleu[1], 2),
            "beam_outputs_identical": sum(a.strip() == b for a, b in zip(ours, theirs))}
