"""The report's **Scores by direction** section, for grids with multilingual strategies (``data.directions``).

Every run is scored on the base config's direction (the Results table); a multilingual run is also scored on
every direction it was trained on and on its zero-shot ones (``test_by_direction`` in its record, each on that
direction's own test split with the configured search). This table puts them side by side: one row per strategy
and size, one column per direction, test BLEU mean ± std over seeds; a bilingual run fills only the base
direction's column. Zero-shot cells are marked (zs).
"""
from __future__ import annotations

from typing import Any

from .results import fmt_values, size_text


def direction_blocks(rows: list[dict[str, Any]], base_direction: str) -> list[tuple]:
    """The section's blocks, or none when no run has scores by direction."""
    if not any(r.get("test_by_direction") for row in rows for r in row["records"]):
        return []
    names = [base_direction]
    for row in rows:
        for r in row["records"]:
            names += [d for d in r.get("test_by_direction") or {} if d not in names]
    table = []
    for row in rows:
        cells = []
        for d in names:
            values, zero_shot = [], False
            for r in row["records"]:
                by = r.get("test_by_direction")
                if by and d in by:
                    values.append(by[d].get("bleu"))
                    zero_shot = zero_shot or bool(by[d].get("zero_shot"))
                elif not by and d == base_direction:  # a bilingual run: its one direction
                    values.append(r.get("test_bleu"))
            cells.append(fmt_values(values, 2) + (" (zs)" if zero_shot and values else ""))
        table.append([row["strategy"], size_text(row)] + cells)
    text = ("Test BLEU of every direction a run was trained on (or scored zero-shot, marked zs), each on its own "
            f"test split, mean ± std over seeds. Bilingual runs translate only {base_direction}.")
    return [("h", 2, "Scores by direction"), ("p", text),
            ("table", ["strategy", "pairs"] + names, table, ["l", "r"] + ["r"] * len(names))]
