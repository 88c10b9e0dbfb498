"""split="byte": a fixed UTF-8 byte vocabulary, lossless on any text, robust to invalid model output, saved."""
from __future__ import annotations

import pytest
from _text_data import MULTILINGUAL, _settings
from _tiny_training import quiet, tiny_config
from hypothesis import given
from hypothesis import strategies as st

from vectorseq import Translator
from vectorseq.config import ConfigError
from vectorseq.errors import VectorseqError
from vectorseq.text.byte_level import BYTE_OFFSET, BYTE_VOCAB_SIZE
from vectorseq.text.vocabulary import EOS_ID, UNK_ID
from vectorseq.training import train
from vectorseq.vectorizer import TextVectorizer


def _bytes_vec(**kw) -> TextVectorizer:
    return TextVectorizer(split="byte", standardize="none", **kw)


def test_ids_are_bytes_plus_four_and_the_vocabulary_is_fixed():
    v = _bytes_vec()
    assert v.is_adapted and v.vocabulary_size() == BYTE_VOCAB_SIZE == 260
    assert v.encode("Aé") == [0x41 + 4, 0xC3 + 4, 0xA9 + 4]
    assert v.tokenize("a b") == ["a", "<0x20>", "b"]
    assert v.adapt(["anything at all"]).get_vocabulary() == _bytes_vec().get_vocabulary()


def test_adapt_reads_nothing():
    def never():
        raise AssertionError("adapt read the corpus")
        yield "x"  # pragma: no cover

    assert _bytes_vec().adapt(never()).vocabulary_size() == 260


def test_no_unk_in_any_script():
    v = _bytes_vec()
    for text in MULTILINGUAL + ["\x00", "\U0010ffff", "<unk> </s>"]:
        ids = v.encode(text)
        assert UNK_ID not in ids and EOS_ID not in ids and min(ids, default=4) >= BYTE_OFFSET
        assert v.decode(ids) == text


@_settings
@given(x=st.text(max_size=60))
def test_property_round_trip_of_random_unicode(x):
    v = _bytes_vec()
    assert v.decode(v.encode(x)) == x
    assert v.decode_tokens(v.tokenize(x)) == x


@_settings
@given(raw=st.lists(st.integers(0, BYTE_VOCAB_SIZE - 1), max_size=40))
def test_property_any_model_output_decodes_without_error(raw):
    out = _bytes_vec().decode(raw)
    assert isinstance(out, str)


def test_invalid_utf8_becomes_replacement_characters():
    v = _bytes_vec()
    lone_continuation = [0x80 + 4, ord("a") + 4]
    truncated = [ord("x") + 4, 0xE6 + 4, 0x97 + 4]  # the first two bytes of a three-byte character
    assert v.decode(lone_continuation) == "\ufffda"
    assert v.decode(truncated) == "x\ufffd"
    assert v.decode([ord("o") + 4, UNK_ID, ord("k") + 4, EOS_ID, ord("z") + 4]) == "o\ufffdk"


def test_standardize_applies_before_the_bytes():
    assert TextVectorizer(split="byte", standardize="lower").decode(
        TextVectorizer(split="byte", standardize="lower").encode("ÉTÉ")) == "été"


def test_save_and_load(tmp_path):
    v = _bytes_vec(max_tokens=8000)  # a cap that holds the 260 ids is ignored
    v.save(tmp_path)
    w = TextVectorizer.load(tmp_path)
    assert w.split_name == "byte" and w.encode("日本") == v.encode("日本")


def test_damaged_byte_vocabulary_is_refused(tmp_path):
    import json

    _bytes_vec().save(tmp_path)
    path = tmp_path / "vectorizer.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["vocabulary"] = data["vocabulary"][:-1]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(VectorseqError, match="fixed byte vocabulary"):
        TextVectorizer.load(tmp_path)


@pytest.mark.parametrize("kw, match", [
    ({"max_tokens": 100}, "too small"),
    ({"min_freq": 2}, "min_freq"),
    ({"vocabulary": ["a"]}, "fixed"),
    ({"output_mode": "tf_idf"}, "idf"),
    ({"output_mode": "count", "ngrams": 2}, "ngrams"),
])
def test_settings_that_make_no_sense_are_refused(kw, match):
    with pytest.raises(VectorseqError, match=match):
        _bytes_vec(**kw)
    with pytest.raises(VectorseqError, match="not available"):
        _bytes_vec().set_vocabulary(["a"])


def test_config_refuses_min_freq_with_bytes():
    with pytest.raises(ConfigError, match="vectorizer.src.min_freq"):
        tiny_config(vectorizer={"src": {"split": "byte", "min_freq": 2}})


@pytest.mark.parametrize("model, shared", [("transformer", False), ("rnn", True)])
def test_byte_model_folder_trains_saves_and_translates(tmp_path, model, shared):
    over = {"vectorizer": {"shared": shared, "src": {"split": "byte", "max_tokens": None},
                           "tgt": {"split": "word", "standardize": "none", "max_tokens": None}},
            "model": {"type": model}, "training": {"max_steps": 4, "valid_every": 4}}
    if model == "rnn":
        over["model"].update({"rnn_cell": "gru"})
    result = train(tiny_config(**over), tmp_path, progress=False, evaluate_test=False, log=quiet)
    assert result.steps == 4
    tr = Translator.load(tmp_path)
    assert tr.src_vectorizer.split_name == "byte"
    out = tr.translate(["ein Hund läuft 🙂", "日本"], beam=2)
    assert len(out) == 2 and all(isinstance(s, str) for s in out)
