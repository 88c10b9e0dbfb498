"""Texts shared by the text-package tests: a multilingual sample, a generated English corpus, bag-mode texts,
the hypothesis settings and the trained SentencePiece vectorizers (module-scoped fixtures)."""
from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from vectorseq.vectorizer import TextVectorizer


STANDARDIZE = ["none", "lower", "strip_punctuation", "lower_and_strip_punctuation", "nfkc", "nfkc_lower"]


WORD_SPLITS = ["whitespace", "word", "character"]


MULTILINGUAL = [
    "Hello, World! (Testing) [brackets] and {braces}.",
    "Don't stop; it's 5% off? Yes: well-known and/or “quoted” text…",
    "L’homme qu'on voit — «ici» ¿Qué tal? ¡Hola!",
    "Straße ﬁne ① Ｆｕｌｌｗｉｄｔｈ  tabs\tand\nnewlines",
    "日本語の文。中文，标点！",
    "हिन्दी भाषा और e\u0301te\u0301 composed été",
    "Ωμέγα ΣΊΣΥΦΟΣ İstanbul",
    "emoji 🙂 and symbols $ + < = > ^ ` | ~ _under_score_",
]


def make_corpus(n: int = 400, seed: int = 0) -> list[str]:
    """A few hundred varied English sentences (deterministic)."""
    rng = random.Random(seed)
    subjects = ["A man", "The woman", "Two children", "A small dog", "Several people", "An old lady",
                "The young boy", "A group of friends", "My neighbour", "Three musicians"]
    verbs = ["is walking", "are playing", "sits", "was running", "jumps", "will cook", "reads",
             "is painting", "watched", "quickly climbs"]
    objects = ["a red ball", "the big fence", "in the park", "near a river", "with a blue umbrella",
               "on the beach", "a delicious meal", "the newspaper", "under the bridge", "an orange kite"]
    tails = [".", "!", "?", ", while it rains.", " (at 5 o'clock).", "; nobody noticed.", " today.",
             ", don't they?", " - again.", ": \"wow\"."]
    out = []
    for _ in range(n):
        s = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}{rng.choice(tails)}"
        if rng.random() < 0.15:
            s = s.upper()
        if rng.random() < 0.2:
            s += f" It costs {rng.randint(1, 999)} dollars."
        out.append(s)
    return out


CORPUS = make_corpus()


BAG_TEXTS = [
    "the cat sat on the mat",
    "the dog sat",
    "a cat and a dog and a cat",
    "mat mat mat",
    "The Cat, the DOG!",
]


def _sk_vocab(v):
    return {t: i for i, t in enumerate(v.get_vocabulary()[4:])}


_texts = st.text(max_size=40)


_std = st.sampled_from(STANDARDIZE)


# More examples for a deeper search: VECTORSEQ_HYPOTHESIS_EXAMPLES=5000 python3 -m pytest tests/test_text_*.py tests/test_vectorizer.py
_EXAMPLES = int(os.environ.get("VECTORSEQ_HYPOTHESIS_EXAMPLES", "60"))


_settings = settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module", params=["bpe", "unigram"])
def sp_vectorizer(request):
    return TextVectorizer(split="sentencepiece", standardize=None, max_tokens=250,
                          sentencepiece_model_type=request.param).adapt(iter(CORPUS))
