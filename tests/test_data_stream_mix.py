"""Temperature sampling over streamed directions (StreamMixSource): the mix matches its target, every pair is read
each epoch, the draws are reproducible and resumable, ranks read disjoint shards, tags go with their direction."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from vectorseq.data.batch_source import StreamingSource
from vectorseq.data.direction_mix import StreamMixSource
from vectorseq.data.directions import temperature_probabilities
from vectorseq.data.synthetic import multilingual_splits
from vectorseq.text.language_tags import Tagging
from vectorseq.vectorizer import TextVectorizer

SIZES = {"de": 1200, "fr": 300}  # en-de has four times the pairs of en-fr
TAGS = {"de": 100, "fr": 101}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("streams")
    columns = multilingual_splits(["de", "en", "fr"], max(SIZES.values()), 10, 10, seed=3)["train"]
    texts = {}
    for lang, n in SIZES.items():
        src, tgt = columns["en"][:n], columns[lang][:n]
        (folder / f"train.en-{lang}.en").write_text("\n".join(src) + "\n", encoding="utf-8")
        (folder / f"train.en-{lang}.{lang}").write_text("\n".join(tgt) + "\n", encoding="utf-8")
        texts[lang] = (src, tgt)
    vec = TextVectorizer(split="character", standardize="none").adapt(
        t for src, tgt in texts.values() for t in [*src, *tgt])
    return folder, texts, vec


def _mix(corpus, temperature=1.0, num_workers=0):
    folder, _, vec = corpus
    sources = [StreamingSource(dict(src_path=folder / f"train.en-{lang}.en",
                                    tgt_path=folder / f"train.en-{lang}.{lang}", src_vectorizer=vec,
                                    tgt_vectorizer=vec, batch_tokens=400, seed=7 + i, window=200,
                                    tagging=Tagging(src_prefix=TAGS[lang])), num_workers=num_workers)
               for i, lang in enumerate(SIZES)]
    return StreamMixSource(sources, list(SIZES.values()), [f"en-{x}" for x in SIZES], temperature, seed=7)


def _key(row) -> tuple[int, ...]:
    return tuple(x for x in row.tolist() if x > 3)  # the sentence's ids without padding, EOS and the tag's column


def test_every_pair_of_every_direction_is_read_each_epoch_with_its_tag(corpus):
    _, texts, vec = corpus
    seen: dict[int, set] = {TAGS[x]: set() for x in SIZES}
    for d, batch in _mix(corpus).mixed(0, 0, 1):
        tag = int(batch.src[0, 0])
        assert (batch.src[:, 0] == tag).all() and tag == TAGS[list(SIZES)[d]]
        seen[tag].update(_key(row[1:]) for row in batch.src)
    for lang in SIZES:
        wanted = {tuple(i for i in ids if i > 3) for ids in vec.encode_many(texts[lang][0])}
        assert seen[TAGS[lang]] == wanted


@pytest.mark.parametrize("temperature", [1.0, 5.0])
def test_the_mix_of_batches_follows_the_temperature(corpus, temperature):
    mix = _mix(corpus, temperature)
    counts = Counter(d for epoch in range(3) for d, _ in mix.mixed(epoch, 0, 1))
    share = np.array([counts[0], counts[1]]) / sum(counts.values())
    target = temperature_probabilities(list(SIZES.values()), temperature)
    assert np.abs(share - target).max() < 0.06, (share, target)


def test_reproducible_resumable_and_the_same_with_workers(corpus):
    def flat(updates):
        return [b.src.tolist() for u in updates for b in u]

    mix = _mix(corpus, 5.0)
    first = flat(mix.updates(1, 0, 0, 1, 2))
    assert first == flat(mix.updates(1, 0, 0, 1, 2))  # a pure function of (seed, epoch)
    assert flat(mix.updates(1, 3, 0, 1, 2)) == first[6:]  # resume: skip the updates already done
    assert flat(_mix(corpus, 5.0, num_workers=2).updates(1, 0, 0, 1, 2))  # workers pickle the tagged streams
    assert first != flat(mix.updates(2, 0, 0, 1, 2))  # another epoch, other shuffles


def test_two_ranks_read_disjoint_shards_of_every_direction(corpus):
    mix = _mix(corpus)
    ranks = [{_key(row[1:]) for _, b in mix.mixed(0, r, 2) for row in b.src if int(row[0]) == TAGS["de"]}
             for r in (0, 1)]
    assert ranks[0] and ranks[1] and not ranks[0] & ranks[1]
