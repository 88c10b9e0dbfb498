"""Fuzz tests of the model-folder loader (hypothesis): a real tiny trained folder (SentencePiece source, word
target, separate vocabularies) with one file truncated, garbled, emptied, deleted, replaced by a folder or by
random bytes, or changed in its structure (a JSON/YAML value or key, a safetensors header field), then
``Translator.load`` and ``translate``. Allowed outcomes: translations, or a one-line VectorseqError
(tests/_fuzz.py). A folder is data that crosses machines: no planted file may crash, hang or run anything."""
from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from _fuzz import FAST, outcome
from _tiny_training import quiet, tiny_config
from vectorseq import Translator
from vectorseq.training import train

FILES = ["config.yaml", "model.safetensors", "vectorizer_src/vectorizer.json", "vectorizer_src/sentencepiece.model",
         "vectorizer_tgt/vectorizer.json"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fuzz") / "model"
    cfg = tiny_config(vectorizer={"shared": False, "src": {"split": "sentencepiece", "max_tokens": 120},
                                  "tgt": {"split": "word", "standardize": "none", "max_tokens": None}},
                      model={"share_embeddings": False}, training={"max_steps": 3, "valid_every": 3})
    train(cfg, out, progress=False, evaluate_test=False, log=quiet)
    assert Translator.load(out).translate(["four"])  # the undamaged folder works
    return out


_json_values = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True),
                         st.text(max_size=8), st.lists(st.one_of(st.integers(-2, 5), st.text(max_size=3)),
                                                       max_size=4),
                         st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _nodes(doc, path=()):
    """Every (path, value) of a nested JSON/YAML document."""
    yield path, doc
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for k, v in items:
        yield from _nodes(v, (*path, k))


def _structural(doc, data: st.DataObject):
    """Replace one node's value, delete a key, or put one list element out of place."""
    candidates = [p for p, _ in _nodes(doc) if p]
    if not candidates:
        return data.draw(_json_values)
    path = data.draw(st.sampled_from(candidates[:400]))
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    action = data.draw(st.sampled_from(["replace", "delete", "duplicate"]))
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(parent[path[-1]])
    else:
        parent[path[-1]] = data.draw(_json_values)
    return doc


def _safetensors_header(raw: bytes, data: st.DataObject) -> bytes:
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header = _structural(header, data)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + raw[8 + n:]


def _damage(path: Path, data: st.DataObject) -> str:
    raw = path.read_bytes()
    how = data.draw(st.sampled_from(["truncate", "flip", "random", "empty", "delete", "folder", "structure"]))
    if how == "truncate":
        path.write_bytes(raw[: data.draw(st.integers(0, max(len(raw) - 1, 0)))])
    elif how == "flip":
        b = bytearray(raw)
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(b) - 1))
            b[i] = data.draw(st.integers(0, 255))
        path.write_bytes(bytes(b))
    elif how == "random":
        path.write_bytes(data.draw(st.binary(max_size=200)))
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "delete":
        path.unlink()
    elif how == "folder":
        path.unlink()
        path.mkdir()
    elif path.suffix == ".safetensors":
        path.write_bytes(_safetensors_header(raw, data))
    elif path.suffix in (".json", ".yaml"):
        doc = _structural(yaml.safe_load(raw), data)
        path.write_text(json.dumps(doc) if path.suffix == ".json" else yaml.safe_dump(doc), encoding="utf-8")
    else:  # sentencepiece.model: a protobuf; flip one byte in its first part instead
        path.write_bytes(raw[:8] + bytes([raw[8] ^ 0xFF]) + raw[9:])
    return how


def _load_and_translate(d: Path) -> list[str]:
    out = Translator.load(d).translate(["four", "", "two thousand and forty-one \x00 é"], beam=2)
    assert len(out) == 3 and all(isinstance(s, str) for s in out)
    return out


@FAST
@given(name=st.sampled_from(FILES), data=st.data())
def test_a_damaged_file_is_a_clean_error_or_still_translates(folder, tmp_path_factory, name, data):
    d = tmp_path_factory.mktemp("m") / "model"
    shutil.copytree(folder, d, ignore=shutil.ignore_patterns("checkpoints"))
    _damage(d / name, data)
    outcome(lambda: _load_and_translate(d), seconds=60)


def test_a_vocabulary_entry_that_is_not_a_string_is_named(folder, tmp_path):
    """Found by the fuzzer: a dict among the tokens of vectorizer.json failed deep inside (TypeError)."""
    d = tmp_path / "model"
    shutil.copytree(folder, d, ignore=shutil.ignore_patterns("checkpoints"))
    path = d / "vectorizer_tgt/vectorizer.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    state["vocabulary"][7] = {"a": 1}
    path.write_text(json.dumps(state), encoding="utf-8")
    kind, err = outcome(lambda: Translator.load(d))
    assert kind == "error" and "'vocabulary' entry 7 is {'a': 1}, not a string" in str(err)


def test_a_piece_that_is_not_utf8_is_a_damaged_sentencepiece_model(folder, tmp_path):
    """Found by the fuzzer: a byte flipped inside a piece of sentencepiece.model gave a UnicodeDecodeError."""
    d = tmp_path / "model"
    shutil.copytree(folder, d, ignore=shutil.ignore_patterns("checkpoints"))
    path = d / "vectorizer_src/sentencepiece.model"
    raw = path.read_bytes()
    piece = next(p for p in json.loads((d / "vectorizer_src/vectorizer.json").read_text())["vocabulary"][4:]
                 if len(p.encode()) >= 2 and p.isascii())
    at = raw.index(piece.encode())
    path.write_bytes(raw[:at] + b"\xc1" + raw[at + 1:])
    kind, err = outcome(lambda: Translator.load(d))
    assert kind == "error" and "sentencepiece.model: not a valid SentencePiece model (UnicodeDecodeError" in str(err)
