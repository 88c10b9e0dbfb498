"""Issue 13's measured table: bilingual En->De and En->Fr models against one En->{De,Fr} model, from two
finished `vectorseq compare` folders, as Markdown and JSON.

    python benchmarks/multilingual_table.py runs/compare/multi30k_multilingual runs/compare/multi30k_multilingual_fr

The En->De experiment scored every run on En->De and each multilingual run on every one of its directions too
(``test_by_direction`` in results.jsonl: En->Fr, and the zero-shot De->Fr of the En<->{De,Fr} model; each on
its own test_2016_flickr split with the same greedy search). The En->Fr experiment holds the bilingual En->Fr
models.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def _records(folder: Path) -> dict[str, dict]:
    """The latest finished record of every strategy (one size, one seed in these experiments)."""
    out: dict[str, dict] = {}
    path = folder / "results.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        r = json.loads(line)
        if r.get("status") == "ok":
            out[r["strategy"]] = r
    return out


def table(de_folder: Path, fr_folder: Path) -> tuple[str, list[dict]]:
    de, fr = _records(de_folder), _records(fr_folder)
    rows = []
    for name, r in de.items():
        by = r.get("test_by_direction") or {}
        row = {"strategy": name, "en-de": r["test_bleu"], "steps": r["steps"], "stop": r["stop_class"],
               "parameters": r["parameters"], "minutes": r.get("train_minutes")}
        if by:
            row.update({d: s["bleu"] for d, s in by.items() if d != "en-de"})
            row["zero_shot"] = [d for d, s in by.items() if s.get("zero_shot")]
        elif name in fr:  # a bilingual strategy: its En->Fr twin
            row["en-fr"] = fr[name]["test_bleu"]
            row["steps_en_fr"] = fr[name]["steps"]
        rows.append(row)
    lines = ["| strategy | En->De BLEU | En->Fr BLEU | other directions | updates (stop) |",
             "| --- | ---: | ---: | --- | --- |"]
    for row in rows:
        other = ", ".join(f"{d} {row[d]:.2f}{' (zero-shot)' if d in row.get('zero_shot', []) else ''}"
                          for d in row if "-" in d and d not in ("en-de", "en-fr"))
        fr_bleu = f"{row['en-fr']:.2f}" if "en-fr" in row else "-"
        steps = f"{row['steps']} ({row['stop']})" + (f" + {row['steps_en_fr']} En->Fr" if "steps_en_fr" in row else "")
        lines.append(f"| {row['strategy']} | {row['en-de']:.2f} | {fr_bleu} | {other or '-'} | {steps} |")
    return "\n".join(lines), rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("de_folder", type=Path)
    ap.add_argument("fr_folder", type=Path)
    a = ap.parse_args()
    text, rows = table(a.de_folder, a.fr_folder)
    print(text)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
