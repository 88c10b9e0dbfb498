"""The model card (``README.md``) of a Hugging Face export: data, vectorization, model, training, scores.

Everything is read from the model folder's config and ``metrics.json`` and from what the export checked; a
missing metrics file only leaves the scores out. The front matter is the Hub's model-card metadata.
"""
from __future__ import annotations

from typing import Any

import yaml

from ..config import Config


def _data(cfg: Config) -> str:
    d = cfg.data
    if d.dataset == "multi30k":
        what = f"Multi30k ({d.src_lang} -> {d.tgt_lang}; test split `{d.test_split}`)"
    elif d.dataset == "builtin":
        what = f"vectorseq's generated numbers-and-dates corpus ({d.builtin.n_train} pairs, seed {d.builtin.seed})"
    else:
        what = f"parallel files (training: `{d.train.tsv or d.train.src}`)"
    subset = f"; a {d.subset_mode} subset of {d.subset} training pairs" if d.subset else ""
    handled = "dropped" if d.on_error == "skip" else "refused"
    return f"{what}{subset}; pairs longer than {d.max_length} whitespace tokens were {handled}."


def _side(cfg: Config, side: str) -> str:
    vs = getattr(cfg.vectorizer, side)
    sampling = (f", subword sampling alpha={vs.sampling_alpha} in training" if vs.sampling_alpha is not None else "")
    return (f"SentencePiece {vs.sentencepiece_model_type}, max_tokens={vs.max_tokens}, "
            f"standardize={vs.standardize or 'none'}{sampling}")


def _vectorization(cfg: Config, meta: dict[str, Any]) -> str:
    m = meta["mapping"]
    if cfg.vectorizer.shared:
        text = f"- one vocabulary for both sides ({m['vocab_size']} ids): {_side(cfg, 'src')}"
    else:
        text = (f"- source ({m['vocab_size']} ids): {_side(cfg, 'src')}\n"
                f"- target ({m['decoder_vocab_size']} ids): {_side(cfg, 'tgt')}")
    return (text + "\n- ids: `<pad>` 0, `<unk>` 1, `<s>` 2 (decoder start), `</s>` 3 (appended to every source); "
            "`source.spm`/`target.spm` are vectorseq's SentencePiece models, `vocab.json` maps their pieces to ids")


def _model(cfg: Config, meta: dict[str, Any], metrics: dict[str, Any]) -> str:
    m, mp = cfg.model, meta["mapping"]
    params = f", {metrics['parameters']:,} parameters" if isinstance(metrics.get("parameters"), int) else ""
    return (f"Post-norm Transformer (MarianMT layout): {m.encoder_layers} encoder and {m.decoder_layers} decoder "
            f"layers, d_model {m.d_model}, {m.heads} heads, feed-forward {m.ff_size} (ReLU), dropout {m.dropout}"
            f"{params}. Embeddings: {'one table for both sides' if mp['share_encoder_decoder_embeddings'] else 'separate source and target tables'}, "
            f"output layer {'tied to' if mp['tie_word_embeddings'] else 'separate from'} the target table.")


def _training(cfg: Config, metrics: dict[str, Any]) -> str:
    t = cfg.training
    lines = [f"`vectorseq train` with AdamW (lr {t.lr}, betas {t.betas}, {t.schedule} schedule, warmup "
             f"{t.warmup_steps}), label smoothing {t.label_smoothing}, batches of {t.batch_tokens} tokens, seed {t.seed}."]
    if metrics.get("steps") is not None:
        lines.append(f"It ran {metrics['steps']} updates ({metrics.get('epochs')} epochs, "
                     f"{metrics.get('train_minutes')} minutes; stop: {metrics.get('stop_reason')}); the weights are "
                     f"those of the best validation ({t.early_stopping_metric}).")
    return " ".join(lines)


def _scores(metrics: dict[str, Any]) -> str:
    rows = []
    best = {k[len("valid_"):]: v for k, v in (metrics.get("best") or {}).items() if k.startswith("valid_")}
    for name, scores in (("validation (best, greedy)", best), ("test (configured search)", metrics.get("test") or {})):
        got = {k: scores[k] for k in ("bleu", "chrf", "bleu_lc") if isinstance(scores.get(k), (int, float))}
        if got:
            rows.append(f"| {name} | " + " | ".join(f"{got.get(k, ''):.2f}" if k in got else "" for k in
                                                    ("bleu", "chrf", "bleu_lc")) + " |")
    if not rows:
        return "No metrics.json was found in the model folder (training may not have finished)."
    return "| split | BLEU | chrF | BLEU (lowercased) |\n| --- | --- | --- | --- |\n" + "\n".join(rows)


def model_card(cfg: Config, metrics: dict[str, Any], meta: dict[str, Any], name: str) -> str:
    """The README.md of an export (``meta``: what vectorseq_export.json holds)."""
    langs = [cfg.data.src_lang, cfg.data.tgt_lang]
    front = yaml.safe_dump({"library_name": "transformers", "pipeline_tag": "translation", "language": langs,
                            "tags": ["translation", "marian", "vectorseq"]}, sort_keys=False)
    check = meta["checked"]
    config = yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True)
    return f"""---
{front}---
# {cfg.name}

A {langs[0]} -> {langs[1]} translation model trained with [vectorseq](https://pypi.org/project/vectorseq/) and
exported with `vectorseq export MODEL_DIR --format huggingface`. It is a plain MarianMT model: transformers
{meta['transformers_version']} loads it without `trust_remote_code`.

```python
from transformers import pipeline
translate = pipeline("translation", model="{name}")
print(translate("...")[0]["translation_text"])
```

## Data
{_data(cfg)}

## Vectorization
{_vectorization(cfg, meta)}

## Model
{_model(cfg, meta, metrics)}

## Training
{_training(cfg, metrics)}

## Scores (vectorseq, sacreBLEU)
{_scores(metrics)}

## Exactness of the export
The weights are vectorseq's, renumbered in the model dimension to MarianMT's sin/cos layout (an exact
reparametrization). At export time, teacher-forced logits on {check['sentences']} sentences differed from
vectorseq's by at most {check['max_abs_logit_difference']:.1e} (tolerance {check['tolerance']}), and the tokenizer
gave vectorseq's token ids. Greedy outputs are the same as `vectorseq translate --beam 1`. Differences that remain:
beam search ranks by `score / length**a` with `a = 0.75 * alpha` (vectorseq: GNMT `((5 + length) / 6)**alpha`, which
`a` approximates at typical lengths) and stops at `max_length`
(vectorseq: `{cfg.decoding.max_length_ratio} * source length + {cfg.decoding.max_length_extra}`), so beam outputs can
differ slightly; a literal `</s>`, `<pad>` or `<unk>` in the input is a special token here (text to vectorseq);
`skip_special_tokens` drops `<unk>` from outputs; the tokenizer strips the outer spaces of its output.

## Full vectorseq config
```yaml
{config}```
"""
