"""The built-in corpus: a generated English -> X translation task that needs no download.

Why it exists
-------------
Every example, test and tutorial needs *some* parallel data. Downloading Multi30k is not always possible
(offline machines, CI), so vectorseq ships a small, deterministic translation task generated on the fly
from two well-tested libraries: ``num2words`` spells numbers out in words, and ``Babel`` (the Unicode
CLDR data) formats dates, times and decimal numbers the way each language writes them. The task is real
translation in miniature: vocabulary (month and weekday names, number words), word order ("March 2" ->
"2. März"), morphology (German compounds such as "zweitausendeinundvierzig") and format conventions
("1,234.5" -> "1.234,5"). It is sized so that a small Transformer can learn it to a high BLEU in a few
minutes on a CPU.

What it contains
----------------
Each pair is one *kind* (see :data:`KINDS`); examples are English -> German:

=============  ==========================================  ==============================================
kind           English source                              German target
=============  ==========================================  ==============================================
``number``     ``two thousand and forty-one``              ``zweitausendeinundvierzig``
``ordinal``    ``the twenty-first``                        ``der einundzwanzigste``
``year``       ``in nineteen ninety-nine``                 ``im Jahr neunzehnhundertneunundneunzig``
``date``       ``Tuesday, March 2, 2021``                  ``Dienstag, 2. März 2021``
``time``       ``at 3:45 PM``                              ``um 15:45 Uhr``
``datetime``   ``March 2, 2021 at 3:45 PM``                ``2. März 2021 um 15:45 Uhr``
``decimal``    ``1,234,567.25``                            ``1.234.567,25``
=============  ==========================================  ==============================================

Dates come in four CLDR formats (:data:`DATE_FORMATS`): full as above, long ``March 2, 2021`` ->
``2. März 2021``, medium ``Mar 2, 2021`` -> ``02.03.2021`` and short ``3/2/21`` -> ``02.03.21``.
Numbers go up to 9,999, ordinals to 999, years from 1000 to 2099, dates from 1900 to 2099; decimals have
one or two decimal places. Sentences are short (1 to 10 words, 3 on average). The non-breaking spaces
that CLDR puts in some formats (``3:45\\u202fPM``, French ``1\\u202f234``) are replaced by ordinary
spaces, so that whitespace tokenization sees them.

Languages
---------
The target can be any language that both num2words and Babel support (:func:`supported_languages`),
e.g. ``de``, ``fr``, ``es``, ``it``, ``nl``, ``pt``, ``pl``, ``ru``. German and French have hand-written
templates for the little words around ordinals, years and times ("der", "im Jahr", "um ... Uhr"; "le",
"en", "à"); for other languages these kinds are rendered without them on both sides ("twenty-first" ->
"vigésimo primero"), which keeps every pair a correct translation, and ``datetime`` (which needs the word
joining a date and a time) is left out. Kinds that num2words does not
implement for a language (e.g. ordinals in Czech) are left out of the default mix; asking for them
explicitly is an error.

Determinism
-----------
All randomness comes from a local ``random.Random(seed)`` (never the global RNG), so identical
arguments give identical corpora on every machine and run. Source sentences are unique within a corpus,
and :func:`builtin_splits` draws test, validation and training pairs from one stream, so no source
sentence occurs in two splits. Test and validation come first in that stream: growing ``n_train`` does
not change the test set.
"""
from __future__ import annotations

import datetime
import functools
import random
from collections.abc import Callable, Sequence
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from num2words import CONVERTER_CLASSES, num2words

from vectorseq.data.corpus import ParallelCorpus
from vectorseq.errors import ConfigError, VectorseqError

__all__ = ["KINDS", "generate_corpus", "builtin_splits", "multilingual_splits", "describe", "render_pair",
           "supported_languages"]

#: Every kind of pair the generator can produce, in a fixed order.
KINDS = ("number", "ordinal", "year", "date", "time", "datetime", "decimal")

#: Relative frequency of each kind in the default mix (renormalized over the kinds requested).
KIND_WEIGHTS = {
    "number": 0.20,
    "ordinal": 0.10,
    "year": 0.10,
    "date": 0.30,
    "time": 0.10,
    "datetime": 0.10,
    "decimal": 0.10,
}

#: The four CLDR date formats used for ``date`` pairs, e.g. full "Tuesday, March 2, 2021",
#: long "March 2, 2021", medium "Mar 2, 2021", short "3/2/21" (en_US).
DATE_FORMATS = ("full", "long", "medium", "short")

_SOURCE_LOCALE = "en_US"  # Babel locale of the English side
_SOURCE_LANG = "en"  # num2words language of the English side

# (English template, target template) for the kinds that need a word or two around the rendering.
# Languages not listed use the bare rendering on both sides.
_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "de": {
        "ordinal": ("the {}", "der {}"),
        "year": ("in {}", "im Jahr {}"),
        "time": ("at {}", "um {} Uhr"),
        "datetime": ("{} at {}", "{} um {} Uhr"),
    },
    "fr": {
        "ordinal": ("the {}", "le {}"),
        "year": ("in {}", "en {}"),
        "time": ("at {}", "à {}"),
        "datetime": ("{} at {}", "{} à {}"),
    },
}
_BARE = ("{}", "{}")

# Spaces CLDR uses inside formats (no-break, narrow no-break, thin); mapped to an ordinary space.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})

# Known num2words slips, fixed after rendering: French ordinals of "quatre-vingts"/"deux cents" keep the
# plural s ("quatre-vingtsième"); correct French drops it ("quatre-vingtième", "deux centième").
_FIXES: dict[str, tuple[tuple[str, str], ...]] = {
    "fr": (("vingtsième", "vingtième"), ("centsième", "centième")),
}


# --------------------------------------------------------------------------------------------------------
# Languages
# --------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def supported_languages() -> tuple[str, ...]:
    """Target language codes that both num2words and Babel know (English excluded: it is the source)."""
    codes = []
    for code in sorted(CONVERTER_CLASSES):
        if code.split("_")[0] == "en":
            continue
        try:
            Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            continue
        codes.append(code)
    return tuple(codes)


def _check_language(tgt_lang: str) -> None:
    if not isinstance(tgt_lang, str) or tgt_lang not in supported_languages():
        hint = ""
        if isinstance(tgt_lang, str) and tgt_lang.split("_")[0].split("-")[0].lower() == "en":
            hint = " (the source side is always English)"
        raise ConfigError(
            f"the built-in corpus cannot generate target language {tgt_lang!r}{hint}; "
            f"use one that both num2words and Babel support: {', '.join(supported_languages())}"
        )


# --------------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=65536)
def _words(value: int, to: str, lang: str) -> str:
    """num2words with the post-fixes above, cached (num2words takes ~0.1 ms a call)."""
    text = num2words(value, to=to, lang=lang)
    for wrong, right in _FIXES.get(lang, ()):
        text = text.replace(wrong, right)
    return text.translate(_SPACES)


def _templated(kind: str, lang: str, src: str, tgt: str) -> tuple[str, str]:
    src_template, tgt_template = _TEMPLATES.get(lang, {}).get(kind, _BARE)
    return src_template.format(src), tgt_template.format(tgt)


def _render_number(value: int, lang: str) -> tuple[str, str]:
    return _words(value, "cardinal", _SOURCE_LANG), _words(value, "cardinal", lang)


def _render_ordinal(value: int, lang: str) -> tuple[str, str]:
    return _templated("ordinal", lang, _words(value, "ordinal", _SOURCE_LANG), _words(value, "ordinal", lang))


def _render_year(value: int, lang: str) -> tuple[str, str]:
    return _templated("year", lang, _words(value, "year", _SOURCE_LANG), _words(value, "year", lang))


def _format_date(day: datetime.date, fmt: str, locale: str) -> str:
    return format_date(day, fmt, locale=locale).translate(_SPACES)


def _format_time(clock: datetime.time, locale: str) -> str:
    return format_time(clock, "short", locale=locale).translate(_SPACES)


def _render_date(value: tuple[datetime.date, str], lang: str) -> tuple[str, str]:
    day, fmt = value
    return _format_date(day, fmt, _SOURCE_LOCALE), _format_date(day, fmt, lang)


def _render_time(value: datetime.time, lang: str) -> tuple[str, str]:
    return _templated("time", lang, _format_time(value, _SOURCE_LOCALE), _format_time(value, lang))


def _render_datetime(value: tuple[datetime.date, str, datetime.time], lang: str) -> tuple[str, str]:
    templates = _TEMPLATES.get(lang, {}).get("datetime")
    if templates is None:  # joining a date and a time needs a word ("um", "à") we only know for some languages
        raise NotImplementedError(f"no date-and-time template for {lang!r}")
    day, fmt, clock = value
    return (
        templates[0].format(_format_date(day, fmt, _SOURCE_LOCALE), _format_time(clock, _SOURCE_LOCALE)),
        templates[1].format(_format_date(day, fmt, lang), _format_time(clock, lang)),
    )


def _render_decimal(value: Decimal, lang: str) -> tuple[str, str]:
    return (
        format_decimal(value, locale=_SOURCE_LOCALE).translate(_SPACES),
        format_decimal(value, locale=lang).translate(_SPACES),
    )


# --------------------------------------------------------------------------------------------------------
# Sampling values (all from the caller's random.Random)
# --------------------------------------------------------------------------------------------------------
def _sample_digits(rng: random.Random, max_digits: int, low: int = 0) -> int:
    """An integer with a uniformly chosen number of digits, so small values are as common as large ones."""
    digits = rng.randint(1, max_digits)
    lo = max(low, 0 if digits == 1 else 10 ** (digits - 1))
    return rng.randint(lo, 10**digits - 1)


def _sample_number(rng: random.Random) -> int:
    return _sample_digits(rng, 4)


def _sample_ordinal(rng: random.Random) -> int:
    return _sample_digits(rng, 3, low=1)


def _sample_year(rng: random.Random) -> int:
    return rng.randint(1000, 2099)


_FIRST_DAY = datetime.date(1900, 1, 1).toordinal()
_LAST_DAY = datetime.date(2099, 12, 31).toordinal()


def _sample_date(rng: random.Random) -> tuple[datetime.date, str]:
    return datetime.date.fromordinal(rng.randint(_FIRST_DAY, _LAST_DAY)), rng.choice(DATE_FORMATS)


def _sample_time(rng: random.Random) -> datetime.time:
    return datetime.time(rng.randint(0, 23), rng.randint(0, 59))


def _sample_datetime(rng: random.Random) -> tuple[datetime.date, str, datetime.time]:
    day, fmt = _sample_date(rng)
    return day, fmt, _sample_time(rng)


def _sample_decimal(rng: random.Random) -> Decimal:
    integer = _sample_digits(rng, 7)
    places = rng.choice((1, 2))  # always a fraction: "697" -> "697" would be no translation at all
    fraction = rng.randint(1, 10**places - 1)
    if fraction % 10 == 0:  # "12.50" would print as "12.5" anyway; keep the drawn number of places
        fraction += 1
    return Decimal(f"{integer}.{fraction:0{places}d}")


_KIND_FUNCS: dict[str, tuple[Callable[[random.Random], object], Callable[[object, str], tuple[str, str]]]] = {
    "number": (_sample_number, _render_number),
    "ordinal": (_sample_ordinal, _render_ordinal),
    "year": (_sample_year, _render_year),
    "date": (_sample_date, _render_date),
    "time": (_sample_time, _render_time),
    "datetime": (_sample_datetime, _render_datetime),
    "decimal": (_sample_decimal, _render_decimal),
}

# A value each kind is probed with, to find out whether num2words implements it for a language.
_PROBES: dict[str, object] = {
    "number": 2041,
    "ordinal": 21,
    "year": 1999,
    "date": (datetime.date(2021, 3, 2), "full"),
    "time": datetime.time(15, 45),
    "datetime": (datetime.date(2021, 3, 2), "long", datetime.time(15, 45)),
    "decimal": Decimal("1234.5"),
}


@functools.lru_cache(maxsize=None)
def _kind_works(kind: str, lang: str) -> bool:
    _, render = _KIND_FUNCS[kind]
    try:
        render(_PROBES[kind], lang)
    except (NotImplementedError, AttributeError, TypeError, ValueError, KeyError):
        return False
    return True


def _resolve_kinds(kinds: Sequence[str] | None, tgt_lang: str) -> tuple[str, ...]:
    """Validate ``kinds`` (None = every kind the language supports) and return them in KINDS order."""
    if kinds is None:
        chosen = tuple(k for k in KINDS if _kind_works(k, tgt_lang))
    else:
        if isinstance(kinds, str):
            kinds = (kinds,)
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ConfigError(f"unknown corpus kind(s) {unknown}; choose from {', '.join(KINDS)}")
        if not kinds:
            raise ConfigError(f"kinds is empty; choose one or more of {', '.join(KINDS)} (or None for all)")
        broken = [k for k in kinds if not _kind_works(k, tgt_lang)]
        if broken:
            raise ConfigError(
                f"kind(s) {broken} cannot be rendered in {tgt_lang!r} (num2words does not implement them, "
                f"or the kind needs words that only German and French have templates for); leave them out of kinds "
                f"(or pass kinds=None to use every kind that works for {tgt_lang!r})"
            )
        chosen = tuple(k for k in KINDS if k in kinds)
    return chosen


# --------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------
def _generate_pairs(n: int, seed: int, tgt_lang: str, kinds: Sequence[str] | None) -> tuple[list[str], list[str]]:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"the number of pairs must be a non-negative integer, got {n!r}")
    _check_language(tgt_lang)
    src, (tgt,) = _generate_rows(n, seed, (tgt_lang,), _resolve_kinds(kinds, tgt_lang))
    return src, tgt


def _generate_rows(n: int, seed: int, langs: Sequence[str], chosen: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """``n`` distinct English sentences and their renderings in each of ``langs`` (one stream of values)."""
    weights = [KIND_WEIGHTS[k] for k in chosen]
    rng = random.Random(seed)
    seen: set[str] = set()
    src: list[str] = []
    tgts: list[list[str]] = [[] for _ in langs]
    misses = 0  # consecutive draws that repeated an existing source sentence
    while len(src) < n:
        kind = rng.choices(chosen, weights)[0]
        sample, render = _KIND_FUNCS[kind]
        value = sample(rng)
        rendered = [render(value, lang) for lang in langs]
        s = rendered[0][0]  # the English side (the same for every language: see multilingual_splits)
        if s in seen:
            misses += 1
            if misses > 10_000:
                raise VectorseqError(
                    f"could not generate {n} distinct pairs of kinds {list(chosen)} (stuck at {len(src)}); "
                    f"ask for fewer pairs or add kinds such as 'date' and 'decimal', which have many more values"
                )
            continue
        misses = 0
        seen.add(s)
        src.append(s)
        for out, (_, t) in zip(tgts, rendered):
            out.append(t)
    return src, tgts


def multilingual_splits(langs: Sequence[str], n_train: int, n_val: int, n_test: int,
                        seed: int = 0) -> dict[str, dict[str, list[str]]]:
    """Multi-parallel splits: ``{split: {lang: sentences}}`` for English and every language of ``langs``,
    line ``i`` of every language rendering the same value, so any pair of them is a parallel corpus (the
    directions between two target languages included). Only the kinds every language renders, with the same
    English words around them, are mixed; the splits are cut from one stream as in :func:`builtin_splits`."""
    targets = [lang for lang in dict.fromkeys(langs) if lang != _SOURCE_LANG]
    for lang in targets:
        _check_language(lang)
    if not targets:
        raise ConfigError("the built-in multilingual corpus needs a language besides English")
    chosen = tuple(k for k in KINDS if all(_kind_works(k, lang) for lang in targets)
                   and len({_TEMPLATES.get(lang, {}).get(k, _BARE)[0] for lang in targets}) == 1)
    src, tgts = _generate_rows(n_test + n_val + n_train, seed, targets, chosen)
    columns = {_SOURCE_LANG: src, **dict(zip(targets, tgts))}
    bounds = {"test": (0, n_test), "val": (n_test, n_test + n_val), "train": (n_test + n_val, len(src))}
    return {split: {lang: col[a:b] for lang, col in columns.items()} for split, (a, b) in bounds.items()}


def generate_corpus(
    n: int = 10_000,
    seed: int = 0,
    tgt_lang: str = "de",
    kinds: Sequence[str] | None = None,
) -> ParallelCorpus:
    """Generate ``n`` English -> ``tgt_lang`` pairs of the built-in corpus (see the module docstring).

    Args:
        n: number of pairs. Source sentences are all distinct.
        seed: the seed of the local random generator; the same arguments always give the same corpus.
        tgt_lang: target language code, one of :func:`supported_languages` (``"de"``, ``"fr"``, ...).
        kinds: which kinds of pairs to mix, a subset of :data:`KINDS`; ``None`` (default) means every
            kind that num2words implements for ``tgt_lang``. Mixed in the proportions of
            :data:`KIND_WEIGHTS`.

    Raises:
        ConfigError: an unsupported language, an unknown or unsupported kind, a bad ``n``.
        VectorseqError: ``n`` is larger than the kinds can supply distinct sentences for (only a
            concern for narrow mixes, e.g. ``kinds=("ordinal",)`` has 999 values).

    Example::

        >>> c = generate_corpus(3, seed=1, tgt_lang="de")
        >>> len(c), c.source
        (3, 'built-in synthetic corpus en-de (n=3, seed=1)')
    """
    src, tgt = _generate_pairs(n, seed, tgt_lang, kinds)
    return ParallelCorpus(src, tgt, {}, f"built-in synthetic corpus en-{tgt_lang} (n={n}, seed={seed})")


def builtin_splits(
    n_train: int = 10_000,
    n_val: int = 500,
    n_test: int = 500,
    seed: int = 0,
    tgt_lang: str = "de",
    kinds: Sequence[str] | None = None,
) -> dict[str, ParallelCorpus]:
    """Generate train/val/test splits of the built-in corpus with no source sentence in two splits.

    One stream of distinct pairs is generated from ``seed``; the first ``n_test`` pairs form the test
    split, the next ``n_val`` the validation split and the rest the training split. So the test and
    validation sets depend only on ``(n_test, n_val, seed, tgt_lang, kinds)``: a learning curve that
    varies ``n_train`` is always scored on the same test set.

    Returns:
        ``{"train": ..., "val": ..., "test": ...}``.
    """
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
    src, tgt = _generate_pairs(n_test + n_val + n_train, seed, tgt_lang, kinds)
    bounds = {"test": (0, n_test), "val": (n_test, n_test + n_val), "train": (n_test + n_val, len(src))}
    return {
        split: ParallelCorpus(
            src[a:b], tgt[a:b], {}, f"built-in synthetic corpus en-{tgt_lang} ({split}, n={b - a}, seed={seed})"
        )
        for split, (a, b) in (("train", bounds["train"]), ("val", bounds["val"]), ("test", bounds["test"]))
    }


def render_pair(kind: str, value: object, tgt_lang: str = "de") -> tuple[str, str]:
    """Render one value as an ``(English, target)`` pair, exactly as the generator would.

    ``value`` is an ``int`` for ``"number"``, ``"ordinal"`` and ``"year"``; ``(datetime.date, format)`` for
    ``"date"`` (format one of :data:`DATE_FORMATS`); a ``datetime.time`` for ``"time"``;
    ``(datetime.date, format, datetime.time)`` for ``"datetime"``; a ``decimal.Decimal`` for ``"decimal"``.

    Example::

        >>> render_pair("number", 2041, "de")
        ('two thousand and forty-one', 'zweitausendeinundvierzig')
        >>> render_pair("date", (datetime.date(2021, 3, 2), "full"), "de")
        ('Tuesday, March 2, 2021', 'Dienstag, 2. März 2021')
    """
    _check_language(tgt_lang)
    (kind,) = _resolve_kinds((kind,), tgt_lang)
    _, render = _KIND_FUNCS[kind]
    return render(value, tgt_lang)


def describe(tgt_lang: str = "de") -> str:
    """A plain-text description of the built-in corpus for READMEs and reports, with one real example
    of each kind rendered for ``tgt_lang``."""
    _check_language(tgt_lang)
    lines = [
        f"Built-in synthetic corpus (English -> {tgt_lang}): a deterministic translation task generated offline "
        "by vectorseq.data.synthetic from num2words (numbers in words) and Babel/CLDR (dates, times, decimal "
        "formats). It mixes cardinal numbers (0-9,999), ordinals (1-999), years (1000-2099), dates (1900-2099, "
        "four CLDR formats), clock times, dates with times and decimal numbers; sentences have 1-10 words, source sentences are "
        "unique and no source sentence appears in two splits. It needs no download and is meant to be learned "
        "to a high BLEU by a small Transformer in minutes on a CPU: a quick, reproducible sanity check, not a "
        "benchmark of real-world translation quality. Examples:",
    ]
    for kind in KINDS:
        if not _kind_works(kind, tgt_lang):
            continue
        _, render = _KIND_FUNCS[kind]
        s, t = render(_PROBES[kind], tgt_lang)
        lines.append(f"  {kind:8s} {s!r} -> {t!r}")
    return "\n".join(lines)
