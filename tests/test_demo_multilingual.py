"""The multilingual demo: its config trains, and the quick run reports every direction."""
from __future__ import annotations

import pytest
from _readme import readme_table_rows

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


@pytest.mark.slow
def test_the_full_multilingual_demo_prints_the_readme_table(tmp_path, capsys):
    """The README's multilingual demo numbers are what `vectorseq demo --multilingual` prints (1,600 updates,
    one thread, so the same on any machine with the same torch build)."""
    rows = readme_table_rows("demo-multilingual-table")
    assert len(rows) == 7  # the header, 4 trained directions, the zero-shot one, the mean
    assert main(["demo", "--multilingual", "--quiet", "--output", str(tmp_path / "m")]) == 0
    printed = capsys.readouterr().out.splitlines()
    missing = [r for r in rows if r not in printed]
    assert not missing, f"README rows not printed by the demo: {missing}"
