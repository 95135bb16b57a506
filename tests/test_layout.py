"""The layout rules of docs/architecture.md that `lint-imports` does not check.

`lint-imports` (CI) checks the layers and forbids import cycles; these tests check
the two other rules of the redesign: no product module grows past 600 lines (split it
along its reasons to change), and a first-party import inside a function is only ever
a deliberate deferral of a heavy load, said so in a comment.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("logvigil", "detector", "investigate", "graph", "notify", "migrations")
MAX_LINES = 600
#: A comment on the import's line or the line above it must say why it is deferred.
DEFERRAL_WORDS = ("deferred", "heavy")


def product_modules() -> list[Path]:
    return sorted(
        p
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob("*.py")
        if "versions" not in p.relative_to(ROOT).parts
    )


def first_party(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def in_function_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every first-party import inside a function body."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if in_function and isinstance(child, ast.Import):
                found.extend((child.lineno, a.name) for a in child.names if first_party(a.name))
            elif in_function and isinstance(child, ast.ImportFrom):
                if child.level == 0 and child.module and first_party(child.module):
                    found.append((child.lineno, child.module))
                elif child.level > 0:
                    found.append((child.lineno, "." * child.level + (child.module or "")))
            visit(child, inside)

    visit(tree, False)
    return found


def test_the_product_modules_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in product_modules()}
    assert "logvigil/core/events.py" in names and "detector/tick.py" in names
    assert not any("/versions/" in n for n in names)


@pytest.mark.parametrize("path", product_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_product_module_is_over_600_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it"


@pytest.mark.parametrize("path", product_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_first_party_imports_inside_functions_are_commented_deferrals(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    bad = []
    for lineno, module in in_function_imports(ast.parse(source)):
        context = " ".join(lines[max(0, lineno - 2) : lineno]).lower()
        if "#" not in context or not any(word in context for word in DEFERRAL_WORDS):
            bad.append(f"line {lineno}: {module}")
    assert not bad, f"{path.relative_to(ROOT)}: imports inside functions without a reason: {bad}"


def test_the_import_finder_sees_imports_in_functions_only() -> None:
    tree = ast.parse(
        "import logvigil.core\n"
        "def f():\n"
        "    import json\n"
        "    from detector.tick import Ticker\n"
        "    def g():\n"
        "        from . import sibling\n"
        "class C:\n"
        "    from graph import queries\n"
    )
    assert in_function_imports(tree) == [(4, "detector.tick"), (6, ".")]
