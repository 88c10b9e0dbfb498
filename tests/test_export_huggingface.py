"""Hugging Face export: post-norm models as MarianMT that transformers loads and runs exactly; clear refusals.

Each supported kind is a small post-norm model trained for 200 updates on 600 Multi30k pairs (the generated
corpus when Multi30k is not on this machine): outputs are varied German starts ("Eine Frau in einem ...") that
often run into repetitions, so both the end-of-sentence and the length-limit paths of greedy search are compared.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.slow  # trains two small models (about a minute on one free core)

from _tiny_training import quiet, tiny_config  # noqa: E402

from vectorseq.cli import main  # noqa: E402
from vectorseq.config import config_from_dict  # noqa: E402
from vectorseq.data import ParallelCorpus, load_multi30k  # noqa: E402
from vectorseq.data.splits import load_splits  # noqa: E402
from vectorseq.errors import VectorseqError  # noqa: E402
from vectorseq.training import train  # noqa: E402
from vectorseq.export import EXPORT_FILE, export_model  # noqa: E402
from vectorseq.export.hf_check import exactness, greedy_identical, hf_greedy_ids, length_limits, load_export  # noqa: E402
from vectorseq.export.huggingface import max_logit_difference  # noqa: E402
from vectorseq.translator import Translator  # noqa: E402

MULTI30K = Path(os.environ.get("VECTORSEQ_MULTI30K") or Path(__file__).resolve().parents[2] / "shared/data/multi30k")
SPM = {"split": "sentencepiece", "standardize": None, "sentencepiece_model_type": "unigram"}
#: the supported kinds: one table for both sides (tied) / separate vocabularies of different sizes (untied)
KINDS = {
    "shared_tied": {"vectorizer": {"shared": True, "src": {**SPM, "max_tokens": 300}},
                    "model": {"share_embeddings": True, "tie_embeddings": True, "encoder_layers": 1}},
    "separate_untied": {"vectorizer": {"shared": False, "src": {**SPM, "max_tokens": 250},
                                       "tgt": {**SPM, "max_tokens": 320}},
                        "model": {"share_embeddings": False, "tie_embeddings": False, "encoder_layers": 2,
                                  "decoder_layers": 2}},
}


def _splits() -> tuple[dict, str]:
    """600 training, 40 validation and 60 test pairs of Multi30k (or of the generated corpus without it)."""
    if (MULTI30K / "train.en.gz").is_file():
        def part(split: str, n: int) -> ParallelCorpus:
            c = load_multi30k(split, "en", "de", data_dir=MULTI30K, download=False)
            return ParallelCorpus(c.src[:n], c.tgt[:n], {}, f"multi30k {split}[:{n}]")
        return {"train": part("train", 600), "valid": part("val", 40), "test": part("test_2016_flickr", 60)}, \
            "multi30k"
    cfg = tiny_config(data={"builtin": {"n_train": 600, "n_val": 40, "n_test": 60, "seed": 1}})
    return load_splits(cfg.data, seed=1), "builtin"


def _train(out: Path, kind: str, splits: dict, dataset: str) -> Path:
    over = KINDS[kind]
    cfg = tiny_config(
        data={"dataset": dataset}, vectorizer=over["vectorizer"],
        model={"norm": "post", "d_model": 64, "ff_size": 128, "heads": 4, "decoder_layers": 1, "dropout": 0.1,
               **over["model"]},
        training={"max_steps": 200, "valid_every": 200, "batch_tokens": 1000, "lr": 0.003, "warmup_steps": 40},
        decoding={"beam_size": 5, "batch_size": 32})
    train(cfg, out, splits=splits, progress=False, log=quiet)
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small models: one thread is faster than two busy ones
    tmp = tmp_path_factory.mktemp("hf")
    splits, dataset = _splits()
    out = {}
    for kind in KINDS:
        model_dir = _train(tmp / kind, kind, splits, dataset)
        out[kind] = (model_dir, export_model(model_dir, tmp / f"{kind}-hf", format="huggingface"))
    yield out, splits["test"]
    torch.set_num_threads(threads)


@pytest.mark.parametrize("kind", list(KINDS))
def test_transformers_reproduces_vectorseq(exported, kind):
    folders, test = exported
    model_dir, export_dir = folders[kind]
    tr = Translator.load(model_dir)
    hf, tok = load_export(export_dir)
    assert type(hf).__name__ == "MarianMTModel" and type(tok).__name__ == "MarianTokenizer"
    # the tokenizer gives vectorseq's ids (our SentencePiece model and ids, only </s> appended)
    assert tok(test.src)["input_ids"] == tr.encode_sources(test.src)
    same = greedy_identical(tr, hf, tok, test.src)
    assert all(same), [i for i, s in enumerate(same) if not s]
    assert max_logit_difference(tr, hf, tok, test.src[:32], targets=test.tgt[:32]) < 1e-4
    figures = exactness(tr, hf, tok, test.src, test.tgt, beam=5)
    assert abs(figures["bleu_vectorseq"] - figures["bleu_transformers"]) <= 0.3, figures
    # the model learned something: varied outputs, a few words right (so the comparison is not vacuous)
    greedy = tr.translate(test.src, beam=1)
    assert len(set(greedy)) > 25 and figures["bleu_vectorseq"] > 1.0, (figures, greedy[:5])
    # strings too: transformers' decode of the same ids is vectorseq's text, but for <unk> (dropped there) and
    # a trailing lone "▁" piece (MarianTokenizer strips the space it decodes to)
    theirs = tok.batch_decode(hf_greedy_ids(hf, tok, test.src, length_limits(tr, test.src)), skip_special_tokens=True)
    pairs = [(t, o.strip()) for t, o in zip(theirs, greedy) if "<unk>" not in o]
    assert len(pairs) > 30 and all(t == o for t, o in pairs), [p for p in pairs if p[0] != p[1]][:3]


@pytest.mark.parametrize("kind", list(KINDS))
def test_pipeline_translation_runs(exported, kind):
    folders, test = exported
    model_dir, export_dir = folders[kind]
    pipe = transformers.pipeline("translation", model=str(export_dir), device="cpu")
    tr = Translator.load(model_dir)
    texts = test.src[:6]
    # one sentence at a time with vectorseq's length limit (+1: the decoder start token counts in max_length)
    got = [pipe(t, num_beams=1, max_length=n + 1)[0]["translation_text"] for t, n in zip(texts, length_limits(tr, texts))]
    assert got == [o.strip() for o in tr.translate(texts, beam=1)]
    assert len(pipe(texts[:2])) == 2  # the exported generation config: vectorseq's beam size 5


def test_export_folder_layout_and_mapping(exported):
    folders, _ = exported
    _, shared = folders["shared_tied"]
    _, separate = folders["separate_untied"]
    for d in (shared, separate):
        for name in ("config.json", "generation_config.json", "model.safetensors", "source.spm", "target.spm",
                     "vocab.json", "tokenizer_config.json", "README.md"):
            assert (d / name).is_file(), (d, name)
        assert not (d / "pytorch_model.bin").exists()  # safetensors only
        meta = json.loads((d / EXPORT_FILE).read_text())
        assert meta["checked"]["max_abs_logit_difference"] < 1e-4
    cfg = json.loads((shared / "config.json").read_text())
    assert cfg["model_type"] == "marian" and cfg["share_encoder_decoder_embeddings"] is True
    assert cfg["decoder_start_token_id"] == 2 and cfg["pad_token_id"] == 0 and cfg["eos_token_id"] == 3
    assert cfg.get("tie_word_embeddings", True) is True and not (shared / "target_vocab.json").exists()
    sep = json.loads((separate / "config.json").read_text())
    assert sep["share_encoder_decoder_embeddings"] is False and sep["tie_word_embeddings"] is False
    assert (separate / "target_vocab.json").is_file()
    assert (separate / "source.spm").read_bytes() != (separate / "target.spm").read_bytes()
    gen = json.loads((shared / "generation_config.json").read_text())
    assert gen["num_beams"] == 5 and gen["decoder_start_token_id"] == 2 and gen["forced_eos_token_id"] == 3
    assert gen["length_penalty"] == 0.75  # GNMT alpha 1.0, approximated (GNMT_SLOPE)
    card = (shared / "README.md").read_text()
    for part in ("pipeline_tag: translation", "## Data", "## Vectorization", "## Training", "## Scores",
                 "Post-norm Transformer", "| test (configured search) |"):
        assert part in card, part


def test_untied_sides_and_folded_scales_stay_exact(exported, tmp_path):
    """Embedding scales other than sqrt(d_model) (pretrained tables) fold into the tables: scale_embedding off."""
    folders, test = exported
    model_dir, _ = folders["separate_untied"]
    tr = Translator.load(model_dir)
    tr.model.src_input.scale.fill_(1.7)
    tr.model.tgt_input.scale.fill_(0.6)
    tr.save(tmp_path / "scaled")
    out = export_model(tmp_path / "scaled", tmp_path / "scaled-hf", format="huggingface")
    assert json.loads((out / "config.json").read_text())["scale_embedding"] is False
    hf, tok = load_export(out)
    assert all(greedy_identical(tr, hf, tok, test.src[:20]))
    assert max_logit_difference(tr, hf, tok, test.src[:16], targets=test.tgt[:16]) < 1e-4
    export_model(tmp_path / "scaled", out, format="huggingface")  # exporting again replaces a previous export


def _folder(tmp_path: Path, **sections) -> Path:
    """A model folder holding only config.yaml: refusals come before any weights are read."""
    base = {"model": {"norm": "post"}, "training": {"max_steps": 1},
            "vectorizer": {"src": {"split": "sentencepiece", "standardize": None, "max_tokens": 100}}}
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value}
    d = tmp_path / "m"
    d.mkdir()
    config_from_dict(base).save(d / "config.yaml")
    return d


@pytest.mark.parametrize("sections,match", [
    ({"model": {"norm": "pre"}}, r"model.norm is 'pre'.*retrain with model.norm: post"),
    ({"model": {"type": "rnn"}}, r"model.type is 'rnn'"),
    ({"vectorizer": {"src": {"split": "word", "standardize": None, "max_tokens": None}}},
     r"vectorizer.src.split is 'word'.*split: sentencepiece"),
    ({"vectorizer": {"shared": False, "tgt": {"split": "character", "max_tokens": None}}},
     r"vectorizer.tgt.split is 'character'"),
    ({"vectorizer": {"src": {"split": "sentencepiece", "standardize": "lower", "max_tokens": 100}}},
     r"vectorizer.src.standardize is 'lower'.*cannot reproduce"),
    ({"vectorizer": {"src": {"split": "sentencepiece", "standardize": "nfkc", "max_tokens": 100}}},
     r"standardize is 'nfkc'"),
    ({"embeddings": {"src": {"input": "bag"}}}, r"embeddings.src.input is 'bag'"),
    ({"model": {"norm": "post", "d_model": 33, "heads": 3}}, r"even d_model"),
    ({"data": {"dataset": "builtin", "directions": ["en-de", "en-fr"]}}, r"several directions"),
])
def test_refusals_are_one_line_errors(tmp_path, sections, match):
    d = _folder(tmp_path, **sections)
    with pytest.raises(VectorseqError, match=match) as err:
        export_model(d, tmp_path / "out", format="huggingface")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def test_cli_export_and_its_refusals(exported, tmp_path, capsys):
    folders, _ = exported
    model_dir, _ = folders["shared_tied"]
    assert main(["export", str(model_dir), "--format", "huggingface", "-o", str(tmp_path / "hf")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "hf")
    assert main(["export", str(model_dir), "--format", "huggingface", "--quantization", "int8",
                 "-o", str(tmp_path / "q")]) == 2
    assert "--format ctranslate2 only" in capsys.readouterr().err
    pre = _folder(tmp_path, model={"norm": "pre"})
    assert main(["export", str(pre), "--format", "huggingface", "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: export to huggingface: model.norm is 'pre'") and "\n" not in err


def test_missing_transformers_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # `import transformers` now raises ImportError
    with pytest.raises(VectorseqError, match=r"pip install 'vectorseq\[huggingface\]'"):
        export_model(_folder(tmp_path), tmp_path / "out", format="huggingface")
