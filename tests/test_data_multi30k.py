"""Tests for vectorseq/data/multi30k.py: finding, downloading and loading Multi30k.

Download tests run offline against a local http.server on 127.0.0.1 (and a file:// URL). Tests that need
the real Multi30k files skip when they are absent.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import os
import threading
from pathlib import Path

import pytest

from _data_files import write
from vectorseq.data import load_multi30k, multi30k_default_dir
from vectorseq.data import multi30k as m30k
from vectorseq.errors import ConfigError, DataError, VectorseqError

MULTI30K_DIR = Path(os.environ.get("VECTORSEQ_MULTI30K") or Path(__file__).resolve().parents[2] / "shared/data/multi30k")
needs_multi30k = pytest.mark.skipif(
    not (MULTI30K_DIR / "train.en.gz").is_file(), reason=f"Multi30k not found in {MULTI30K_DIR}"
)


# ========================================================================================================
# multi30k.py: downloads (offline, local server) and resolution
# ========================================================================================================
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def http_root(tmp_path, monkeypatch):
    """Serve ``tmp_path/"www"`` on 127.0.0.1; yields (folder, base_url)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    """No VECTORSEQ_MULTI30K, and a cache root inside tmp_path (never the user's real cache)."""
    monkeypatch.delenv("VECTORSEQ_MULTI30K", raising=False)
    monkeypatch.setenv("VECTORSEQ_CACHE", str(tmp_path / "cache_root"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_file_checksum_ok_and_mismatch(http_root, tmp_path):
    root, base = http_root
    served = write(root / "val.en.gz", "A dog.\nA cat.\n", gz=True)
    dest = tmp_path / "cache" / "val.en.gz"

    m30k.download_file(f"{base}/val.en.gz", dest, sha256=sha256(served), size=served.stat().st_size)
    assert dest.read_bytes() == served.read_bytes()

    dest2 = tmp_path / "cache" / "other.gz"
    with pytest.raises(DataError) as err:
        m30k.download_file(f"{base}/val.en.gz", dest2, sha256="0" * 64)
    msg = str(err.value)
    assert "checksum mismatch" in msg and f"{base}/val.en.gz" in msg and "was deleted" in msg
    assert not dest2.exists()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["val.en.gz"]  # no partial file left

    with pytest.raises(DataError, match="has 2 lines but 3 were expected"):
        m30k.download_file(f"{base}/val.en.gz", dest2, expected_lines=3)
    assert not dest2.exists()
    with pytest.raises(VectorseqError, match="HTTP 404"):
        m30k.download_file(f"{base}/missing.gz", dest2)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["val.en.gz"]


def test_download_file_url(tmp_path):
    served = write(tmp_path / "f.gz", "x\n", gz=True)
    dest = m30k.download_file(served.as_uri(), tmp_path / "out" / "f.gz", sha256=sha256(served))
    assert dest.read_bytes() == served.read_bytes()


def test_load_multi30k_downloads_into_cache(http_root, no_env, tmp_path, monkeypatch):
    root, base = http_root
    en = write(root / "val.en.gz", "A dog runs.\nTwo cats.\nA man.\n", gz=True)
    de = write(root / "val.de.gz", "Ein Hund rennt.\nZwei Katzen.\nEin Mann.\n", gz=True)
    monkeypatch.setitem(m30k.CHECKSUMS, ("val", "en"), m30k.FileInfo(sha256(en), en.stat().st_size))
    monkeypatch.setitem(m30k.CHECKSUMS, ("val", "de"), m30k.FileInfo(sha256(de), None))

    corpus = load_multi30k("val", "en", "de", url_base=base)
    cache = tmp_path / "cache_root" / "multi30k"  # $VECTORSEQ_CACHE/multi30k
    assert corpus.pairs()[1] == ("Two cats.", "Zwei Katzen.")
    assert sorted(p.name for p in cache.iterdir()) == ["val.de.gz", "val.en.gz"]
    assert "Multi30k val en-de" in corpus.source

    # Now served from the cache, with no download.
    en.unlink()
    assert load_multi30k("val", download=False).src == corpus.src

    # A wrong checksum on a file still to be downloaded: clear error, nothing left in the cache.
    write(root / "val.fr.gz", "Un chien.\nDeux chats.\nUn homme.\n", gz=True)
    monkeypatch.setitem(m30k.CHECKSUMS, ("val", "fr"), m30k.FileInfo("f" * 64, None))
    with pytest.raises(DataError, match="checksum mismatch"):
        load_multi30k("val", "en", "fr", url_base=base)
    assert sorted(p.name for p in cache.iterdir()) == ["val.de.gz", "val.en.gz"]


def test_unknown_checksum_is_verified_by_line_count(http_root, tmp_path, monkeypatch):
    root, base = http_root
    write(root / "test_2017_mscoco.de.gz", "only one line\n", gz=True)
    assert m30k.CHECKSUMS.get(("test_2017_mscoco", "de")) is None
    with pytest.raises(DataError, match="has 1 lines but 461 were expected"):
        m30k.download_multi30k("test_2017_mscoco", "de", tmp_path / "c", url_base=base)
    assert not any((tmp_path / "c").iterdir())


def test_no_data_and_no_download_gives_one_clear_error(no_env, tmp_path):
    with pytest.raises(VectorseqError) as err:
        load_multi30k("train", download=False)
    msg = str(err.value)
    assert "\n" not in msg
    assert "$VECTORSEQ_MULTI30K (not set)" in msg
    assert str(tmp_path / "cache_root" / "multi30k") in msg
    assert "pass --data-dir DIR or set VECTORSEQ_MULTI30K=DIR, or connect to the internet" in msg


def test_failed_download_gives_one_clear_error(no_env, tmp_path, monkeypatch):
    monkeypatch.setenv("VECTORSEQ_MULTI30K", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    # Port 9 (discard) on localhost: nothing listens, the connection is refused at once.
    with pytest.raises(VectorseqError) as err:
        load_multi30k("val", cache_dir=tmp_path / "c", url_base="http://127.0.0.1:9")
    msg = str(err.value)
    assert "could not download http://127.0.0.1:9/val.en.gz" in msg
    assert f"$VECTORSEQ_MULTI30K={tmp_path / 'empty'} (no val.en.gz and val.de.gz)" in msg
    assert "connect to the internet" in msg
    assert not any((tmp_path / "c").iterdir())


def test_explicit_data_dir_without_files(tmp_path, no_env):
    write(tmp_path / "train.en.gz", "x\n", gz=True)
    with pytest.raises(DataError) as err:
        load_multi30k("train", data_dir=tmp_path)
    assert str(tmp_path) in str(err.value) and "no train.de.gz" in str(err.value)
    with pytest.raises(DataError, match="does not exist"):
        load_multi30k("train", data_dir=tmp_path / "nope")


def test_bad_split_or_language(no_env):
    with pytest.raises(ConfigError, match="unknown Multi30k split 'test'"):
        load_multi30k("test")
    with pytest.raises(ConfigError, match="has no language 'cs'"):
        load_multi30k("test_2017_mscoco", "en", "cs")
    with pytest.raises(ConfigError, match="both 'en'"):
        load_multi30k("train", "en", "en")


def test_default_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("VECTORSEQ_MULTI30K", str(tmp_path))
    assert multi30k_default_dir() == tmp_path


# ========================================================================================================
# multi30k.py: the real files (skipped when absent)
# ========================================================================================================
@pytest.mark.multi30k
@needs_multi30k
def test_real_multi30k_counts(no_env):
    expected = {"train": 29_000, "val": 1_014, "test_2016_flickr": 1_000}
    for split, n in expected.items():
        corpus = load_multi30k(split, "en", "de", data_dir=MULTI30K_DIR, download=False)
        assert len(corpus) == n and corpus.skipped == {}
    assert corpus.pairs()[0] == (
        "A man in an orange hat starring at something.",
        "Ein Mann mit einem orangefarbenen Hut, der etwas anstarrt.",
    )


@pytest.mark.multi30k
@needs_multi30k
def test_real_multi30k_via_env_var_and_fr(monkeypatch, tmp_path):
    monkeypatch.setenv("VECTORSEQ_MULTI30K", str(MULTI30K_DIR))
    monkeypatch.setenv("VECTORSEQ_CACHE", str(tmp_path))
    corpus = load_multi30k("val", "en", "fr", download=False)
    assert len(corpus) == 1_014
    assert corpus.src[0] and corpus.tgt[0]


@pytest.mark.multi30k
@needs_multi30k
def test_checksum_table_matches_official_files():
    for (split, lang), info in m30k.CHECKSUMS.items():
        path = MULTI30K_DIR / f"{split}.{lang}.gz"
        if path.is_file():
            assert sha256(path) == info.sha256, path
            assert path.stat().st_size == info.size, path
