"""The README's checked tables: the rows between ``<!-- NAME: ... -->`` and ``<!-- /NAME -->``."""
from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_table_rows(name: str) -> list[str]:
    """The table rows (header included, the ``| ---`` line left out) of the README block ``name``."""
    text = README.read_text(encoding="utf-8")
    block = text.split(f"<!-- {name}:")[1].split(f"<!-- /{name} -->")[0]
    return [line for line in block.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
