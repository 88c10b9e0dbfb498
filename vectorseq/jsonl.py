"""JSON Lines: one record per line (training logs, comparison results)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable


def read_jsonl(path: str | Path, skip_broken: bool = False) -> list[dict[str, Any]]:
    """Every record of a JSON Lines file; an absent file has none. Blank lines are skipped.

    ``skip_broken``: a line that is not valid JSON (one cut short when a run was interrupted while appending)
    is skipped instead of raising.
    """
    p = Path(path)
    if not p.is_file():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if not skip_broken:
                raise
    return out


def append_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    """Append records, one line each (flushed when the file closes)."""
    with open(path, "a", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    """Replace the file with ``records`` atomically: written to a temporary name, then renamed over it."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, p)
