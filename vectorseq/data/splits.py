"""Load the train / valid / test splits named by a config's ``data`` section."""
from __future__ import annotations

from typing import Any

from ..errors import ConfigError


def _read_files(files: Any, data: Any, name: str, required: bool):
    from .parallel import read_parallel, read_tsv

    kw = dict(on_error=data.on_error, max_length=data.max_length)
    if files.tsv:
        return read_tsv(files.tsv, **kw)
    if files.src and files.tgt:
        return read_parallel(files.src, files.tgt, **kw)
    if required:
        raise ConfigError(f"data.{name}: give src and tgt files (or tsv)")
    return None


def load_splits(data: Any, seed: int = 0) -> dict[str, Any]:
    """Return ``{"train": ParallelCorpus, "valid": ..., "test": ... or None}`` for a DataConfig.

    The training subset (``data.subset``) is taken here so every strategy of a comparison sees exactly the
    same pairs for the same seed.
    """
    if data.dataset == "builtin":
        from .synthetic import builtin_splits

        b = data.builtin
        splits = builtin_splits(n_train=b.n_train, n_val=b.n_val, n_test=b.n_test, seed=b.seed, tgt_lang=data.tgt_lang)
        out = {"train": splits["train"], "valid": splits["val"], "test": splits.get("test")}
    elif data.dataset == "multi30k":
        from .multi30k import load_multi30k

        def get(split: str):
            return load_multi30k(split, src_lang=data.src_lang, tgt_lang=data.tgt_lang, data_dir=data.data_dir)

        out = {"train": get("train"), "valid": get("val"), "test": get(data.test_split)}
        if data.max_length:  # multi30k is clean; only the length limit applies to training pairs
            tr = out["train"]
            keep = [i for i in range(len(tr)) if len(tr.src[i].split()) <= data.max_length
                    and len(tr.tgt[i].split()) <= data.max_length]
            if len(keep) < len(tr):
                tr.src = [tr.src[i] for i in keep]
                tr.tgt = [tr.tgt[i] for i in keep]
    else:
        out = {"train": _read_files(data.train, data, "train", True),
               "valid": _read_files(data.valid, data, "valid", True),
               "test": _read_files(data.test, data, "test", False)}
    if data.subset:
        out["train"] = out["train"].subset(data.subset, mode=data.subset_mode, seed=seed)
    return out
