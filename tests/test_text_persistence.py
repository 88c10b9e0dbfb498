"""Tests for vectorseq.text.persistence: vectorizer.json (+ sentencepiece.model) saved and loaded back."""
from __future__ import annotations

import json

import numpy as np
import pytest

from vectorseq.errors import VectorseqError
from vectorseq.vectorizer import TextVectorizer

from _text_data import BAG_TEXTS, CORPUS, MULTILINGUAL, sp_vectorizer


def test_save_load_word(tmp_path):
    v = TextVectorizer(split="word", standardize="nfkc_lower", output_mode="tf_idf", ngrams=2,
                       min_freq=1, max_tokens=40, sublinear_tf=True).adapt(BAG_TEXTS + MULTILINGUAL)
    v.save(tmp_path / "vec")
    assert sorted(p.name for p in (tmp_path / "vec").iterdir()) == ["vectorizer.json"]
    json.loads((tmp_path / "vec" / "vectorizer.json").read_text(encoding="utf-8"))
    w = TextVectorizer.load(tmp_path / "vec")
    assert w.get_vocabulary() == v.get_vocabulary()
    assert w.get_config() == v.get_config()
    assert json.dumps(w.get_config())  # JSON-able
    np.testing.assert_array_equal(w.idf_, v.idf_)
    texts = BAG_TEXTS + ["unknown words here"]
    assert w.encode_many(texts) == v.encode_many(texts)
    np.testing.assert_array_equal(w.transform(texts).toarray(), v.transform(texts).toarray())
    # given idf weights keep their (unnormalized) semantics
    g = TextVectorizer(output_mode="tf_idf", vocabulary=["a", "b"], idf_weights=[2.0, 3.0])
    g.save(tmp_path / "g")
    np.testing.assert_array_equal(TextVectorizer.load(tmp_path / "g").transform(["a b"]).toarray(),
                                  g.transform(["a b"]).toarray())


def test_save_load_sentencepiece(tmp_path, sp_vectorizer):
    v = sp_vectorizer
    v.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sentencepiece.model", "vectorizer.json"]
    w = TextVectorizer.load(tmp_path)
    assert w.get_vocabulary() == v.get_vocabulary() and w.get_config() == v.get_config()
    assert w.encode_many(CORPUS[:30]) == v.encode_many(CORPUS[:30])
    assert [w.decode(ids) for ids in w.encode_many(CORPUS[:30])] == CORPUS[:30]


def test_save_load_errors(tmp_path):
    with pytest.raises(VectorseqError, match="named option"):
        TextVectorizer(standardize=str.lower).adapt(["a"]).save(tmp_path / "x")
    with pytest.raises(VectorseqError, match="named option"):
        TextVectorizer(split=str.split).adapt(["a"]).save(tmp_path / "x")
    with pytest.raises(VectorseqError, match="no saved vectorizer"):
        TextVectorizer.load(tmp_path / "missing")
    with pytest.raises(VectorseqError, match="adapt"):
        TextVectorizer().save(tmp_path / "y")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "vectorizer.json").write_text("{not json")
    with pytest.raises(VectorseqError, match="not valid JSON"):
        TextVectorizer.load(tmp_path / "bad")


def test_hostile_split_pattern_in_vectorizer_json_is_refused_not_hanging(tmp_path):
    # issue 17 item 6: a catastrophic-backtracking split_pattern planted in vectorizer.json hung translate.
    # Run in a subprocess with a timeout, so a regression fails instead of hanging the suite.
    import json
    import os
    import subprocess
    import sys

    from vectorseq.vectorizer import TextVectorizer
    TextVectorizer(split="word", split_pattern=r"\w+").adapt(["a b c", "b c d"]).save(tmp_path / "v")
    path = tmp_path / "v" / "vectorizer.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    blob = json.dumps(state)
    assert r"\\w+" in blob  # the pattern is stored; plant a hostile one in its place
    path.write_text(blob.replace(r"\\w+", r"(a+)+$"), encoding="utf-8")
    code = ("import sys\nfrom vectorseq.vectorizer import TextVectorizer\nfrom vectorseq.errors import VectorseqError\n"
            "try:\n    v = TextVectorizer.load(sys.argv[1]); print(v.encode_many(['a' * 40 + '!']))\n"
            "except VectorseqError as e:\n    print('ERROR', e)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "v")], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert "ERROR split_pattern '(a+)+$' has a quantifier inside a repeated group" in r.stdout
