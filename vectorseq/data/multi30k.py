"""The Multi30k dataset (WMT multimodal task 1): finding it on disk, downloading it, loading a split.

Multi30k is a small, clean English-German(-French-Czech) corpus of image descriptions: 29,000 training
pairs, 1,014 validation pairs and several 1,000-pair test sets. It is the standard first benchmark for
sequence-to-sequence translation, and vectorseq's default real-world dataset.

The files are the official ones from https://github.com/multi30k/dataset (``data/task1/raw``): raw
(untokenized, cased) sentences, gzip-compressed, one per line, named ``{split}.{lang}.gz``; line ``i`` of
``train.en.gz`` translates line ``i`` of ``train.de.gz``.

Where :func:`load_multi30k` looks, in order
--------------------------------------------
1. ``data_dir`` if given (a folder holding ``{split}.{lang}.gz``, or uncompressed ``{split}.{lang}``).
   An explicit folder is trusted: if the files are not there, that is an error, with no fallback.
2. The folder in the environment variable ``VECTORSEQ_MULTI30K``.
3. The cache folder: ``cache_dir`` if given, else ``$VECTORSEQ_CACHE/multi30k`` if that variable is set,
   else ``~/.cache/vectorseq/multi30k``.
4. If ``download=True``: the files missing from the cache are downloaded from :data:`MULTI30K_URL`
   into it, checked against :data:`CHECKSUMS`, and read from there.

If none of these works, a single :class:`~vectorseq.errors.VectorseqError` says where it looked and how
to fix it. Downloads use only the standard library (``urllib``); each file is written to a temporary file
in the cache folder and renamed into place only once verified, so an interrupted or corrupt download
never leaves a file that looks complete.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vectorseq.data.corpus import ParallelCorpus
from vectorseq.data.lines import PathLike
from vectorseq.data.parallel import read_parallel
from vectorseq.errors import ConfigError, DataError, VectorseqError

__all__ = [
    "MULTI30K_URL",
    "SPLITS",
    "SPLIT_SIZES",
    "SPLIT_LANGUAGES",
    "CHECKSUMS",
    "FileInfo",
    "load_multi30k",
    "download_multi30k",
    "download_file",
    "multi30k_default_dir",
    "multi30k_cache_dir",
]

#: Base URL of the official raw files; a file's URL is ``f"{MULTI30K_URL}/{split}.{lang}.gz"``.
#: Tests point :func:`load_multi30k` elsewhere with its ``url_base`` argument.
MULTI30K_URL = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw"

#: Environment variable naming a folder that holds the Multi30k files.
ENV_DATA_DIR = "VECTORSEQ_MULTI30K"
#: Environment variable naming vectorseq's cache root (Multi30k goes in its ``multi30k`` subfolder).
ENV_CACHE = "VECTORSEQ_CACHE"

#: The splits of task 1, in the official file names.
SPLITS = ("train", "val", "test_2016_flickr", "test_2017_flickr", "test_2018_flickr", "test_2017_mscoco")

#: Number of sentence pairs (lines per file) of each split.
SPLIT_SIZES = {
    "train": 29_000,
    "val": 1_014,
    "test_2016_flickr": 1_000,
    "test_2017_flickr": 1_000,
    "test_2018_flickr": 1_071,
    "test_2017_mscoco": 461,
}

#: The languages each split exists in (Czech was added for 2016 and 2018 only).
SPLIT_LANGUAGES = {
    "train": ("en", "de", "fr", "cs"),
    "val": ("en", "de", "fr", "cs"),
    "test_2016_flickr": ("en", "de", "fr", "cs"),
    "test_2017_flickr": ("en", "de", "fr"),
    "test_2018_flickr": ("en", "de", "fr", "cs"),
    "test_2017_mscoco": ("en", "de", "fr"),
}


@dataclass(frozen=True)
class FileInfo:
    """What a downloaded file is checked against: its SHA-256 (hex) and size in bytes (None = unknown)."""

    sha256: str | None
    size: int | None


# SHA-256 and byte sizes computed from the official files (unchanged copies of data/task1/raw at the time
# of writing) for train/val/test_2016_flickr in en/de/fr. For the other files (Czech, and the 2017 and
# 2018 test sets) no verified copy was available when this table was made, so their checksum is None:
# those downloads are verified by size only, i.e. they must be valid gzip with exactly SPLIT_SIZES[split]
# lines. Add their checksums here once they have been computed from trusted copies.
CHECKSUMS: dict[tuple[str, str], FileInfo] = {
    ("train", "en"): FileInfo("d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f", 568_929),
    ("train", "de"): FileInfo("726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6", 637_044),
    ("train", "fr"): FileInfo("622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c", 604_242),
    ("val", "en"): FileInfo("14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28", 21_650),
    ("val", "de"): FileInfo("f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a", 24_681),
    ("val", "fr"): FileInfo("ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9", 23_001),
    ("test_2016_flickr", "en"): FileInfo("611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9", 21_077),
    ("test_2016_flickr", "de"): FileInfo("9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8", 22_890),
    ("test_2016_flickr", "fr"): FileInfo("6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90", 22_310),
}
_UNKNOWN = FileInfo(None, None)

_FIX = "pass --data-dir DIR or set VECTORSEQ_MULTI30K=DIR, or connect to the internet for the automatic download"


# --------------------------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------------------------
def multi30k_default_dir() -> Path | None:
    """The Multi30k folder for tests and benchmarks, or None if there is none.

    ``$VECTORSEQ_MULTI30K`` if it names a folder; else ``../shared/data/multi30k`` beside the repository
    (in a source checkout at ``/work/main`` that is ``/work/shared/data/multi30k``); else None.
    """
    env = os.environ.get(ENV_DATA_DIR)
    if env and Path(env).expanduser().is_dir():
        return Path(env).expanduser()
    beside_repo = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "multi30k"
    if beside_repo.is_dir():
        return beside_repo
    return None


def multi30k_cache_dir(cache_dir: PathLike | None = None) -> Path:
    """Where downloads are cached: ``cache_dir`` if given, else ``$VECTORSEQ_CACHE/multi30k``, else
    ``~/.cache/vectorseq/multi30k``. The folder is not created here."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    root = os.environ.get(ENV_CACHE)
    if root:
        return Path(root).expanduser() / "multi30k"
    return Path.home() / ".cache" / "vectorseq" / "multi30k"


def _find_file(folder: Path, split: str, lang: str) -> Path | None:
    """``folder/{split}.{lang}.gz``, or the uncompressed ``folder/{split}.{lang}``, if either exists."""
    for name in (f"{split}.{lang}.gz", f"{split}.{lang}"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


# --------------------------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------------------------
def _count_gzip_lines(path: Path) -> int:
    with gzip.open(path, "rb") as f:
        return sum(1 for _ in f)


def download_file(
    url: str,
    dest: PathLike,
    *,
    sha256: str | None = None,
    size: int | None = None,
    expected_lines: int | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` safely: temporary file, verification, then atomic rename.

    The data is streamed into a temporary file in ``dest``'s folder while its SHA-256 is computed. Only if
    every given check passes is the file renamed to ``dest`` (``os.replace``, atomic on one file system);
    on any failure, including Ctrl-C, the temporary file is deleted, so ``dest`` is either absent or
    complete and verified.

    Args:
        url: an ``http(s)://`` or ``file://`` URL.
        dest: the final path; its folder is created if needed.
        sha256: expected SHA-256 (hex) of the downloaded bytes, or None to skip the check.
        size: expected size in bytes, or None.
        expected_lines: if given, the file must be gzip with exactly this many lines (used for files
            whose checksum is unknown).
        timeout: seconds to wait for the server on each network operation.

    Returns:
        ``dest`` as a Path.

    Raises:
        VectorseqError: the server could not be reached or answered with an error.
        DataError: the download does not match ``sha256``, ``size`` or ``expected_lines`` (the message
            names the URL, both values and what to do).
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise VectorseqError(f"cannot create the download folder {dest.parent}: {e.strerror or e}") from None
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest, n_bytes = _fetch(url, fd, timeout)
        _verify(tmp, url, digest, n_bytes, sha256=sha256, size=size, expected_lines=expected_lines)
        os.replace(tmp, dest)
    except BaseException:  # Ctrl-C included: never leave a partial file behind
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _fetch(url: str, fd: int, timeout: float) -> tuple[str, int]:
    """Stream ``url`` into the open file ``fd`` (closed here); return its SHA-256 (hex) and size in bytes."""
    digest = hashlib.sha256()
    n_bytes = 0
    request = urllib.request.Request(url, headers={"User-Agent": "vectorseq (urllib)"})
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                n_bytes += len(chunk)
    except urllib.error.HTTPError as e:
        raise VectorseqError(f"download of {url} failed: HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise VectorseqError(f"could not download {url}: {e.reason}") from None
    except (TimeoutError, ConnectionError, OSError) as e:
        raise VectorseqError(f"could not download {url}: {e}") from None
    return digest.hexdigest(), n_bytes


def _verify(tmp: Path, url: str, digest: str, n_bytes: int, *, sha256: str | None, size: int | None,
            expected_lines: int | None) -> None:
    """Raise DataError unless the downloaded file ``tmp`` passes every check that is given."""
    redo = f"{url} was deleted; retry, or download the file by hand and pass --data-dir DIR"
    if size is not None and n_bytes != size:
        raise DataError(f"the download has {n_bytes} bytes but {size} were expected; {redo}", url)
    if sha256 is not None and digest != sha256.lower():
        raise DataError(
            f"checksum mismatch: SHA-256 is {digest} but {sha256} was expected "
            f"(a corrupted download, or the file on the server changed); {redo}",
            url,
        )
    if expected_lines is None:
        return
    try:
        n_lines = _count_gzip_lines(tmp)
    except (OSError, EOFError, zlib.error):
        raise DataError(f"the download is not a valid gzip file (an error page?); {redo}", url) from None
    if n_lines != expected_lines:
        raise DataError(f"the download has {n_lines} lines but {expected_lines} were expected; {redo}", url)


def _check_split(split: str, langs: tuple[str, ...]) -> None:
    if split not in SPLITS:
        raise ConfigError(f"unknown Multi30k split {split!r}; choose from {', '.join(SPLITS)}")
    for lang in langs:
        if lang not in SPLIT_LANGUAGES[split]:
            raise ConfigError(
                f"Multi30k split {split!r} has no language {lang!r}; it exists in {', '.join(SPLIT_LANGUAGES[split])}"
            )


def download_multi30k(
    split: str,
    lang: str,
    cache_dir: PathLike | None = None,
    url_base: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``{split}.{lang}.gz`` into the cache (unless it is already there) and return its path.

    The file is verified against :data:`CHECKSUMS` (SHA-256 and size) where its checksum is known, and
    against its line count (:data:`SPLIT_SIZES`) otherwise. ``url_base`` defaults to :data:`MULTI30K_URL`.
    """
    _check_split(split, (lang,))
    folder = multi30k_cache_dir(cache_dir)
    dest = folder / f"{split}.{lang}.gz"
    if dest.is_file():
        return dest
    info = CHECKSUMS.get((split, lang), _UNKNOWN)
    base = (url_base or MULTI30K_URL).rstrip("/")
    return download_file(
        f"{base}/{split}.{lang}.gz",
        dest,
        sha256=info.sha256,
        size=info.size,
        expected_lines=None if info.sha256 else SPLIT_SIZES[split],
        timeout=timeout,
    )


# --------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------
def load_multi30k(
    split: str = "train",
    src_lang: str = "en",
    tgt_lang: str = "de",
    data_dir: PathLike | None = None,
    cache_dir: PathLike | None = None,
    download: bool = True,
    *,
    url_base: str | None = None,
    **read_options: Any,
) -> ParallelCorpus:
    """Load one Multi30k split as a :class:`ParallelCorpus` (see the module docstring for where it looks).

    Args:
        split: one of :data:`SPLITS`: ``"train"``, ``"val"``, ``"test_2016_flickr"``, ...
        src_lang, tgt_lang: language codes, e.g. ``"en"`` and ``"de"`` (see :data:`SPLIT_LANGUAGES`).
        data_dir: a folder holding the files; if given, it is the only place looked at.
        cache_dir: the download cache (default ``$VECTORSEQ_CACHE/multi30k`` or
            ``~/.cache/vectorseq/multi30k``).
        download: whether files missing from the cache may be downloaded.
        url_base: where to download from (default :data:`MULTI30K_URL`); for mirrors and tests.
        **read_options: passed to :func:`~vectorseq.data.parallel.read_parallel` (``on_error``,
            ``max_length``, ``max_length_ratio``, ``min_length``).

    Raises:
        ConfigError: unknown split or language.
        DataError: ``data_dir`` lacks the files, or a download failed verification.
        VectorseqError: the files are nowhere and could not be downloaded; the message lists the places
            looked at and the fix.

    Example::

        train = load_multi30k("train", "en", "de")        # 29,000 pairs
        test = load_multi30k("test_2016_flickr")           # 1,000 pairs
    """
    if src_lang == tgt_lang:
        raise ConfigError(f"src_lang and tgt_lang are both {src_lang!r}; choose two different languages")
    _check_split(split, (src_lang, tgt_lang))
    langs = (split, src_lang, tgt_lang)
    if data_dir is not None:  # an explicit folder: use it or fail, never fall back silently
        folder, src, tgt = _in_data_dir(Path(data_dir).expanduser(), *langs)
    else:
        folder, src, tgt = _find_or_download(*langs, multi30k_cache_dir(cache_dir), download, url_base)
    corpus = read_parallel(src, tgt, **read_options)
    corpus.source = f"Multi30k {split} {src_lang}-{tgt_lang} ({folder})"
    return corpus


def _find_pair(folder: Path, split: str, src_lang: str, tgt_lang: str) -> tuple[Path | None, Path | None]:
    return _find_file(folder, split, src_lang), _find_file(folder, split, tgt_lang)


def _in_data_dir(folder: Path, split: str, src_lang: str, tgt_lang: str) -> tuple[Path, Path, Path]:
    """Step 1: the folder given as ``data_dir``, which must hold both files."""
    if not folder.is_dir():
        raise DataError("the Multi30k data folder does not exist; check the path given as data_dir", str(folder))
    src, tgt = _find_pair(folder, split, src_lang, tgt_lang)
    if src is None or tgt is None:
        missing = [f"{split}.{lang}.gz" for lang, p in ((src_lang, src), (tgt_lang, tgt)) if p is None]
        raise DataError(
            f"the Multi30k folder has no {' or '.join(missing)}; it must hold the official files "
            f"{{split}}.{{lang}}.gz from github.com/multi30k/dataset (data/task1/raw)",
            str(folder),
        )
    return folder, src, tgt


def _find_or_download(split: str, src_lang: str, tgt_lang: str, cache: Path, download: bool,
                      url_base: str | None) -> tuple[Path, Path, Path]:
    """Steps 2 to 4: ``$VECTORSEQ_MULTI30K``, the cache, the download; else one error saying where it looked."""
    names = f"{split}.{src_lang}.gz and {split}.{tgt_lang}.gz"
    looked: list[str] = []
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        folder = Path(env).expanduser()
        src, tgt = _find_pair(folder, split, src_lang, tgt_lang)
        if src is not None and tgt is not None:
            return folder, src, tgt
        looked.append(f"${ENV_DATA_DIR}={folder} ({'no ' + names if folder.is_dir() else 'not a folder'})")
    else:
        looked.append(f"${ENV_DATA_DIR} (not set)")
    src, tgt = _find_pair(cache, split, src_lang, tgt_lang)
    if src is not None and tgt is not None:
        return cache, src, tgt
    looked.append(f"the cache {cache} (no {names})")
    if not download:
        looked.append("the download (disabled by download=False / --no-download)")
    else:
        url = (url_base or MULTI30K_URL).rstrip("/")
        try:
            return (cache, src or download_multi30k(split, src_lang, cache, url),
                    tgt or download_multi30k(split, tgt_lang, cache, url))
        except DataError:
            raise  # a checksum or size mismatch: its own message says what to do
        except VectorseqError as e:
            looked.append(f"the download ({e})")
    raise VectorseqError(f"Multi30k {split} {src_lang}-{tgt_lang} not found: looked in {'; '.join(looked)}. To fix: {_FIX}")
