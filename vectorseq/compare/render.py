"""A report as a list of blocks, rendered twice: to Markdown (``report.md``) and to one self-contained HTML file.

Blocks are tuples::

    ("h", level, text)  ("p", text)  ("ul", [items])  ("table", headers, rows, align)  ("img", alt, relpath)
    ("pre", text)

``align`` holds ``"l"`` or ``"r"`` per column. Text may use ``**bold**`` and ```code``` (the only inline
Markdown the report uses). The HTML embeds images as base64 PNG and carries its own CSS, so it can be mailed
as one file.
"""
from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any


def md_cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def inline_html(text: str) -> str:
    """Escape, then turn **bold** and `code` into HTML."""
    out = []
    for part in re.split(r"(`[^`]*`)", str(text)):
        if len(part) >= 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
        else:
            out.append(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(part)))
    return "".join(out)


def _md_table(headers: list[str], rows: list[list[str]], align: list[str]) -> list[str]:
    return (["| " + " | ".join(md_cell(h) for h in headers) + " |",
             "| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |"]
            + ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows] + [""])


def to_markdown(blocks: list[tuple]) -> str:
    lines: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            lines += ["#" * b[1] + " " + b[2], ""]
        elif kind == "p":
            lines += [b[1], ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in b[1]] + [""]
        elif kind == "table":
            lines += _md_table(b[1], b[2], b[3])
        elif kind == "img":
            lines += [f"![{b[1]}]({b[2]})", ""]
        elif kind == "pre":
            lines += ["```", b[1], "```", ""]
    return "\n".join(lines)


_CSS = """body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;margin:.6em 0 1.4em;font-size:.92em}
th,td{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}th{background:#f3f3f3}td.r{text-align:right;
white-space:nowrap}tr:nth-child(even) td{background:#fafafa}img{max-width:100%;border:1px solid #eee}
code{background:#f3f3f3;padding:0 .2em}pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}
h1{border-bottom:2px solid #ddd}h2{border-bottom:1px solid #eee;margin-top:1.6em}"""


def _html_table(headers: list[str], rows: list[list[str]], align: list[str]) -> str:
    head = "".join(f"<th>{inline_html(h)}</th>" for h in headers)
    trs = "".join("<tr>" + "".join(f"<td{' class=r' if a == 'r' else ''}>{inline_html(c)}</td>"
                                   for c, a in zip(row, align)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>"


def _html_block(b: tuple, base_dir: Path) -> str:
    kind = b[0]
    if kind == "h":
        return f"<h{b[1]}>{inline_html(b[2])}</h{b[1]}>"
    if kind == "p":
        return f"<p>{inline_html(b[1])}</p>"
    if kind == "ul":
        return "<ul>" + "".join(f"<li>{inline_html(i)}</li>" for i in b[1]) + "</ul>"
    if kind == "table":
        return _html_table(b[1], b[2], b[3])
    if kind == "img":
        data = base64.b64encode((base_dir / b[2]).read_bytes()).decode("ascii")
        return f'<p><img alt="{html.escape(b[1])}" src="data:image/png;base64,{data}"></p>'
    if kind == "pre":
        return f"<pre>{html.escape(b[1])}</pre>"
    return ""


def to_html(blocks: list[tuple], title: str, base_dir: Path) -> str:
    """One HTML page; ``base_dir``: the folder that image paths are relative to."""
    body = [_html_block(b, base_dir) for b in blocks]
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(x for x in body if x) + "\n</body></html>\n")
