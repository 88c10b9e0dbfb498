"""Model folders written before the redesign still load and translate identically."""
import json
import re
from pathlib import Path

import pytest

from vectorseq import Translator

FIXTURES = Path(__file__).parent / "fixtures" / "model_folders_v0_1"
KINDS = ["transformer_spm", "rnn_word", "transformer_sentvec"]


@pytest.mark.parametrize("kind", KINDS)
def test_old_model_folder_translates_identically(kind):
    folder = FIXTURES / kind
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    tr = Translator.load(folder)
    if kind.startswith("transformer"):  # written before `model.norm` existed: loads as the pre-norm it was
        assert not re.search(r"^\s+norm:", (folder / "config.yaml").read_text(encoding="utf-8"), re.M)
        assert tr.config.model.norm == "pre" and tr.model.norm == "pre"
    texts = expected["texts"]
    assert [tr.src_vectorizer.encode(t) for t in texts] == expected["src_ids"]
    assert tr.translate(texts, beam=1) == expected["greedy"]
    assert tr.translate(texts, beam=3) == expected["beam3"]
    scores = [[float(h.score) for h in hs] for hs in tr.translate_hypotheses(texts, beam=3, n_best=3)]
    for got, want in zip(scores, expected["beam3_scores"]):
        assert got == pytest.approx(want, abs=1e-4)
