"""The multilingual demo: its config trains, and the quick run reports every direction."""
from __future__ import annotations

from vectorseq.cli import main
from vectorseq.config import load_config
from vectorseq.demo_multilingual import DEMO_MULTILINGUAL_CONFIG


def test_the_demo_config_is_valid_and_multilingual():
    cfg = load_config(DEMO_MULTILINGUAL_CONFIG)
    assert len(cfg.data.directions) == 4 and cfg.data.zero_shot == ["de-fr"] and cfg.vectorizer.shared


def test_quick_multilingual_demo_prints_every_direction(tmp_path, capsys):
    assert main(["demo", "--multilingual", "--quick", "--quiet", "--output", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    for direction in ("en-de", "en-fr", "de-en", "fr-en"):
        assert f"| {direction} |" in out
    assert "| de-fr |" in out and "zero-shot" in out and "mean of 4 trained" in out
    assert "en->fr  'two thousand and forty-one'" in out and "--tgt-lang fr" in out
