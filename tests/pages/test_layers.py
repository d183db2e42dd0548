"""Pages are adapters over the domain packages: none of them reaches into registry.api."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "registry" / "pages"


def _module_of(path: Path) -> str:
    # A package's __init__ keeps its last part, so one dot still means the package itself.
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def api_imports(source: str, module: str) -> list[str]:
    """The registry.api modules that `source` (the text of `module`) imports, by line."""
    found = []
    package = module.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # A relative import counts from the module's package (one level up per dot).
            base = package[: len(package) - node.level] if node.level else []
            target = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            names = [f"{target}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [
            f"{node.lineno}: {name}"
            for name in names
            if name == "registry.api" or name.startswith("registry.api.")
        ]
    return found


def _offenders() -> dict[str, list[str]]:
    found = {}
    for path in sorted(PAGES.rglob("*.py")):
        imports = api_imports(path.read_text(encoding="utf-8"), _module_of(path))
        if imports:
            found[path.relative_to(ROOT).as_posix()] = imports
    return found


def test_no_page_module_imports_the_api() -> None:
    offenders = _offenders()
    assert offenders == {}


def test_every_spelling_of_an_api_import_is_caught() -> None:
    module = "registry.pages.search"
    assert api_imports("from registry.api.whitelist import run_search", module)
    assert api_imports("import registry.api.public", module)
    assert api_imports("from registry import api", module)
    assert api_imports("from registry.api import whitelist", module)
    assert api_imports("from ..api.notices import OBJECTION_MAX_BODY", module)
    assert api_imports("from .. import api", module)
    assert not api_imports("from registry.apis import x", module)
    assert not api_imports("from registry.public.search.service import run_search", module)
    assert not api_imports("from .common import render", module)
    assert api_imports("from .api import x", "registry.__init__")
