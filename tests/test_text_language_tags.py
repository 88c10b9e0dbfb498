"""Language tags are one reserved id in every vectorizer mode, never produced by text, never lower-cased."""
from __future__ import annotations

import pytest

from vectorseq.errors import VectorseqError
from vectorseq.text.language_tags import UNTAGGED, Tagging, language_tags, tag_token, tagging_for
from vectorseq.text.subword_sampling import SamplingSpec
from vectorseq.vectorizer import BOS_ID, TextVectorizer

TAGS = language_tags(["fr", "de", "pt_BR"])  # an upper-case letter: lower-casing would show
TEXTS = ["Two thousand and forty-one <2de>", "zweitausendeinundvierzig", "deux mille quarante et un",
         "the 21st of March, 2021", "le vingt et unième", "<2fr> dois mil e quarenta e um"] * 20

MODES = {
    "word_lower_strip": dict(split="word", standardize="lower_and_strip_punctuation"),
    "whitespace_none": dict(split="whitespace", standardize=None),
    "character_lower": dict(split="character", standardize="lower"),
    "byte": dict(split="byte", standardize=None),
    "sp_bpe": dict(split="sentencepiece", standardize=None, max_tokens=80),
    "sp_unigram_nfkc_lower": dict(split="sentencepiece", standardize="nfkc_lower", max_tokens=80,
                                  sentencepiece_model_type="unigram"),
    "word_capped": dict(split="word", standardize=None, max_tokens=12),
}


@pytest.fixture(params=list(MODES))
def vec(request) -> TextVectorizer:
    return TextVectorizer(reserved_tokens=TAGS, **MODES[request.param]).adapt(TEXTS)


def test_tags_are_one_reserved_id_that_text_never_produces(vec, tmp_path):
    ids = {tag: vec.reserved_id(tag) for tag in TAGS}
    assert len(set(ids.values())) == len(TAGS)
    assert [vec.get_vocabulary()[i] for i in ids.values()] == TAGS  # stored as written: "<2pt_BR>" keeps its case
    if vec.max_tokens is not None and vec.split_name != "byte":
        assert vec.vocabulary_size() <= vec.max_tokens  # the tags count within the cap
    encoded = vec.encode_many(TEXTS + ["<2de>", "<2pt_BR> <2fr>"])  # literal tags in text stay text
    assert not set(ids.values()) & {i for row in encoded for i in row}
    sentence = vec.encode("zweitausendeinundvierzig")
    assert Tagging(src_prefix=ids["<2de>"]).source(sentence) == [ids["<2de>"], *sentence]  # exactly one id
    assert vec.decode([ids["<2fr>"], *sentence]) == vec.decode(sentence)  # a tag is not text
    vec.save(tmp_path)
    again = TextVectorizer.load(tmp_path)
    assert {tag: again.reserved_id(tag) for tag in TAGS} == ids and again.encode_many(TEXTS) == encoded[:len(TEXTS)]


@pytest.mark.parametrize("model_type,alpha", [("bpe", 0.3), ("unigram", 0.5)])
def test_subword_sampling_never_draws_a_tag(model_type, alpha):
    vec = TextVectorizer(reserved_tokens=TAGS, split="sentencepiece", standardize=None, max_tokens=80,
                         sentencepiece_model_type=model_type).adapt(TEXTS)
    drawn = vec.sample_many(TEXTS + ["<2de> <2fr>"], SamplingSpec(alpha), seed=0, epoch=1)
    assert not {vec.reserved_id(t) for t in TAGS} & {i for row in drawn for i in row}
    assert [vec.reserved_id(t) for t in TAGS] == [4, 5, 6]  # control symbols right after the specials


def test_without_reserved_tokens_the_vocabulary_is_unchanged():
    plain = TextVectorizer(split="word").adapt(TEXTS)
    assert "reserved_tokens" not in plain.get_config()
    tagged = TextVectorizer(split="word", reserved_tokens=TAGS).adapt(TEXTS)
    assert tagged.get_vocabulary() == plain.get_vocabulary() + TAGS
    with pytest.raises(VectorseqError, match="not a reserved token"):
        plain.reserved_id("<2de>")


def test_bad_reserved_tokens_are_refused():
    for bad in (["<2 de>"], ["<2de>", "<2de>"], ["</s>"], "<2de>"):
        with pytest.raises(VectorseqError):
            TextVectorizer(reserved_tokens=bad)
    with pytest.raises(VectorseqError, match="tf_idf"):
        TextVectorizer(reserved_tokens=TAGS, output_mode="tf_idf")


def test_tagging_by_placement():
    vec = TextVectorizer(split="word", reserved_tokens=TAGS).adapt(TEXTS)
    de = vec.reserved_id(tag_token("de"))
    assert tagging_for("de", "source", vec, vec) == Tagging(src_prefix=de, tgt_start=BOS_ID)
    assert tagging_for("de", "decoder", vec, vec) == Tagging(src_prefix=None, tgt_start=de)
    assert UNTAGGED.source([7, 8]) == [7, 8]
