"""The domain reaches storage through one module: only workflows/storage.py imports registry."""

from __future__ import annotations

import ast
from pathlib import Path

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an import statement names, anywhere in the file (lazy imports too)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def registry_imports(source: str) -> list[str]:
    """The `line: module` of each import of the registry package in `source`."""
    return [
        f"{line}: {module}"
        for line, module in _imported_modules(ast.parse(source))
        if module == "registry" or module.startswith("registry.")
    ]


def test_only_storage_imports_registry() -> None:
    offenders = [
        f"workflows/{path.name}:{hit}"
        for path in sorted(WORKFLOWS.glob("*.py"))
        if path.name != "storage.py"
        for hit in registry_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_storage_is_where_registry_is_imported() -> None:
    assert registry_imports((WORKFLOWS / "storage.py").read_text(encoding="utf-8"))


def test_the_check_sees_every_form_of_import() -> None:
    source = (
        "import registry.tables\n"
        "from registry import db\n"
        "def late():\n"
        "    from registry.settings import get_settings\n"
        "from registryx import nothing\n"
        "from . import registry\n"
    )
    assert registry_imports(source) == ["1: registry.tables", "2: registry", "4: registry.settings"]
