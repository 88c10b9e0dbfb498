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
    """Append records, one line each (flushed when the file closes).

    A file whose last line was cut short (a kill while appending) first gets the newline it lacks: the next
    record would otherwise be glued to the broken line and skipped with it.
    """
    p = Path(path)
    torn = False
    if p.is_file() and p.stat().st_size:
        with open(p, "rb") as f:
            f.seek(-1, 2)
            torn = f.read(1) != b"\n"
    with open(p, "a", encoding="utf-8") as f:
        if torn:
            f.write("\n")
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    """Replace the file with ``records`` atomically (a temporary file renamed into place)."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    os.replace(tmp, p)
