"""One vectorizer per language in one id space (vectorseq.language_vectorizer), on the built-in corpus."""
from __future__ import annotations

import json

import numpy as np
import pytest

from vectorseq.data.synthetic import generate_corpus
from vectorseq.errors import VectorseqError
from vectorseq.language_vectorizer import LanguageVectorizers, for_language, output_bias
from vectorseq.modelfolder import load_vectorizers, save_vectorizers
from vectorseq.text.vocabulary import NUM_SPECIAL_TOKENS, UNK_ID
from vectorseq.vectorizer import TextVectorizer

TAGS = ["<2de>", "<2fr>"]


@pytest.fixture(scope="module")
def texts():
    de, fr = generate_corpus(300, seed=4, tgt_lang="de"), generate_corpus(300, seed=4, tgt_lang="fr")
    return {"en": list(de.src), "de": list(de.tgt), "fr": list(fr.tgt)}


def _joined(texts, split="word", **kw):
    return LanguageVectorizers({lang: TextVectorizer(split=split, standardize="none", **kw).adapt(t)
                                for lang, t in texts.items()}, TAGS)


def test_languages_lie_end_to_end_after_the_specials_and_tags(texts):
    vec = _joined(texts)
    assert vec.languages == ["de", "en", "fr"]
    starts = NUM_SPECIAL_TOKENS + len(TAGS)
    for lang in vec.languages:
        start, stop = vec.range(lang)
        assert start == starts and stop - start == vec.vectorizers[lang].vocabulary_size() - NUM_SPECIAL_TOKENS
        starts = stop
    assert vec.vocabulary_size() == starts == len(vec.get_vocabulary())
    assert [vec.reserved_id(t) for t in TAGS] == [4, 5] and vec.get_vocabulary()[4:6] == TAGS
    # a token of several languages (punctuation, clock digits) has one row per language
    assert vec.get_vocabulary().count(",") == 3 and vec.get_vocabulary().count("12") == 3


@pytest.mark.parametrize("split", ["word", "sentencepiece"])
def test_each_language_encodes_into_its_own_ids_and_decodes_back(texts, split):
    kw = {"max_tokens": 200} if split == "sentencepiece" else {}
    vec = _joined(texts, split, **kw)
    for lang, sentences in texts.items():
        view, (start, stop) = vec.language(lang), vec.range(lang)
        for text, ids in zip(sentences[:50], view.encode_many(sentences[:50])):
            assert all(start <= i < stop or i == UNK_ID for i in ids), (lang, text, ids)
            local = vec.vectorizers[lang].encode(text)
            assert [i - start + NUM_SPECIAL_TOKENS if i >= NUM_SPECIAL_TOKENS else i for i in ids] == local
            assert view.decode(ids) == vec.vectorizers[lang].decode(local)
        assert view.encode_sources(sentences[:1])[0][-1] == 3  # EOS kept


def test_decoding_drops_tags_and_shows_other_languages_as_unk(texts):
    vec = _joined(texts)
    de, fr = vec.language("de"), vec.language("fr")
    ids = de.encode("vier")
    french = fr.encode("quatre")
    assert de.decode([vec.reserved_id("<2de>"), *ids, 3]) == "vier"
    assert de.decode([*ids, *french]) == "vier <unk>"


def test_output_bias_keeps_a_target_language_to_its_own_tokens(texts):
    vec = _joined(texts)
    bias = output_bias(vec, "fr")
    start, stop = vec.range("fr")
    allowed = (bias == 0).nonzero().flatten().tolist()
    assert allowed == [0, 1, 2, 3, *range(start, stop)]
    assert np.isneginf(bias.numpy()).sum() == vec.vocabulary_size() - len(allowed)
    assert output_bias(vec.vectorizers["fr"], "fr") is None and output_bias(vec, None) is None


def test_a_language_must_be_named_and_known(texts):
    vec = _joined(texts)
    for call, message in ((lambda: for_language(vec, None), "say which language"),
                          (lambda: vec.language("es"), "no vectorizer for language 'es'"),
                          (lambda: vec.encode("four"), r"call .language\(LANG\).encode")):
        with pytest.raises(VectorseqError, match=message) as err:
            call()
        assert "\n" not in str(err.value)
    one = LanguageVectorizers({"en": vec.vectorizers["en"]})
    assert for_language(one, None).lang == "en"  # one language: no need to say it
    plain = vec.vectorizers["en"]
    assert for_language(plain, "de") is plain


def test_a_model_folder_saves_and_loads_them(tmp_path, texts):
    vec = _joined(texts, "sentencepiece", max_tokens=200)
    tgt = LanguageVectorizers({k: v for k, v in vec.vectorizers.items() if k != "en"})
    save_vectorizers(tmp_path, vec, tgt, shared=False)
    src2, tgt2 = load_vectorizers(tmp_path, shared=False)
    assert src2.get_vocabulary() == vec.get_vocabulary() and src2.reserved_tokens == TAGS
    assert tgt2.languages == ["de", "fr"] and tgt2.reserved_tokens == []
    sample = texts["fr"][:20]
    assert src2.language("fr").encode_many(sample) == vec.language("fr").encode_many(sample)
    (tmp_path / "vectorizer_src" / "languages.json").write_text(json.dumps({"format": 9, "languages": ["en"]}))
    with pytest.raises(VectorseqError, match="languages.json: unknown format 9"):
        load_vectorizers(tmp_path, shared=False)
    (tmp_path / "vectorizer_src" / "languages.json").write_text("{not json")
    with pytest.raises(VectorseqError, match="not a readable per-language vectorizer file"):
        load_vectorizers(tmp_path, shared=False)
