"""Training with one vectorizer per language (vectorizer.per_language): the folder, translating with the source
and target language, outputs kept to the target language, zero-shot, pretrained vectors per language."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests._tiny_training import quiet, tiny_config
from vectorseq.cli import main
from vectorseq.errors import ConfigError, VectorseqError
from vectorseq.language_vectorizer import LanguageVectorizers
from vectorseq.training import train
from vectorseq.translator import Translator

MULTI = {"directions": ["en-de", "en-fr", "de-en"], "zero_shot": ["de-fr"],
         "builtin": {"n_train": 300, "n_val": 20, "n_test": 20, "seed": 1}}
WORDS = {"split": "word", "standardize": "none", "max_tokens": None}


@pytest.fixture(scope="module")
def per_language_model(tmp_path_factory):
    cfg = tiny_config(data=MULTI, vectorizer={"per_language": True, "shared": False, "tgt": WORDS},
                      training={"max_steps": 12, "valid_every": 6})
    return train(cfg, tmp_path_factory.mktemp("per_language"), progress=False, log=quiet)


def test_the_folder_holds_one_vectorizer_per_language(per_language_model):
    tr = Translator.load(per_language_model.model_dir)
    src, tgt = tr.src_vectorizer, tr.tgt_vectorizer
    assert isinstance(src, LanguageVectorizers) and isinstance(tgt, LanguageVectorizers)
    # the source side reads every source language, the zero-shot one (de) included; tags go before the source
    assert src.languages == ["de", "en"] and tgt.languages == ["de", "en", "fr"]
    assert src.reserved_tokens == ["<2de>", "<2en>", "<2fr>"] and tgt.reserved_tokens == []
    assert (per_language_model.model_dir / "vectorizer_src" / "languages.json").is_file()
    assert tr.model.src_input.token_embedding.num_embeddings == src.vocabulary_size()


def test_it_translates_with_the_source_and_target_language(per_language_model):
    tr = Translator.load(per_language_model.model_dir)
    texts = ["two thousand and forty-one", "the 21st"]
    for lang in ("de", "fr"):
        hyps = tr.translate_hypotheses(texts, beam=3, n_best=3, tgt_lang=lang, src_lang="en")
        allowed = set(tr.tgt_vectorizer.allowed_ids(lang).tolist())
        assert all(set(h.tokens) <= allowed for hs in hyps for h in hs)  # never a token of another language
    assert len(tr.translate(texts, tgt_lang="en", src_lang="de")) == 2
    for kwargs, message in (({"tgt_lang": "fr"}, "say which language the text is in"),
                            ({"tgt_lang": "fr", "src_lang": "fr"}, "no vectorizer for language 'fr'")):
        with pytest.raises(VectorseqError, match=message) as err:
            tr.translate(texts, **kwargs)
        assert "\n" not in str(err.value)


def test_every_direction_is_scored_zero_shot_included(per_language_model):
    by = per_language_model.metrics["test_by_direction"]
    assert set(by) == {"en-de", "en-fr", "de-en", "de-fr"} and by["de-fr"]["zero_shot"]
    assert set(per_language_model.history[-1]["valid_by_direction"]) == set(by)


def test_the_command_line_takes_the_source_language(per_language_model, tmp_path, capsys):
    inp, out = tmp_path / "in.txt", tmp_path / "out.txt"
    inp.write_text("vier\nzweitausendeinundvierzig\n", encoding="utf-8")
    model = str(per_language_model.model_dir)
    assert main(["translate", model, "-i", str(inp), "-o", str(out), "--tgt-lang", "en", "--src-lang", "de",
                 "--beam", "1"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    assert main(["translate", model, "-i", str(inp), "--tgt-lang", "en"]) == 2
    assert "--src-lang on the command line" in capsys.readouterr().err


def test_one_vectorizer_per_language_for_both_sides_shares_the_table(tmp_path):
    cfg = tiny_config(data=MULTI, vectorizer={"per_language": True, "shared": True},
                      model={"share_embeddings": True, "tie_embeddings": True}, training={"max_steps": 4})
    result = train(cfg, tmp_path / "m", progress=False, log=quiet)
    tr = Translator.load(result.model_dir)
    assert tr.src_vectorizer is tr.tgt_vectorizer and tr.src_vectorizer.languages == ["de", "en", "fr"]
    assert tr.model.src_input is tr.model.tgt_input


def _vectors_file(path, words, dim, seed):
    rng = np.random.default_rng(seed)
    vectors = {w: rng.normal(size=dim).round(4) for w in words}
    path.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in vectors.items()), encoding="utf-8")
    return vectors


def test_pretrained_vectors_per_language_fill_each_language_s_rows(tmp_path):
    from vectorseq.data.synthetic import generate_corpus
    corpus = generate_corpus(300, seed=1)
    en_words = {w for s in corpus.src for w in s.split() if w.isalpha()}
    de_words = {w for s in corpus.tgt for w in s.split() if w.isalpha()}
    en = _vectors_file(tmp_path / "en.vec", sorted(en_words)[:60], 16, 1)
    de = _vectors_file(tmp_path / "de.vec", sorted(de_words)[:60], 16, 2)
    files = {"en": str(tmp_path / "en.vec"), "de": str(tmp_path / "de.vec")}
    cfg = tiny_config(data=MULTI, vectorizer={"per_language": True, "shared": False, "tgt": WORDS},
                      embeddings={"src": {"vectors": files, "policy": "partial"}}, training={"max_steps": 2})
    result = train(cfg, tmp_path / "m", progress=False, log=quiet)
    tr = Translator.load(result.model_dir)
    table, vec = tr.model.src_input.token_embedding.weight.detach(), tr.src_vectorizer
    for lang, vectors in (("en", en), ("de", de)):
        view = vec.language(lang)
        hits = [w for w in vectors if len(view.encode(w)) == 1 and view.encode(w)[0] != 1][:10]  # one known token
        assert len(hits) >= 5
        for w in hits:  # frozen (partial): still exactly the file's vector after training
            assert torch.allclose(table[view.encode(w)[0]], torch.tensor(vectors[w], dtype=torch.float32), atol=1e-4)
    trainable = tr.model.src_input.trainable_rows
    start, stop = vec.range("en")
    en_rows = [i for i in range(start, stop) if vec.get_vocabulary()[i] in en]
    assert len(en_rows) >= 20 and not trainable[en_rows].any()  # rows from the file stay frozen
    assert trainable[vec.range("de")[0]:].any()  # rows without a vector learn
    assert tr.config.embeddings.src.dim == 16 and "src" in (result.model_dir / "coverage.json").read_text()


def test_vectors_of_different_widths_are_refused(tmp_path):
    _vectors_file(tmp_path / "en.vec", ["two", "four"], 16, 1)
    _vectors_file(tmp_path / "de.vec", ["zwei", "vier"], 8, 2)
    cfg = tiny_config(data=MULTI, vectorizer={"per_language": True, "shared": False, "tgt": WORDS},
                      embeddings={"src": {"vectors": {"en": str(tmp_path / "en.vec"), "de": str(tmp_path / "de.vec")}}},
                      training={"max_steps": 2})
    with pytest.raises(ConfigError, match="different widths"):
        train(cfg, tmp_path / "m", progress=False, log=quiet)


def test_the_server_refuses_a_model_of_several_directions(per_language_model):
    from vectorseq.serve.engines import load_engine
    with pytest.raises(VectorseqError, match="a model of several directions") as err:
        load_engine(per_language_model.model_dir, "pytorch", "cpu", "default")
    assert "\n" not in str(err.value)


def _write_direction_files(folder, splits, directions):
    """The built-in corpus as one file per direction, split and side: train.en-de.en, train.en-de.de, ..."""
    from vectorseq.data.synthetic import multilingual_splits
    langs = sorted({x for d in directions for x in d.split("-")})
    columns = multilingual_splits(langs, 300, 20, 20, seed=1)
    for d in directions:
        src, tgt = d.split("-")
        for ours, theirs in splits.items():
            for lang in (src, tgt):
                (folder / f"{ours}.{d}.{lang}").write_text("\n".join(columns[theirs][lang]) + "\n", encoding="utf-8")


def _templates(folder, splits):
    """data.train/valid/test as file name templates: SPLIT.{src}-{tgt}.{src} and SPLIT.{src}-{tgt}.{tgt}."""
    return {split: {side: str(folder / f"{split}.{{src}}-{{tgt}}.{{{side}}}") for side in ("src", "tgt")}
            for split in splits}


def test_several_directions_read_the_user_s_files_by_name_template(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    _write_direction_files(data, {"train": "train", "valid": "val", "test": "test"}, ["en-de", "en-fr"])
    _write_direction_files(data, {"valid": "val", "test": "test"}, ["de-fr"])  # zero-shot: no training files
    files = _templates(data, ("train", "valid", "test"))
    cfg = tiny_config(data={"dataset": "files", "directions": ["en-de", "en-fr"], "zero_shot": ["de-fr"], **files},
                      vectorizer={"per_language": True}, training={"max_steps": 4, "valid_every": 4})
    result = train(cfg, tmp_path / "m", progress=False, log=quiet)
    assert set(result.metrics["test_by_direction"]) == {"en-de", "en-fr", "de-fr"}
    assert result.metrics["test_by_direction"]["en-fr"]["sentences"] == 20
    # evaluate reads a files model's splits only inside its folder: these lie outside, so it says how instead
    assert main(["evaluate", str(result.model_dir), "--beam", "1"]) == 2
    assert "lies outside the model folder" in capsys.readouterr().err
    inside = result.model_dir / "data"
    data.rename(inside)
    text = (result.model_dir / "config.yaml").read_text(encoding="utf-8").replace(str(data), "data")
    (result.model_dir / "config.yaml").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["evaluate", str(result.model_dir), "--beam", "1", "--direction", "de-fr"]) == 0
    scores = json.loads(capsys.readouterr().out)["directions"]["de-fr"]
    assert scores["zero_shot"] and scores["sentences"] == 20


def test_several_streamed_directions_train_and_resume_exactly(tmp_path):
    import hashlib
    data = tmp_path / "data"
    data.mkdir()
    _write_direction_files(data, {"train": "train", "valid": "val"}, ["en-de", "en-fr"])
    files = _templates(data, ("train", "valid"))
    over = dict(data={"dataset": "files", "streaming": True, "window": 100, "num_workers": 1,
                      "directions": ["en-de", "en-fr"], "sampling_temperature": 5.0, **files},
                vectorizer={"per_language": True})
    whole = train(tiny_config(**over, training={"max_steps": 8, "valid_every": 4}), tmp_path / "whole",
                  progress=False, log=quiet)
    assert whole.steps == 8
    train(tiny_config(**over, training={"max_steps": 4, "valid_every": 4}), tmp_path / "cut", progress=False, log=quiet,
          evaluate_test=False)
    resumed = train(tiny_config(**over, training={"max_steps": 8, "valid_every": 4}), tmp_path / "cut",
                    progress=False, log=quiet)

    def sha(result):
        return hashlib.sha256((result.model_dir / "checkpoints/last/model.safetensors").read_bytes()).hexdigest()

    assert sha(whole) == sha(resumed)


def test_inspect_explains_a_multilingual_translation_with_its_tag(per_language_model, capsys):
    tr = Translator.load(per_language_model.model_dir)
    ex = tr.explain("two thousand", beam=2, tgt_lang="fr", src_lang="en")
    assert ex.source[0].text == "<2fr>" and ex.source[0].id == tr.src_vectorizer.reserved_id("<2fr>")
    assert [p.text for p in ex.source[1:3]] == ["two", "thousand"]
    start, stop = tr.tgt_vectorizer.range("fr")
    assert all(start <= p.id < stop or p.id < 4 for h in ex.hypotheses for p in h.pieces)
    sizes = {lang: v.vocabulary_size() for lang, v in tr.tgt_vectorizer.vectorizers.items()}
    assert ex.vectorization["tgt"]["languages"] == sizes
    assert main(["inspect", str(per_language_model.model_dir), "zwei", "--tgt-lang", "en", "--src-lang", "de",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"][0]["text"] == "<2en>"


def test_subword_sampling_draws_each_language_s_own_pieces(tmp_path):
    sp = {"split": "sentencepiece", "standardize": "none", "max_tokens": 120, "sampling_alpha": 0.1}
    cfg = tiny_config(data=MULTI, vectorizer={"per_language": True, "shared": True, "src": sp},
                      training={"max_steps": 3, "valid_every": 3})
    result = train(cfg, tmp_path / "m", progress=False, log=quiet)
    vec = Translator.load(result.model_dir).src_vectorizer
    assert all(v.split_name == "sentencepiece" and v.vocabulary_size() <= 120 for v in vec.vectorizers.values())
    view = vec.language("fr")
    texts = ["deux mille quarante et un"] * 20
    draws = view.sample_many(texts, cfg.vectorizer.src.sampling(), seed=1, epoch=0)
    start, stop = vec.range("fr")
    assert len({tuple(d) for d in draws}) > 1 and all(start <= i < stop for d in draws for i in d)
    assert {view.decode(d) for d in draws} == {texts[0]}


def test_vocabulary_extension_refuses_a_per_language_model(per_language_model):
    from vectorseq.tools.extend_vocab import extend_model_folder
    with pytest.raises(VectorseqError, match="this model has one per language") as err:
        extend_model_folder(per_language_model.model_dir, vectors="unused.vec")
    assert "\n" not in str(err.value)
