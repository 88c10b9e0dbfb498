"""The model folder's checks before loading: a config that asks for another (huge) model than its weights."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from vectorseq import Translator
from vectorseq.errors import VectorseqError
from vectorseq.modelfolder import weight_shapes

FIXTURE = Path(__file__).parent / "fixtures" / "model_folders_v0_1" / "transformer_spm"


def _folder_with(tmp_path: Path, **model: object) -> Path:
    d = tmp_path / "m"
    shutil.copytree(FIXTURE, d)
    cfg = yaml.safe_load((d / "config.yaml").read_text(encoding="utf-8"))
    cfg["model"].update(model)
    (d / "config.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return d


@pytest.mark.parametrize("model", [
    {"d_model": 1 << 16, "ff_size": 1 << 18},  # ~10^11 values: shapes differ from the header
    {"encoder_layers": 64, "decoder_layers": 64},  # same shapes, far more tensors than the file holds
])
def test_a_config_asking_for_a_huge_model_is_refused_before_allocating(tmp_path, model):
    d = _folder_with(tmp_path, **model)
    with pytest.raises(VectorseqError, match=r"the folder's config describes a model of [\d,]+ parameter values "
                                             r"but the weights hold [\d,]+"):
        Translator.load(d)


def test_the_header_is_read_without_loading_tensors(tmp_path):
    shapes = weight_shapes(FIXTURE / "model.safetensors")
    assert shapes and all(isinstance(s, tuple) for s in shapes.values())
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\xff" * 16)
    with pytest.raises(VectorseqError, match="not a readable safetensors weights file"):
        weight_shapes(bad)


def test_translation_input_over_max_input_tokens_is_cut_with_a_warning():
    t = Translator.load(FIXTURE)
    t.config.decoding.max_input_tokens = 6
    with pytest.warns(UserWarning, match=r"1 source\(s\) longer than decoding.max_input_tokens=6 .*line\(s\) 2\)"):
        ids = t.encode_sources(["a b", "a b c d e f g h i j k l"])
    assert len(ids[1]) == 6 and ids[1][-1] == ids[0][-1]  # cut, still ending with EOS
    with pytest.warns(UserWarning):
        out = t.translate(["one two", "one " * 5000], beam=1)
    assert len(out) == 2
