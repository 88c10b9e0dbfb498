"""Character n-gram word inputs (fastText's subword model, learned in the model): hashing, unseen words,
model folders that translate unseen words without the .bin, resume, and initialisation from a fastText .bin."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from _ddp import assert_same_parameters, two_processes_and_one
from _tiny_training import quiet, tiny_config
from safetensors.torch import load_file

from vectorseq import Translator
from vectorseq.compare.strategies import LIBRARY
from vectorseq.config import config_from_dict, load_config, merge
from vectorseq.data.synthetic import builtin_splits
from vectorseq.embeddings.char_ngrams import CharNgramInput
from vectorseq.embeddings.factory import build_input_layer
from vectorseq.embeddings.ngram_hash import char_ngrams, fasttext_hash, word_buckets
from vectorseq.errors import ConfigError
from vectorseq.models import build_model
from vectorseq.tools.train_vectors import train_vectors
from vectorseq.training import train
from vectorseq.vectorizer import UNK_ID, TextVectorizer

CHAR_NGRAMS = {"embeddings": {"src": {"input": "char_ngrams", "buckets": 5000}}}
UNSEEN = ["two quokka zebra", "two quokka", "two zebra-like"]


def _train(path, **over):
    return train(tiny_config(**merge(CHAR_NGRAMS, over)), path, progress=False, evaluate_test=False, log=quiet)


def _layer(vocab=("<pad>", "<unk>", "<s>", "</s>", "two", "three", "thousand"), **kw) -> CharNgramInput:
    torch.manual_seed(0)
    return CharNgramInput(list(vocab), 16, buckets=kw.pop("buckets", 1000), **kw)


# ------------------------------------------------------------------------------------ hashing
def test_ngrams_follow_fasttext_boundaries_and_characters():
    assert list(char_ngrams("where", 3, 3)) == [b"<wh", b"whe", b"her", b"ere", b"re>"]  # fastText's paper
    assert list(char_ngrams("ü", 1, 2)) == ["<ü".encode(), "ü".encode(), "ü>".encode()]  # characters, not bytes
    assert fasttext_hash(b"") == 2166136261 and fasttext_hash(b"a") == 0xE40C292C  # FNV-1a 32-bit of "a"


@pytest.mark.parametrize("word", ["where", "quokka", "zebra-like", "Straße", "über", "日本語", "a"])
@pytest.mark.parametrize("lo,hi", [(3, 6), (1, 4)])
def test_buckets_equal_gensims_fasttext_hashes(word, lo, hi):
    from gensim.models.fasttext import ft_ngram_hashes  # optional heavy dependency (gensim), the reference

    assert word_buckets(word, lo, hi, 2_000_000) == ft_ngram_hashes(word, lo, hi, 2_000_000)


# ------------------------------------------------------------------------------------ the layer
def test_unseen_words_get_their_own_vectors_and_vocabulary_words_keep_theirs():
    layer = _layer().eval()
    known = layer.word_vectors(torch.arange(7)).detach()
    new = layer.register_words(["quokka", "zebra", "quokkas"])
    assert new == [7, 8, 9]
    v = layer.word_vectors(torch.tensor([UNK_ID, 7, 8, 9])).detach()
    assert not torch.allclose(v[1], v[0]) and not torch.allclose(v[1], v[2]) and not torch.allclose(v[2], v[3])
    assert torch.equal(layer.word_vectors(torch.arange(7)).detach(), known)  # registering changes no other word
    assert torch.equal(known[0], torch.zeros(16))  # <pad>: no n-grams, a zero row
    # a vocabulary word is the mean of its row and its n-gram rows
    rows = layer.ngram_embedding.weight[word_buckets("two", 3, 6, 1000)]
    expected = (layer.word_embedding.weight[4] + rows.sum(0)) / (1 + len(rows))
    assert torch.allclose(known[4], expected.detach(), atol=1e-6)
    with pytest.raises(Exception, match="beyond the vocabulary"):
        layer.word_vectors(torch.tensor([10]))


def test_forward_is_unit_scale_and_batch_independent():
    layer = _layer(vocab=["<pad>", "<unk>", "<s>", "</s>"] + [f"w{i}ord" for i in range(200)], dim=None).eval()
    ids = torch.randint(4, 204, (8, 12))
    x, _ = layer(ids, None)
    assert 0.5 < float(x.detach().std()) < 2.0  # unit-size inputs, like a learned table's
    one, _ = layer(ids[:1], None)
    assert torch.allclose(one, x[:1], atol=1e-6)  # a sentence's vectors do not depend on its batch


def test_word_level_split_and_ngram_keys_are_checked():
    for split in ("sentencepiece", "character"):
        with pytest.raises(ConfigError, match="char_ngrams .* needs a word-level source vectorizer"):
            tiny_config(**merge(CHAR_NGRAMS, {"vectorizer": {"src": {"split": split, "max_tokens": 50}}}))
    with pytest.raises(ConfigError, match="ngram_min .* need 1 <= ngram_min <= ngram_max"):
        tiny_config(embeddings={"src": {"input": "char_ngrams", "ngram_min": 5, "ngram_max": 4}})
    with pytest.raises(ConfigError, match="buckets must be at least 1"):
        tiny_config(embeddings={"src": {"input": "char_ngrams", "buckets": 0}})
    chars = TextVectorizer(split="character").adapt(["abc"])
    with pytest.raises(ConfigError, match="word-level"):
        build_input_layer(tiny_config(**CHAR_NGRAMS).embeddings.src, chars, 16)
    with pytest.raises(ConfigError, match="for the source side only"):
        tiny_config(embeddings={"tgt": {"input": "char_ngrams"}})


def test_finetune_without_a_bin_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="policy: finetune with input: char_ngrams needs embeddings.src.vectors"):
        _train(tmp_path, embeddings={"src": {"policy": "finetune"}})


# ------------------------------------------------------------------------------------ model folders
@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
def test_a_model_folder_translates_unseen_words_by_their_ngrams(tmp_path, model_type):
    over = {"model": {"type": model_type}}
    _train(tmp_path, **over)
    t = Translator.load(tmp_path)
    V = t.src_vectorizer.vocabulary_size()
    ids = t.encode_sources(UNSEEN)
    assert ids[0][1] >= V and ids[0][2] >= V and ids[1][1] == ids[0][1]  # quokka: one id in the whole call
    assert ids[2][1] == ids[0][2] and ids[2][2] < V  # zebra too; '-' is in the vocabulary
    assert t.src_vectorizer.encode_sources(UNSEEN)[0][1] == UNK_ID  # what the vectorizer alone would give
    out = t.translate(UNSEEN)
    assert len(out) == 3 and all(isinstance(s, str) for s in out)
    assert t.translate(UNSEEN, batch_size=1) == out  # the registered words hold across the call's batches
    assert [t.translate(s) for s in UNSEEN] == out  # and one call per sentence gives the same
    # two different unseen words give different encoder outputs; an unseen word is not <unk>
    src = torch.tensor([[t.src_vectorizer.vocabulary_["two"], w, 3] for w in (ids[0][1], ids[0][2], UNK_ID)])
    with torch.no_grad():
        enc = t.model.encode(src, src != 0)
    mem = enc.memory
    assert not torch.allclose(mem[0], mem[1]) and not torch.allclose(mem[0], mem[2])


def test_resume_is_bitwise_identical(tmp_path):
    full = _train(tmp_path / "full")
    _train(tmp_path / "part", training={"max_steps": 6})
    resumed = _train(tmp_path / "part")
    assert [(h["train_loss"], h["valid_loss"]) for h in full.history] == \
           [(h["train_loss"], h["valid_loss"]) for h in resumed.history]
    wf = load_file(str(tmp_path / "full/checkpoints/last/model.safetensors"))
    wr = load_file(str(tmp_path / "part/checkpoints/last/model.safetensors"))
    assert wf.keys() == wr.keys() and "src_input.ngram_embedding.weight" in wf
    assert all(torch.equal(wf[k], wr[k]) for k in wf)


def test_the_translation_loss_trains_the_ngram_rows_of_training_words(tmp_path):
    _train(tmp_path)
    t = Translator.load(tmp_path)
    torch.manual_seed(t.config.training.seed)  # the initial weights, as training drew them
    start = build_model(t.config, t.src_vectorizer, t.tgt_vectorizer).src_input.ngram_embedding.weight.detach()
    moved = (t.model.src_input.ngram_embedding.weight.detach() != start).any(1)
    vocab = t.src_vectorizer.get_vocabulary()[4:]
    used = torch.zeros(5000, dtype=torch.bool)
    used[[b for w in vocab for b in word_buckets(w, 3, 6, 5000)]] = True
    assert moved[used].float().mean() > 0.5  # the loss reached the n-gram rows of training words ...
    assert not moved[~used].any()  # ... and only those (no weight decay on the tables)


# ------------------------------------------------------------------------------------ fastText .bin
@pytest.fixture(scope="module")
def fasttext_bin(tmp_path_factory):
    src = builtin_splits(n_train=400, n_val=30, n_test=30, seed=1)["train"].src
    out = tmp_path_factory.mktemp("ft") / "ft"
    # min_count 3: some vocabulary words are missing from the .bin and start from their n-grams
    return train_vectors(src, output_path=out, algorithm="fasttext", dim=12, epochs=1, min_count=3,
                         min_n=2, max_n=4, bucket=700).bin_path


def test_a_fasttext_bin_initialises_word_rows_and_ngram_buckets(tmp_path, fasttext_bin):
    from gensim.models.fasttext import load_facebook_vectors  # optional heavy dependency (gensim), the reference

    kv = load_facebook_vectors(str(fasttext_bin))
    cfg = tiny_config(**merge(CHAR_NGRAMS, {"embeddings": {"src": {"vectors": str(fasttext_bin),
                                                                   "policy": "finetune"}},
                                            "training": {"max_steps": 1, "valid_every": 1, "lr": 1e-9}}))
    bin_copy = tmp_path / "model.bin"
    shutil.copy(fasttext_bin, bin_copy)
    cfg.embeddings.src.vectors = str(bin_copy)
    train(cfg, tmp_path / "m", progress=False, evaluate_test=False, log=quiet)
    saved = load_config(tmp_path / "m/config.yaml").embeddings.src
    assert (saved.ngram_min, saved.ngram_max, saved.buckets, saved.dim) == (2, 4, 700, 12)  # the .bin's, recorded
    bin_copy.unlink()  # the folder must not need it
    t = Translator.load(tmp_path / "m")
    layer = t.model.src_input
    assert torch.allclose(layer.ngram_embedding.weight, torch.from_numpy(kv.vectors_ngrams), atol=1e-5)
    vocab = t.src_vectorizer.get_vocabulary()
    known = [i for i, w in enumerate(vocab) if w in kv.key_to_index and i >= 4]
    missing = [i for i, w in enumerate(vocab) if w not in kv.key_to_index and i >= 4]
    assert known and missing
    rows = np.stack([kv.vectors_vocab[kv.key_to_index[vocab[i]]] for i in known])
    assert torch.allclose(layer.word_embedding.weight[known], torch.from_numpy(rows), atol=1e-5)
    with torch.no_grad():  # composed vectors are fastText's: gensim's wv[word], known or not
        for i in known[:5] + missing[:5]:
            assert np.allclose(layer.word_vectors(torch.tensor([i]))[0].numpy(), kv[vocab[i]], atol=1e-5)
        layer.register_words(["quokka"])  # unseen: <unk>'s row and fastText's n-grams, averaged
        k = len(word_buckets("quokka", 2, 4, 700))
        assert np.allclose(layer.word_vectors(torch.tensor([len(vocab)]))[0].numpy(),
                           (kv["quokka"] * k + layer.word_embedding.weight[UNK_ID].numpy()) / (k + 1), atol=1e-5)
    assert len(t.translate(UNSEEN)) == 3


def test_a_word2vec_file_is_refused_for_char_ngrams(tmp_path):
    vec = tmp_path / "v.txt"
    vec.write_text("two 0.1 0.2\nthree 0.3 0.4\n")
    with pytest.raises(ConfigError, match="input: char_ngrams needs a fastText .bin"):
        _train(tmp_path / "m", embeddings={"src": {"vectors": str(vec), "policy": "finetune"}})


def test_library_entries():
    assert LIBRARY["char_ngrams"][1]["embeddings"]["src"]["input"] == "char_ngrams"
    entry = LIBRARY["fasttext_char_ngrams"][1]["embeddings"]["src"]
    assert entry["input"] == "char_ngrams" and entry["policy"] == "finetune"
    config_from_dict(merge(tiny_config().to_dict(), LIBRARY["fasttext_char_ngrams"][1]))


def test_a_bin_run_resumes_without_the_bin(tmp_path, fasttext_bin):
    bin_copy = tmp_path / "model.bin"
    shutil.copy(fasttext_bin, bin_copy)
    over = {"embeddings": {"src": {"vectors": str(bin_copy), "policy": "finetune"}}}
    _train(tmp_path / "m", training={"max_steps": 6}, **over)
    bin_copy.unlink()  # resuming reads the checkpoint and the recorded n-gram settings, not the .bin
    resumed = _train(tmp_path / "m", **over)
    assert resumed.steps == 12
    assert load_config(tmp_path / "m/config.yaml").embeddings.src.buckets == 700


# ------------------------------------------------------------------------------------ DDP
def _ddp_config() -> dict:
    return merge(tiny_config(**CHAR_NGRAMS).to_dict(),
                 {"model": {"dropout": 0.0}, "training": {"max_steps": 4, "valid_every": 2}})


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
def test_two_processes_train_char_ngrams_as_one_process_does(tmp_path):
    a, b = two_processes_and_one(_ddp_config(), tmp_path)
    assert "src_input.ngram_embedding.weight" in a
    assert_same_parameters(a, b)  # the README's 1e-5
    assert len(Translator.load(tmp_path / "ddp").translate(UNSEEN, beam=1)) == 3
