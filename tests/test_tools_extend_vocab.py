"""Vocabulary extension (vectorseq.tools.extend_vocab): unseen source words get their frozen pretrained vectors.

One model is trained through the real trainer (frozen GloVe-format source vectors, word-level source);
others are built directly (partial + shared embeddings, RNN, finetune) and saved as model folders.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vectorseq.config import config_from_dict, merge
from vectorseq.data.synthetic import builtin_splits
from vectorseq.decoding import translate_ids
from vectorseq.embeddings.factory import EmbeddingInput, prepare_pretrained
from vectorseq.errors import VectorseqError
from vectorseq.models import build_model
from vectorseq.tools.extend_vocab import (
    EXTENSION_DIR,
    ExtendedEmbeddingInput,
    attach_extension,
    check_extendable,
    encode_with_extension,
    extend_model_folder,
    load_extended_translator,
    load_extension,
    oov_stats,
)
from vectorseq.training import train
from vectorseq.translator import Translator
from vectorseq.vectorizer import TextVectorizer

torch.set_num_threads(1)

BASE = {
    "name": "extend",
    "data": {"dataset": "builtin", "builtin": {"n_train": 300, "n_val": 20, "n_test": 20, "seed": 4}},
    "vectorizer": {"shared": False,
                   "src": {"split": "word", "standardize": "lower", "max_tokens": None},
                   "tgt": {"split": "word", "standardize": "none", "max_tokens": None}},
    "model": {"type": "transformer", "d_model": 16, "ff_size": 32, "heads": 2, "encoder_layers": 1,
              "decoder_layers": 1, "dropout": 0.0, "tie_embeddings": True, "share_embeddings": False},
    "training": {"batch_tokens": 300, "lr": 0.01, "warmup_steps": 1, "max_steps": 3, "valid_every": 3,
                 "threads": 1},
    "decoding": {"beam_size": 1},
}
IN_VOCAB = ["two", "thousand", "and", "the", "hundred", "one", "three", "march", "friday", "at", "in", "Seven"]
# file order matters: APPLE (upper form) comes before the exact "apple", which then gives the vector
OUT_OF_VOCAB = ["zebra", "Paris", "APPLE", "e-mail", "giraffe", "apple", "quokka", "ZEBRA", "McDonald", "okapi"]
EXPECTED = ["zebra", "paris", "apple", "giraffe", "quokka", "okapi"]  # lower-cased tokens, file order


def _write_vectors(path: Path, words: list[str], seed: int = 0, dim: int = 8) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    vecs = {w: rng.normal(size=dim).astype(np.float32) for w in words}
    lines = [w + " " + " ".join(f"{x:.5f}" for x in vecs[w]) for w in words]
    lines.insert(5, "hello world " + " ".join(["0.5"] * dim))  # a word with a space: never a token
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {w: np.array([float(f"{x:.5f}") for x in v], dtype=np.float32) for w, v in vecs.items()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained with frozen source vectors; the extension built from the same file."""
    tmp = tmp_path_factory.mktemp("extend")
    mp = pytest.MonkeyPatch()
    mp.setenv("VECTORSEQ_CACHE", str(tmp / "cache"))
    vectors = tmp / "vecs.txt"
    file_vecs = _write_vectors(vectors, IN_VOCAB[:6] + OUT_OF_VOCAB[:4] + IN_VOCAB[6:] + OUT_OF_VOCAB[4:])
    cfg = config_from_dict(merge(BASE, {"embeddings": {"src": {"vectors": str(vectors), "policy": "frozen"}}}))
    out = tmp / "model"
    train(cfg, out, progress=False, evaluate_test=False, log=lambda *a: None)
    summary = extend_model_folder(out)
    yield {"dir": out, "vectors": vectors, "file_vecs": file_vecs, "summary": summary, "tmp": tmp}
    mp.undo()


def test_extension_holds_the_files_words_missing_from_the_vocabulary(trained):
    out, summary, file_vecs = trained["dir"], trained["summary"], trained["file_vecs"]
    vocab = TextVectorizer.load(out / "vectorizer_src").get_vocabulary()
    assert not set(EXPECTED) & set(vocab) and {"two", "march", "seven"} <= set(vocab)
    meta = json.loads((out / EXTENSION_DIR / "vocab.json").read_text())
    assert meta["words"] == EXPECTED
    assert summary["words"] == len(EXPECTED) and summary["dim"] == 8 and summary["dtype"] == "float16"
    assert summary["bytes"] == sum(p.stat().st_size for p in (out / EXTENSION_DIR).iterdir())
    assert summary["mismatched_rows"] == 0 and summary["verified_rows"] >= 10  # frozen rows == the file
    assert summary["skipped"]["not_one_token"] == 1  # e-mail
    assert summary["skipped"]["standardize_changes_word"] == 1  # McDonald: training would not use it
    assert summary["skipped"]["malformed"] == 1  # "hello world"
    ext = load_extension(out)
    assert ext.vectors.dtype == torch.float32 and tuple(ext.vectors.shape) == (len(EXPECTED), 8)
    source_form = {"zebra": "zebra", "paris": "Paris", "apple": "apple", "giraffe": "giraffe",
                   "quokka": "quokka", "okapi": "okapi"}  # exact form wins over APPLE / ZEBRA
    for j, w in enumerate(EXPECTED):
        want = torch.from_numpy(file_vecs[source_form[w]]).to(torch.float16).float()
        assert torch.equal(ext.vectors[j], want), w
    assert ext.base_vocab_size == len(vocab)


def test_max_words_keeps_file_order(trained, tmp_path):
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(trained["dir"], d)
    s = extend_model_folder(d, max_words=3, dtype="float32")
    assert load_extension(d).words == EXPECTED[:3] and s["words"] == 3 and s["dtype"] == "float32"
    # "apple" (priority upgrade to the exact line) still happens within the limit
    assert torch.equal(load_extension(d).vectors[2], torch.from_numpy(trained["file_vecs"]["apple"]))
    assert extend_model_folder(d, max_words=0)["words"] == 0
    assert load_extension(d).words == []


def test_wrapper_is_exact(trained):
    tr = Translator.load(trained["dir"])
    base = tr.model.src_input
    ext = attach_extension(tr, trained["dir"])
    layer = tr.model.src_input
    assert isinstance(layer, ExtendedEmbeddingInput) and isinstance(base, EmbeddingInput)
    assert layer.token_embedding is base.token_embedding and layer.output_dim == base.output_dim
    assert layer.uses_positions and layer.num_embeddings == ext.base_vocab_size + len(ext)
    V = ext.base_vocab_size
    with torch.no_grad():
        ids = torch.tensor([[5, 9, 3, 0], [4, 4, 7, 3]])
        mask = ids != 0
        got, m = layer(ids, mask)
        want, _ = base(ids, mask)
        assert torch.equal(got, want) and m is mask
        mixed = torch.tensor([[5, V, 9, V + 3, 3], [V + 5, 4, 1, 3, 0]])
        got, _ = layer(mixed, mixed != 0)
        full = torch.cat([base.token_embedding.weight, ext.vectors])
        ref = base.proj(full[mixed] * base.scale)
        assert torch.equal(got, ref)
        for (b, t), j in {(0, 1): 0, (0, 3): 3, (1, 0): 5}.items():
            # proj(vector * scale) (one vector through the Linear: equal up to the matmul kernel's rounding)
            assert torch.allclose(got[b, t], base.proj(ext.vectors[j] * base.scale), rtol=1e-6, atol=1e-6)
        in_vocab = mixed < V
        assert torch.allclose(got[in_vocab], base(mixed.clamp(max=V - 1), None)[0][in_vocab], atol=1e-6)
        with pytest.raises(VectorseqError, match="beyond"):
            layer(torch.tensor([[V + len(ext)]]), None)
    # the state dict keeps its keys (the extension is not saved with the weights)
    assert set(tr.model.state_dict()) == set(Translator.load(trained["dir"]).model.state_dict())


def test_translation_with_and_without_oov(trained):
    tr = Translator.load(trained["dir"])
    plain = Translator.load(trained["dir"])
    ext = attach_extension(tr, trained["dir"])
    V = ext.base_vocab_size
    vec = tr.src_vectorizer
    text = "two Zebra and one okapi"
    ids = encode_with_extension(vec, ext, text)
    assert vec.encode(text) == [vec.vocabulary_[w] for w in ("two",)] + [1] + vec.encode("and one") + [1]
    assert ids[1] == V + EXPECTED.index("zebra") and ids[4] == V + EXPECTED.index("okapi")
    assert encode_with_extension(vec, EXPECTED, text) == ids  # a plain word list works too
    assert encode_with_extension(vec, ext, "two unknownword") == vec.encode("two unknownword")
    with torch.no_grad():
        src_unk = torch.tensor([vec.encode(text) + [3]])
        src_ext = torch.tensor([ids + [3]])
        m_unk = tr.model.encode(src_unk, src_unk != 0).memory
        m_ext = tr.model.encode(src_ext, src_ext != 0).memory
        assert not torch.allclose(m_unk, m_ext)
        x_unk, _ = tr.model.src_input(src_unk, None)
        x_ext, _ = tr.model.src_input(src_ext, None)
        assert not torch.equal(x_unk[0, 1], x_ext[0, 1]) and torch.equal(x_unk[0, 0], x_ext[0, 0])
    # sentences without rescued words translate exactly as before (greedy and beam)
    texts = ["two thousand and one", "Friday, March 3, 1999", "in nineteen ninety", "two unknownword"]
    for beam in (1, 3):
        a = translate_ids(plain.model, plain.encode_sources(texts), beam_size=beam)
        b = translate_ids(tr.model, tr.encode_sources(texts), beam_size=beam)
        assert [(h[0].tokens, h[0].score) for h in a] == [(h[0].tokens, h[0].score) for h in b]
    hyps = translate_ids(tr.model, tr.encode_sources([text, "quokka"]), beam_size=2)
    V_tgt = tr.tgt_vectorizer.vocabulary_size()
    assert all(0 <= t < V_tgt for h in hyps for t in h[0].tokens)
    st = oov_stats(vec, ext, [text, "two thousand", "two unknownword"])
    assert st["unk_tokens"] == 3 and st["rescued_tokens"] == 2 and st["sentences_with_rescued"] == 1


def test_translator_load_extend_vocab(trained):
    plain = Translator.load(trained["dir"])
    tr = load_extended_translator(trained["dir"])
    assert isinstance(tr.model.src_input, ExtendedEmbeddingInput)
    texts = ["two thousand and one", "two zebra"]
    assert tr.encode_sources(texts)[0] == plain.encode_sources(texts)[0]
    assert tr.encode_sources(texts)[1] != plain.encode_sources(texts)[1]
    assert tr.translate(texts[0], beam=2) == plain.translate(texts[0], beam=2)
    assert isinstance(tr.translate(texts[1], beam=2), str)


def test_folder_is_pickle_free_and_needs_no_vectors_file(trained, tmp_path):
    import shutil

    d = tmp_path / "moved"
    shutil.copytree(trained["dir"], d)
    moved = trained["vectors"].rename(trained["tmp"] / "elsewhere.txt")
    try:
        tr = Translator.load(d)
        ext = attach_extension(tr, d)
        assert len(ext) == len(EXPECTED)
        assert len(translate_ids(tr.model, tr.encode_sources(["two zebra"]))) == 1
        with pytest.raises(VectorseqError, match="--vectors"):
            extend_model_folder(d)  # rebuilding needs the file: the message says how to pass it
        assert extend_model_folder(d, vectors=moved)["words"] == len(EXPECTED)
    finally:
        moved.rename(trained["vectors"])
    assert sorted(p.name for p in (d / EXTENSION_DIR).iterdir()) == ["vectors.safetensors", "vocab.json"]
    from safetensors import safe_open

    for p in d.rglob("*"):  # every file is safetensors, JSON/YAML/text, a vocabulary or a PNG: nothing to unpickle
        if not p.is_file():
            continue
        if p.suffix == ".safetensors":
            with safe_open(str(p), framework="pt") as f:
                assert list(f.keys())
        elif p.suffix == ".png":
            assert p.read_bytes()[:4] == b"\x89PNG"
        else:
            assert p.suffix in (".json", ".jsonl", ".yaml"), p
            p.read_text(encoding="utf-8")


def test_other_vectors_file_is_refused(trained, tmp_path):
    import shutil

    d = tmp_path / "other"
    shutil.copytree(trained["dir"], d)
    other = tmp_path / "other.txt"
    _write_vectors(other, IN_VOCAB + OUT_OF_VOCAB, seed=1)
    with pytest.raises(VectorseqError, match="not the vectors the model was trained with"):
        extend_model_folder(d, vectors=other)
    wide = tmp_path / "wide.txt"
    _write_vectors(wide, IN_VOCAB + OUT_OF_VOCAB, dim=5)
    with pytest.raises(VectorseqError, match="5-dimensional"):
        extend_model_folder(d, vectors=wide)


# ------------------------------------------------------------------------ folders built without training
def _build_folder(tmp_path: Path, name: str, vectors: Path, policy: str, **over) -> Path:
    cfg = config_from_dict(merge(BASE, merge({"embeddings": {"src": {"vectors": str(vectors), "policy": policy}}},
                                             over)))
    splits = builtin_splits(n_train=300, n_val=20, n_test=20, seed=4)
    vs = cfg.vectorizer
    src = TextVectorizer(split=vs.src.split, standardize=vs.src.standardize).adapt(
        splits["train"].src + (splits["train"].tgt if vs.shared else []))
    tgt = src if vs.shared else TextVectorizer(split=vs.tgt.split, standardize=vs.tgt.standardize).adapt(
        splits["train"].tgt)
    built = prepare_pretrained(cfg.embeddings.src, src, cache_dir=False)
    cfg.embeddings.src.dim = int(built.dim)  # the vectors' width is part of the model's shape
    if cfg.model.share_embeddings:
        cfg.embeddings.tgt.dim = cfg.embeddings.src.dim
    torch.manual_seed(0)
    model = build_model(cfg, src, tgt)
    model.src_input.fit([], src, built)
    d = tmp_path / name
    Translator(model, src, tgt, cfg).save(d)
    return d


@pytest.fixture()
def vectors(tmp_path) -> Path:
    path = tmp_path / "v.txt"
    _write_vectors(path, IN_VOCAB + OUT_OF_VOCAB)
    return path


def test_finetune_and_learned_are_refused(tmp_path, vectors):
    d = _build_folder(tmp_path, "ft", vectors, "finetune")
    with pytest.raises(VectorseqError, match="finetune.*moved away from the space"):
        extend_model_folder(d)
    assert not (d / EXTENSION_DIR).exists()
    cfg = Translator.load(d).config
    vec = TextVectorizer(split="word", vocabulary=["a"])
    cfg.embeddings.src.policy = "learned"
    with pytest.raises(VectorseqError, match="learned"):
        check_extendable(cfg, vec)
    cfg.embeddings.src.policy, cfg.embeddings.src.vectors = "frozen", None
    with pytest.raises(VectorseqError, match="from scratch"):
        check_extendable(cfg, vec)
    cfg.embeddings.src.vectors = str(vectors)
    with pytest.raises(VectorseqError, match="word-level"):
        check_extendable(cfg, TextVectorizer(split="character", vocabulary=["a"]))


def test_unfrozen_table_is_refused(tmp_path, vectors):
    d = _build_folder(tmp_path, "unfrozen", vectors, "frozen")
    tr = Translator.load(d)
    tr.model.src_input.unfreeze()  # what unfreeze_after does during training
    tr.save(d)
    with pytest.raises(VectorseqError, match="every row of the source table was trainable"):
        extend_model_folder(d)


@pytest.mark.parametrize("model_type", ["transformer", "rnn"])
def test_partial_with_shared_embeddings_keeps_the_decoder_table(tmp_path, vectors, model_type):
    over = {"vectorizer": {"shared": True}, "model": {"share_embeddings": True, "type": model_type,
                                                      "d_model": 16},
            "embeddings": {"tgt": {"vectors": str(vectors), "policy": "partial"}}}
    d = _build_folder(tmp_path, model_type, vectors, "partial", **over)
    s = extend_model_folder(d)
    assert s["words"] == len(EXPECTED) and s["policy"] == "partial" and s["mismatched_rows"] == 0
    tr = Translator.load(d)
    assert tr.model.src_input is tr.model.tgt_input
    base = tr.model.tgt_input
    attach_extension(tr, d)
    assert tr.model.tgt_input is base and isinstance(base, EmbeddingInput)
    assert isinstance(tr.model.src_input, ExtendedEmbeddingInput)
    assert tr.model.src_input.token_embedding is base.token_embedding  # one table, still shared
    V = tr.tgt_vectorizer.vocabulary_size()
    hyps = translate_ids(tr.model, tr.encode_sources(["two zebra and one okapi", "two thousand"]), beam_size=2)
    assert all(0 <= t < V for h in hyps for t in h[0].tokens)
    with pytest.raises(VectorseqError, match="already extended"):
        attach_extension(tr, d)


def test_stale_extension_is_refused(tmp_path, vectors):
    d = _build_folder(tmp_path, "stale", vectors, "frozen")
    extend_model_folder(d)
    meta_path = d / EXTENSION_DIR / "vocab.json"
    meta = json.loads(meta_path.read_text())
    meta["base_vocab_sha256"] = "0" * 64
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(VectorseqError, match="another source vocabulary"):
        attach_extension(Translator.load(d), d)
    with pytest.raises(VectorseqError, match="embeddings extend"):
        load_extension(tmp_path / "nowhere")


# ------------------------------------------------------------------------ a folder written by the old code
OLD_FOLDER = Path(__file__).parent / "fixtures" / "extension_v0_1" / "transformer_frozen_word"


def test_extension_written_before_the_redesign_translates_identically():
    expected = json.loads((OLD_FOLDER / "expected.json").read_text(encoding="utf-8"))
    tr = load_extended_translator(OLD_FOLDER)
    texts = expected["texts"]
    assert len(tr.extension) == expected["extension_words"]
    assert tr.encode_sources(texts) == expected["src_ids"]
    assert tr.translate(texts, beam=1) == expected["greedy"]
    assert tr.translate(texts, beam=3) == expected["beam3"]
    scores = [[float(h.score) for h in hs] for hs in tr.translate_hypotheses(texts, beam=3, n_best=3)]
    for got, want in zip(scores, expected["beam3_scores"]):
        assert got == pytest.approx(want, abs=1e-4)
