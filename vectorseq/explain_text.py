"""An :class:`~vectorseq.explain.Explanation` as plain text for a terminal (``vectorseq inspect``): the same
view as the server's page, with the attention drawn in shade characters."""
from __future__ import annotations

from .explain import Explanation, Piece

SHADES = " .:-=+*#%@"  # ten steps of attention weight, 0 to 1


def _piece_rows(pieces: list[Piece]) -> list[str]:
    weights = any(p.weight is not None for p in pieces)
    head = f"  {'#':>3}  {'piece':<18} {'id':>6}  {'row':<11}" + ("  tf-idf     idf" if weights else "")
    out = [head.rstrip()]
    for n, p in enumerate(pieces):
        text = p.text + ("  <unk>" if p.unk and p.text != "<unk>" else "")
        line = f"  {n:>3}  {text:<18} {p.id:>6}  {p.origin:<11}"
        if weights and p.weight is not None:
            line += f"  {p.weight:6.3f}  {p.idf:6.3f}"
        out.append(line.rstrip())
    return out


def _shade(v: float) -> str:
    return SHADES[min(len(SHADES) - 1, int(v * len(SHADES)))]


def attention_grid(columns: list[str], rows: list[str], att: list[list[float]]) -> list[str]:
    """Rows: target pieces; columns: numbered source columns (the key follows); one shade character each,
    doubled so cells look square."""
    width = max((len(r) for r in rows), default=0)
    out = [(" " * (width + 2) + "".join(f"{j % 100:<2}" for j in range(len(columns)))).rstrip()]
    for r, vals in zip(rows, att):
        out.append(f"{r:>{width}}  " + "".join(_shade(v) * 2 for v in vals))
    out.append("  columns: " + "  ".join(f"{j}={c}" for j, c in enumerate(columns)))
    out.append(f"  shades from 0 to 1: '{SHADES}'")
    return out


def format_explanation(ex: Explanation, attention: bool = True) -> str:
    v = ex.vectorization
    lines = [f"source: {ex.text!r}"]
    for side in ("src", "tgt"):
        s = v.get(side, {})
        vec = f", vectors {s['vectors']} ({s.get('policy')})" if s.get("vectors") else ""
        lines.append(f"  {side}: split {s.get('split')}, vocabulary {s.get('vocabulary_size')}, "
                     f"input {s.get('input')}{vec}")
    lines.append("source pieces:")
    lines += _piece_rows(ex.source)
    for k, h in enumerate(ex.hypotheses):
        score = "" if h.score is None else f"  (score {h.score:.3f})"
        lines.append(f"\nhypothesis {k + 1}: {h.text}{score}")
        lines += _piece_rows(h.pieces)
        if attention and h.attention:
            lines.append("cross-attention (rows: target pieces, columns: source):")
            lines += attention_grid(ex.columns, [p.text for p in h.pieces], h.attention)
    return "\n".join(lines)
