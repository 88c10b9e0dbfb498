"""Tests for vectorseq/data/synthetic.py: the built-in generated corpus."""
from __future__ import annotations

import datetime
import random
from decimal import Decimal

import pytest

from vectorseq.data import builtin_splits, describe, generate_corpus, render_pair, supported_languages
from vectorseq.errors import ConfigError, VectorseqError


# ========================================================================================================
# synthetic.py
# ========================================================================================================
@pytest.mark.parametrize(
    "kind, value, lang, expected",
    [
        ("number", 2041, "de", ("two thousand and forty-one", "zweitausendeinundvierzig")),
        ("number", 2041, "fr", ("two thousand and forty-one", "deux mille quarante et un")),
        ("ordinal", 21, "de", ("the twenty-first", "der einundzwanzigste")),
        ("ordinal", 21, "fr", ("the twenty-first", "le vingt et unième")),
        ("ordinal", 80, "fr", ("the eightieth", "le quatre-vingtième")),  # num2words says "vingtsième"
        ("ordinal", 200, "fr", ("the two hundredth", "le deux centième")),
        ("year", 1999, "de", ("in nineteen ninety-nine", "im Jahr neunzehnhundertneunundneunzig")),
        ("date", (datetime.date(2021, 3, 2), "full"), "de", ("Tuesday, March 2, 2021", "Dienstag, 2. März 2021")),
        ("date", (datetime.date(2021, 3, 2), "long"), "de", ("March 2, 2021", "2. März 2021")),
        ("date", (datetime.date(2021, 3, 2), "full"), "fr", ("Tuesday, March 2, 2021", "mardi 2 mars 2021")),
        ("time", datetime.time(15, 45), "de", ("at 3:45 PM", "um 15:45 Uhr")),  # ordinary space before PM
        ("datetime", (datetime.date(2021, 3, 2), "long", datetime.time(9, 5)), "fr",
         ("March 2, 2021 at 9:05 AM", "2 mars 2021 à 09:05")),
        ("decimal", Decimal("1234567.25"), "de", ("1,234,567.25", "1.234.567,25")),
        ("decimal", Decimal("1234.5"), "fr", ("1,234.5", "1 234,5")),  # no narrow no-break space
        ("ordinal", 21, "es", ("twenty-first", "vigésimo primero")),  # no template: bare on both sides
    ],
)
def test_known_renderings(kind, value, lang, expected):
    assert render_pair(kind, value, lang) == expected


def test_generate_corpus_is_deterministic_and_uses_no_global_rng():
    random.seed(123)
    state = random.getstate()
    a = generate_corpus(800, seed=7, tgt_lang="de")
    assert random.getstate() == state  # the global RNG was not touched
    random.seed(999)  # ... nor read
    b = generate_corpus(800, seed=7, tgt_lang="de")
    assert a.pairs() == b.pairs()
    assert generate_corpus(800, seed=8, tgt_lang="de").pairs() != a.pairs()
    assert generate_corpus(50, seed=7, tgt_lang="de").pairs() == a.pairs()[:50]  # a prefix of the same stream


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_generated_corpus_is_varied_clean_and_short(lang):
    corpus = generate_corpus(1500, seed=0, tgt_lang=lang)
    assert len(corpus) == 1500 and len(set(corpus.src)) == 1500
    lengths = [len(s.split()) for s in corpus.src + corpus.tgt]
    assert min(lengths) >= 1 and max(lengths) <= 20
    text = "".join(corpus.src + corpus.tgt)
    assert "\u202f" not in text and "\u00a0" not in text
    # Every kind shows up.
    assert any(s.startswith("the ") for s in corpus.src)  # ordinals
    assert any(s.startswith("in ") for s in corpus.src)  # years
    assert any(" at " in s for s in corpus.src)  # date and time
    assert any(s.startswith("at ") for s in corpus.src)  # times
    assert any("," in s and "." in s and s[0].isdigit() for s in corpus.src)  # decimals
    # No identity "translations" such as "697" -> "697" (a word may coincide: French "six" is "six").
    assert all(s.isalpha() for s, t in corpus.pairs() if s == t)


def test_builtin_splits_do_not_overlap():
    splits = builtin_splits(n_train=2000, n_val=200, n_test=200, seed=1, tgt_lang="fr")
    assert {k: len(v) for k, v in splits.items()} == {"train": 2000, "val": 200, "test": 200}
    train, val, test = (set(splits[k].src) for k in ("train", "val", "test"))
    assert not (train & val) and not (train & test) and not (val & test)
    # Growing the training set keeps the same test and validation sets.
    bigger = builtin_splits(n_train=3000, n_val=200, n_test=200, seed=1, tgt_lang="fr")
    assert bigger["test"].pairs() == splits["test"].pairs()
    assert bigger["val"].pairs() == splits["val"].pairs()


def test_languages_and_kinds_are_validated():
    assert {"de", "fr"} <= set(supported_languages())
    with pytest.raises(ConfigError, match="cannot generate target language 'xx'.*de, "):
        generate_corpus(10, tgt_lang="xx")
    with pytest.raises(ConfigError, match="source side is always English"):
        generate_corpus(10, tgt_lang="en")
    with pytest.raises(ConfigError, match="unknown corpus kind"):
        generate_corpus(10, kinds=("number", "color"))
    with pytest.raises(ConfigError, match=r"\['ordinal'\] cannot be rendered in 'cs'"):
        generate_corpus(10, tgt_lang="cs", kinds=("ordinal",))
    cs = generate_corpus(200, tgt_lang="cs")  # default kinds: the ones Czech supports
    assert not any(s.startswith("the ") for s in cs.src)
    only_numbers = generate_corpus(100, kinds=("number",))
    assert all(s.replace("-", " ").replace(",", "").replace(" ", "").isalpha() for s in only_numbers.src)
    with pytest.raises(VectorseqError, match="could not generate 2000 distinct pairs"):
        generate_corpus(2000, kinds=("ordinal",))  # only 999 ordinals exist


def test_describe_mentions_examples():
    text = describe("de")
    assert "num2words" in text and "'Dienstag, 2. März 2021'" in text and "zweitausendeinundvierzig" in text
