"""The layers, checked on the source: the store imports no domain module; no function is too long."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The store loads and reads; the deciding is in these (docs/architecture.md, "Layers").
NOT_FROM_THE_STORE = ("geo.issues", "geo.ingest", "geo.importing", "geo.route", "geo.coverage")


def imported(tree: ast.AST) -> set[str]:
    """Return every module an import anywhere in ``tree`` names (``from geo import x``: ``geo.x`` too)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def forbidden(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == m or n.startswith(m + ".") for m in NOT_FROM_THE_STORE))


def test_the_check_sees_every_form_of_import() -> None:
    source = (
        "import geo.route\nfrom geo import issues as rules\ndef f():\n    from geo.ingest.against import x\n"
    )
    assert forbidden(imported(ast.parse(source))) == [
        "geo.ingest.against",
        "geo.ingest.against.x",
        "geo.issues",
        "geo.route",
    ]


@pytest.mark.parametrize("path", sorted((ROOT / "geo" / "store").glob("*.py")), ids=lambda p: p.name)
def test_the_store_imports_no_domain_module(path: Path) -> None:
    assert forbidden(imported(ast.parse(path.read_text(encoding="utf-8")))) == []


# ------------------------------------------------------------------ function length

MAX_LINES = 80
"""Most lines of code in one function (docs/architecture.md): blank, comment, docstring lines not counted."""

CODE = [
    ROOT / "app.py",
    ROOT / "asgi.py",
    *(p for d in ("geo", "ui", "pages") for p in (ROOT / d).rglob("*.py")),
]


def code_lines(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Count the lines of ``node`` that hold code: not blank, not only a comment, not its docstring."""
    skip: set[int] = set()
    first = node.body[0]
    if ast.get_docstring(node) is not None and isinstance(first, ast.Expr):
        skip = set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    body = range(node.lineno, (node.end_lineno or node.lineno) + 1)
    return sum(
        1 for i in body if i not in skip and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#")
    )


def long_functions(path: Path) -> list[str]:
    """Return ``file:line name (n lines)`` of every function of ``path`` longer than :data:`MAX_LINES`."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    return [
        f"{path.name}:{node.lineno} {node.name} ({n} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (n := code_lines(lines, node)) > MAX_LINES
    ]


def test_the_count_leaves_out_blanks_comments_and_the_docstring(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES - 1))
    path = tmp_path / "m.py"
    path.write_text(f'def f():\n    """Doc.\n\n    More.\n    """\n    # why\n\n{body}')
    assert long_functions(path) == []  # the def line and 79 assignments: 80 lines
    path.write_text(f"def f():\n{body}    return x0\n")
    assert long_functions(path) == ["m.py:1 f (81 lines)"]


def test_no_function_is_longer_than_80_lines_of_code() -> None:
    assert [f for path in CODE for f in long_functions(path)] == []
