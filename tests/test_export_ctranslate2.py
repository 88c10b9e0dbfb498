"""CTranslate2 export: greedy outputs identical to PyTorch, raw text in/out, clear refusals."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

ctranslate2 = pytest.importorskip("ctranslate2")

from vectorseq.config import config_from_dict  # noqa: E402
from vectorseq.data.batching import collate, make_batches  # noqa: E402
from vectorseq.embeddings.factory import EmbeddingInput, OneHotInput  # noqa: E402
from vectorseq.export import CT2Translator  # noqa: E402
from vectorseq.errors import VectorseqError  # noqa: E402
from vectorseq.export import EXPORT_FILE, build_ctranslate2_spec, export_model  # noqa: E402
from vectorseq.models import build_model  # noqa: E402
from vectorseq.models.transformer import TransformerSeq2Seq  # noqa: E402
from vectorseq.translator import Translator  # noqa: E402
from vectorseq.vectorizer import TextVectorizer  # noqa: E402

SRC_WORDS = [f"w{i}" for i in range(12)]
TGT_WORDS = [f"Z{i}" for i in range(12)]


def _cfg(shared: bool, model_type: str = "transformer", **model):
    base = {"type": model_type, "d_model": 32, "ff_size": 64, "heads": 4, "encoder_layers": 2,
            "decoder_layers": 2, "dropout": 0.0, "tie_embeddings": shared, "share_embeddings": shared}
    if model_type == "rnn":
        base = {"type": "rnn", "d_model": 32, "encoder_layers": 1, "decoder_layers": 1, "dropout": 0.0}
    base.update(model)
    side = {"split": "whitespace", "standardize": None, "max_tokens": None}
    return config_from_dict({"model": base, "training": {"max_steps": 1},
                             "vectorizer": {"shared": shared, "src": side, "tgt": side},
                             "decoding": {"beam_size": 5, "batch_size": 16}})


def _task(n: int, seed: int, untied: bool) -> tuple[list[str], list[str]]:
    """Reverse the words; the untied task also maps w_i -> Z_i (a second vocabulary, in another order)."""
    rng = np.random.default_rng(seed)
    src, tgt = [], []
    for _ in range(n):
        ids = rng.integers(0, len(SRC_WORDS), rng.integers(2, 9))
        src.append(" ".join(SRC_WORDS[i] for i in ids))
        out = [TGT_WORDS[i] if untied else SRC_WORDS[i] for i in ids[::-1]]
        if untied and len(ids) > 5:  # a length-dependent twist, so outputs are not a pure relabelling
            out.append(TGT_WORDS[len(ids)])
        tgt.append(" ".join(out))
    return src, tgt


def _train(model, src_vec, tgt_vec, src, tgt, steps: int = 220):
    s = [np.array(src_vec.encode(x, add_eos=True)) for x in src]
    t = [np.array(tgt_vec.encode(x), dtype=np.int64) for x in tgt]
    opt = torch.optim.Adam(model.parameters(), lr=4e-3)
    step = 0
    while step < steps:
        for idx in make_batches(np.array([len(x) for x in s]), np.array([len(x) + 1 for x in t]), 600,
                                seed=0, epoch=step):
            b = collate(s, t, idx)
            logits = model(b.src, b.src_mask, b.tgt_in)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), b.tgt_out.reshape(-1),
                                                     ignore_index=0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step >= steps:
                break
    return model.eval()


def _make_folder(tmp, kind: str) -> tuple[object, list[str], list[str]]:
    torch.manual_seed(0)
    untied = kind == "untied"
    src, tgt = _task(500, 0, untied)
    test_src, test_ref = _task(60, 1, untied)
    cfg = _cfg(shared=not untied)
    if untied:
        src_vec = TextVectorizer(split="whitespace", standardize=None).adapt(src)
        tgt_vec = TextVectorizer(split="whitespace", standardize=None).adapt(tgt)
    else:
        src_vec = tgt_vec = TextVectorizer(split="whitespace", standardize=None).adapt(itertools.chain(src, tgt))
    model = build_model(cfg, src_vec, tgt_vec)
    if untied:  # scales of pretrained tables (1/std) rather than sqrt(d): the export must carry them
        model.src_input.scale.fill_(1.7)
        model.tgt_input.scale.fill_(0.6)
    _train(model, src_vec, tgt_vec, src, tgt)
    d = tmp / kind / "model"
    Translator(model, src_vec, tgt_vec, cfg).save(d)
    return d, test_src + ["", "w3", "w999 w1"], test_ref


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is several times faster than two busy ones
    tmp = tmp_path_factory.mktemp("export")
    out = {}
    for kind in ("tied_shared", "untied"):
        d, texts, refs = _make_folder(tmp, kind)
        out[kind] = (d, export_model(d, tmp / kind / "ct2"), texts, refs)
    yield out
    torch.set_num_threads(threads)


def _ct2(export_dir, **kw) -> CT2Translator:
    return CT2Translator.load(export_dir, intra_threads=1, **kw)


@pytest.mark.parametrize("kind", ["tied_shared", "untied"])
def test_greedy_outputs_identical_to_pytorch(folders, kind):
    model_dir, export_dir, texts, refs = folders[kind]
    pt = Translator.load(model_dir).translate(texts, beam=1)
    ct = _ct2(export_dir).translate(texts, beam=1)
    # CTranslate2 never runs the model on a source without content (just `</s>`): it returns "" directly,
    # where PyTorch decodes something from the bare `</s>`. Everything else is identical.
    empty = texts.index("")
    assert ct[empty] == ""
    assert ct[:empty] + ct[empty + 1:] == pt[:empty] + pt[empty + 1:]
    # the model learned something: outputs are varied and a fair share is exactly right (chance: ~0)
    assert len(set(pt)) > 20
    assert sum(p == r for p, r in zip(pt, refs)) >= 10, list(zip(pt, refs))[:5]


def test_export_folder_layout(folders):
    _, shared_dir, _, _ = folders["tied_shared"]
    _, untied_dir, _, _ = folders["untied"]
    for d in (shared_dir, untied_dir):
        assert (d / "model.bin").is_file() and (d / "config.yaml").is_file()
        assert json.loads((d / EXPORT_FILE).read_text())["format"] == "ctranslate2"
        ctranslate2.Translator(str(d))  # plain CTranslate2 opens the folder despite our extra files
    assert (shared_dir / "shared_vocabulary.json").is_file() and (shared_dir / "vectorizer_shared").is_dir()
    assert (untied_dir / "source_vocabulary.json").is_file() and (untied_dir / "target_vocabulary.json").is_file()
    assert (untied_dir / "vectorizer_src").is_dir() and (untied_dir / "vectorizer_tgt").is_dir()
    vocab = json.loads((shared_dir / "shared_vocabulary.json").read_text())
    assert vocab[:4] == ["<pad>", "<unk>", "<s>", "</s>"]
    # tied: the projection is the embedding table, stored once (aliased), so the shared model is smaller
    assert (shared_dir / "model.bin").stat().st_size < (untied_dir / "model.bin").stat().st_size


def test_ct2_translator_raw_text_api(folders):
    model_dir, export_dir, texts, refs = folders["untied"]
    ct = _ct2(export_dir)
    one = ct.translate(texts[0], beam=1)
    assert isinstance(one, str) and one == ct.translate([texts[0]], beam=1)[0]
    nbest = ct.translate(texts[:4], beam=4, n_best=3)
    assert all(len(h) == 3 and len(set(h)) == 3 for h in nbest)
    # beam 5 without length penalty: both rank by the sum of log-probabilities, but the searches stop by
    # different rules, so outputs are close, not guaranteed identical
    pt5 = Translator.load(model_dir).translate(texts, beam=5, length_penalty=0.0)
    ct5 = ct.translate(texts, beam=5, length_penalty=0.0)
    assert sum(a == b for a, b in zip(pt5, ct5)) >= 0.7 * len(texts)
    int8 = _ct2(export_dir, compute_type="int8").translate(texts, beam=1)
    assert len(int8) == len(texts) and all(isinstance(x, str) for x in int8)
    with pytest.raises(VectorseqError, match="export it first"):
        CT2Translator.load(model_dir)


def test_quantized_export_and_reexport(folders, tmp_path):
    model_dir, export_dir, texts, _ = folders["tied_shared"]
    q = export_model(model_dir, tmp_path / "q", quantization="int8")
    assert json.loads((q / EXPORT_FILE).read_text())["quantization"] == "int8"
    assert (q / "model.bin").stat().st_size < (export_dir / "model.bin").stat().st_size
    assert len(_ct2(q).translate(texts[:5], beam=2)) == 5
    export_model(model_dir, q)  # exporting again into a previous export replaces it
    assert json.loads((q / EXPORT_FILE).read_text())["quantization"] is None
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    with pytest.raises(VectorseqError, match="not empty"):
        export_model(model_dir, tmp_path / "busy")
    with pytest.raises(VectorseqError, match="quantization"):
        export_model(model_dir, tmp_path / "bad", quantization="int3")


def test_rnn_model_is_refused(tmp_path):
    cfg = _cfg(shared=True, model_type="rnn")
    vec = TextVectorizer(split="whitespace", standardize=None).adapt(["w1 w2 w3"])
    Translator(build_model(cfg, vec, vec), vec, vec, cfg).save(tmp_path / "rnn")
    with pytest.raises(VectorseqError, match="Transformer models only"):
        export_model(tmp_path / "rnn", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_count_based_input_is_refused(tmp_path):
    cfg = config_from_dict({"embeddings": {"src": {"input": "bag"}}, "training": {"max_steps": 1}})
    (tmp_path / "m").mkdir()
    cfg.save(tmp_path / "m" / "config.yaml")
    with pytest.raises(VectorseqError, match="count-based"):
        export_model(tmp_path / "m", tmp_path / "out")


class _Cfg:
    class decoding:  # noqa: N801 - a stand-in for Config.decoding
        beam_size, length_penalty, max_length_ratio, max_length_extra, batch_size = 1, 1.0, 1.5, 10, 8


@pytest.mark.parametrize("variant", ["projection", "one_hot", "post_norm"])
def test_folded_input_layers(tmp_path, variant):
    """Tables of another width (linear projection, tied output through `pre`) and one-hot inputs fold exactly;
    a post-norm model (model.norm: post) exports as CTranslate2's post-norm Transformer, no final norms."""
    torch.manual_seed(3)
    words = [f"w{i}" for i in range(30)]
    vec = TextVectorizer(split="whitespace", standardize=None, vocabulary=words)
    V, d = vec.vocabulary_size(), 32
    src_in = OneHotInput(V, d) if variant == "one_hot" else EmbeddingInput(V, d, dim=24, scale=2.5)
    tgt_in = EmbeddingInput(V, d, dim=40, scale=0.9)  # wider than d_model: tied output goes through `pre`
    model = TransformerSeq2Seq(src_in, tgt_in, V, d_model=d, ff_size=64, heads=4, encoder_layers=2,
                               decoder_layers=1, dropout=0.0, tie_embeddings=True,
                               norm="post" if variant == "post_norm" else "pre").eval()
    spec = build_ctranslate2_spec(model, vec.get_vocabulary(), vec.get_vocabulary())
    spec.validate()
    spec.optimize()
    spec.save(str(tmp_path))
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, rng.integers(1, 10))) for _ in range(25)]
    pt = Translator(model, vec, vec, config=_Cfg).translate(texts, beam=1)  # untrained: runs to the length limit
    ct = CT2Translator(ctranslate2.Translator(str(tmp_path), intra_threads=1), vec, vec, _Cfg, vec.get_vocabulary(),
                       vec.get_vocabulary()).translate(texts, beam=1)
    assert ct == pt
    assert max(len(x.split()) for x in pt) > 10


def test_a_model_of_several_directions_is_refused_with_one_line():
    from vectorseq.errors import VectorseqError
    from vectorseq.export.ctranslate2 import check_exportable

    cfg = config_from_dict({"training": {"max_steps": 1}, "data": {"directions": ["en-de", "en-fr"]}})
    with pytest.raises(VectorseqError, match="several directions") as err:
        check_exportable(cfg)
    assert "\n" not in str(err.value)
