"""The streaming batches as a ``torch.utils.data.IterableDataset``, for DataLoader workers and DDP ranks.

Each rank builds its own stream with its ``rank`` and ``world``; :class:`StreamingDataset` wraps the
stream (:class:`~vectorseq.data.windowed.StreamingBatches`) as an ``IterableDataset`` whose ``__iter__``
picks ``worker`` / ``num_workers`` from ``torch.utils.data.get_worker_info()``. It yields whole batches,
so use it with automatic batching off::

    ds = StreamingDataset("train.en.gz", "train.de.gz", src_vec, tgt_vec, 4096,
                          seed=42, rank=rank, world=world)
    loader = DataLoader(ds, batch_size=None, num_workers=2, pin_memory=True)
    for epoch in range(n):
        ds.set_epoch(epoch)             # before creating the epoch's iterator
        for batch in loader: ...

The order is deterministic for a given ``(seed, epoch, rank, world, num_workers, window)``: the
DataLoader takes one batch from each worker in turn. Ranks may get different numbers of batches; see
:func:`~vectorseq.data.lockstep.lockstep` for keeping them in step.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from torch.utils.data import IterableDataset, get_worker_info

from vectorseq.data.batching import Batch
from vectorseq.data.windowed import StreamingBatches
from vectorseq.errors import ConfigError
from vectorseq.language_vectorizer import LanguageVectorizers, LanguageView
from vectorseq.vectorizer import TextVectorizer

__all__ = ["StreamingDataset"]


def _vectorizer_state(vec: Any) -> Any:
    """A picklable form of a TextVectorizer: its saved files (word-mode vectorizers hold closures); one
    language's view of per-language vectorizers: every language's files, its reserved tokens and the language."""
    if isinstance(vec, LanguageView):
        parent = vec.parent
        return ("language", ({k: _vectorizer_state(v) for k, v in parent.vectorizers.items()},
                             parent.reserved_tokens, vec.lang))
    if not isinstance(vec, TextVectorizer) or "callable" in (vec.standardize_name, vec.split_name):
        return ("object", vec)
    with tempfile.TemporaryDirectory(prefix="vectorseq-stream-") as tmp:
        vec.save(tmp)
        return ("files", {p.name: p.read_bytes() for p in Path(tmp).iterdir()})


def _vectorizer_from_state(state: Any) -> Any:
    kind, payload = state
    if kind == "object":
        return payload
    if kind == "language":
        states, reserved, lang = payload
        return LanguageVectorizers({k: _vectorizer_from_state(v) for k, v in states.items()}, reserved).language(lang)
    with tempfile.TemporaryDirectory(prefix="vectorseq-stream-") as tmp:
        for name, data in payload.items():
            (Path(tmp) / name).write_bytes(data)
        return TextVectorizer.load(tmp)


class StreamingDataset(IterableDataset):
    """:class:`~vectorseq.data.windowed.StreamingBatches` as an ``IterableDataset`` (one item = one batch).

    Takes the arguments of :class:`~vectorseq.data.windowed.StreamingBatches` except
    ``worker``/``num_workers``, which each DataLoader worker reads from ``get_worker_info()`` (worker 0 of 1
    outside a DataLoader or with ``num_workers=0``). Use it with ``batch_size=None`` (the items are
    already batches)::

        loader = DataLoader(StreamingDataset(src, tgt, sv, tv, 4096, rank=r, world=w),
                            batch_size=None, num_workers=2, pin_memory=True)

    Call :meth:`set_epoch` before each epoch's ``iter(loader)`` (with ``persistent_workers=False``, the
    default, workers get a fresh copy of the dataset every epoch). The dataset pickles its vectorizers
    as their saved files, so it also works with the ``spawn`` / ``forkserver`` start methods.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        for key in ("worker", "num_workers"):
            if key in kwargs:
                raise ConfigError(f"StreamingDataset sets {key} from the DataLoader worker; do not pass it")
        self.stream = StreamingBatches(*args, **kwargs)  # validates the arguments now, in the main process

    def set_epoch(self, epoch: int) -> None:
        self.stream.set_epoch(epoch)

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        if info is None:
            return iter(self.stream)
        return iter(self.stream.for_worker(info.id, info.num_workers))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        s = self.stream
        shared = s.src_vectorizer is s.tgt_vectorizer
        stream_state = dict(s.__dict__)
        stream_state["src_vectorizer"] = _vectorizer_state(s.src_vectorizer)
        stream_state["tgt_vectorizer"] = None if shared else _vectorizer_state(s.tgt_vectorizer)
        state["stream"] = stream_state
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        stream_state = dict(state.pop("stream"))
        src = _vectorizer_from_state(stream_state["src_vectorizer"])
        tgt_state = stream_state["tgt_vectorizer"]
        stream_state["src_vectorizer"] = src
        stream_state["tgt_vectorizer"] = src if tgt_state is None else _vectorizer_from_state(tgt_state)
        stream = StreamingBatches.__new__(StreamingBatches)  # rebuilt from its state, as pickle does
        stream.__dict__.update(stream_state)
        self.__dict__.update(state)
        self.stream = stream
