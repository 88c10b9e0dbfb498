"""Training a model with several directions: tags, per-direction validation and test, zero-shot, the folder."""
from __future__ import annotations

import hashlib
import json

import pytest

from tests._tiny_training import quiet, tiny_config
from vectorseq.errors import VectorseqError
from vectorseq.training import train
from vectorseq.translator import Translator

MULTI = {"directions": ["en-de", "en-fr", "de-en"], "zero_shot": ["de-fr"],
         "builtin": {"n_train": 300, "n_val": 20, "n_test": 20, "seed": 1}}


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", params=["source", "decoder"])
def multi_model(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"multi_{request.param}")
    cfg = tiny_config(data={**MULTI, "tag_placement": request.param, "sampling_temperature": 5.0})
    return train(cfg, out, progress=False, log=quiet), request.param


def test_a_multilingual_run_scores_every_direction(multi_model):
    result, _ = multi_model
    by = result.metrics["test_by_direction"]
    assert set(by) == {"en-de", "en-fr", "de-en", "de-fr"}
    assert by["de-fr"]["zero_shot"] and not any(by[d].get("zero_shot") for d in ("en-de", "en-fr", "de-en"))
    mean = sum(by[d]["bleu"] for d in ("en-de", "en-fr", "de-en")) / 3
    assert result.metrics["test"]["bleu"] == pytest.approx(mean, abs=0.01) and result.metrics["test"]["directions"] == 3
    record = result.history[-1]
    assert set(record["valid_by_direction"]) == set(by) and record["valid_by_direction"]["de-fr"]["zero_shot"]
    log = [json.loads(line) for line in (result.model_dir / "train_log.jsonl").read_text().splitlines()]
    assert log[-1]["valid_bleu"] == record["valid_bleu"]
    valid = record["valid_by_direction"]  # validation BLEU: the mean over the trained directions, not zero-shot
    assert record["valid_bleu"] == pytest.approx(sum(valid[d]["bleu"] for d in ("en-de", "en-fr", "de-en")) / 3,
                                                 abs=0.01)


def test_validation_can_follow_one_chosen_direction(tmp_path):
    cfg = tiny_config(data={**MULTI, "valid_direction": "en-fr"}, training={"max_steps": 20, "valid_every": 10})
    result = train(cfg, tmp_path / "m", progress=False, log=quiet)
    for record in result.history:  # every validation's BLEU (and so the best checkpoint) is en-fr's alone
        assert record["valid_bleu"] == record["valid_by_direction"]["en-fr"]["bleu"]
    assert len(result.history) == 2


@pytest.mark.parametrize("data, message", [
    ({**MULTI, "valid_direction": "de-fr"}, "data.valid_direction: de-fr is not a trained direction"),
    ({"valid_direction": "en-de"}, "data.valid_direction needs data.directions"),
])
def test_valid_direction_must_be_a_trained_direction(data, message):
    with pytest.raises(VectorseqError, match=message):
        tiny_config(data=data)


def test_the_folder_translates_into_the_language_asked(multi_model):
    result, placement = multi_model
    tr = Translator.load(result.model_dir)
    assert tr.config.data.directions == ["en-de", "en-fr", "de-en"] and tr.config.data.tag_placement == placement
    texts = ["two thousand and forty-one", "the 21st"]
    into = {lang: tr.translate(texts, beam=1, tgt_lang=lang) for lang in ("de", "fr", "en")}
    assert all(len(v) == 2 for v in into.values())
    tag = tr.tagging("fr")
    assert (tag.src_prefix is not None) == (placement == "source")
    for bad in ("es", None):  # unknown language; several targets and none chosen
        with pytest.raises(VectorseqError) as err:
            tr.translate(texts, tgt_lang=bad)
        assert "\n" not in str(err.value)


def test_one_direction_in_a_list_is_the_bilingual_model(tmp_path):
    a = train(tiny_config(training={"max_steps": 6, "valid_every": 6}), tmp_path / "a", progress=False, log=quiet)
    b = train(tiny_config(data={"directions": ["en-de"]}, training={"max_steps": 6, "valid_every": 6}),
              tmp_path / "b", progress=False, log=quiet)
    assert _sha(a.model_dir / "model.safetensors") == _sha(b.model_dir / "model.safetensors")
    assert a.metrics["test"]["bleu"] == b.metrics["test"]["bleu"] and "test_by_direction" not in b.metrics
    assert (a.model_dir / "vectorizer_shared" / "vectorizer.json").read_text() == \
        (b.model_dir / "vectorizer_shared" / "vectorizer.json").read_text()
    with pytest.raises(VectorseqError, match="does not translate into 'fr'"):
        Translator.load(b.model_dir).translate(["two"], tgt_lang="fr")


def test_resume_continues_the_same_mix(tmp_path):
    cfg = tiny_config(data=MULTI, training={"max_steps": 8, "valid_every": 4})
    whole = train(cfg, tmp_path / "whole", progress=False, log=quiet)
    cut = tiny_config(data=MULTI, training={"max_steps": 4, "valid_every": 4})
    train(cut, tmp_path / "cut", progress=False, log=quiet, evaluate_test=False)
    resumed = train(cfg, tmp_path / "cut", progress=False, log=quiet)
    assert _sha(whole.model_dir / "checkpoints/last/model.safetensors") == \
        _sha(resumed.model_dir / "checkpoints/last/model.safetensors")


def test_cli_translates_and_evaluates_by_direction(multi_model, tmp_path, capsys):
    from vectorseq.cli import main

    result, _ = multi_model
    src = tmp_path / "in.txt"
    src.write_text("two thousand and forty-one\n\nthe 21st\n", encoding="utf-8")
    assert main(["translate", str(result.model_dir), "-i", str(src), "--tgt-lang", "fr", "--beam", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["evaluate", str(result.model_dir), "--beam", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["directions"]) == {"en-de", "en-fr", "de-en", "de-fr"} and report["mean"]["directions"] == 3
    assert report["directions"]["de-fr"]["zero_shot"]
    assert main(["evaluate", str(result.model_dir), "--beam", "1", "--direction", "fr-de"]) == 0
    assert json.loads(capsys.readouterr().out)["directions"]["fr-de"]["zero_shot"]
    assert main(["translate", str(result.model_dir), "-i", str(src), "--tgt-lang", "es"]) == 2
    err = capsys.readouterr().err.strip()
    assert "does not translate into 'es'" in err and len(err.splitlines()) == 1
