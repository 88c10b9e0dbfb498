"""The page at / in a real browser: headless Chromium loads it from the real server, the page submits a
sentence (``?text=...&run=1`` runs the form's own submit code), and the DOM it built holds the translation,
the source pieces (the <unk> marked) and the attention heatmap; a screenshot is kept as a test artifact
(artifacts/serve_page.png, or $VECTORSEQ_TEST_ARTIFACTS).

Needs a Chromium binary (Debian's ``chromium``; scripts/setup.sh installs it where it can): skipped,
saying so, when none is found.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest

from _serve import ROOT, Server, served_model

from vectorseq.translator import Translator

pytestmark = pytest.mark.slow
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TEXT = "two thousand and one zebras"  # "zebras" is outside the tiny model's vocabulary


def _browser() -> str:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    pytest.skip(f"no headless browser found (looked for {', '.join(BROWSERS)}); on Debian: apt-get install "
                "chromium (scripts/setup.sh does this when it runs as root)")


def _chromium(browser: str, profile: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; the page is our own.
    # --virtual-time-budget: let the page's fetches and drawing finish before dumping or shooting.
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
           "--virtual-time-budget=20000", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_the_page_translates_and_shows_pieces_and_attention(tmp_path_factory, tmp_path):
    browser = _browser()
    model_dir = served_model(tmp_path_factory)
    tr = Translator.load(model_dir)
    with Server([model_dir], tmp_path / "server.log") as s:
        url = s.url + "/?" + urlencode({"text": TEXT, "run": 1, "n_best": 2})
        dom = _chromium(browser, tmp_path / "profile", url, "--dump-dom").stdout
        assert 'id="result"' in dom and 'id="result" hidden' not in dom, dom[-2000:]
        translation = re.search(r'id="translation"[^>]*>([^<]*)<', dom).group(1)
        beam = tr.config.decoding.beam_size  # the page starts from the model's beam
        assert html.unescape(translation) == tr.translate(TEXT, beam=beam)
        source = re.search(r'id="source-pieces"[^>]*>(.*?)</div>', dom, re.S).group(1)
        pieces = [html.unescape(p) for p in re.findall(r"<b>([^<]*)</b>", source)]
        assert pieces == tr.src_vectorizer.tokenize(TEXT) + ["</s>"]
        assert re.search(r'class="piece origin-learned unk"[^>]*><b>zebras</b>', source)
        heatmap = re.search(r'<svg id="heatmap".*?</svg>', dom, re.S).group(0)
        ex = tr.explain(TEXT, beam=beam, n_best=2)
        cells = len(heatmap.split('class="cell"')) - 1
        assert cells == len(ex.hypotheses[0].pieces) * len(ex.columns) > 0

        artifacts = Path(os.environ.get("VECTORSEQ_TEST_ARTIFACTS", ROOT / "artifacts"))
        artifacts.mkdir(parents=True, exist_ok=True)
        shot = artifacts / "serve_page.png"
        shot.unlink(missing_ok=True)
        _chromium(browser, tmp_path / "profile", url, "--window-size=1200,1400", f"--screenshot={shot}")
        assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
