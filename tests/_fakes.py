"""Small stand-ins shared by tests."""
from __future__ import annotations


class FakeVocab:
    """Just enough of a vectorizer for building a model (no idf_, no tokenizer)."""

    def __init__(self, n: int):
        self.n = n

    def vocabulary_size(self) -> int:
        return self.n

    def get_vocabulary(self) -> list[str]:
        return [f"t{i}" for i in range(self.n)]
