"""The application services take plain values: no HTTP types, and pages do not go via the API."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HTTP = ("litestar", "starlette")


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


def test_application_services_import_no_http_types() -> None:
    offenders = {
        f"{path.name}: {module}"
        for path in sorted((ROOT / "registry" / "applications").glob("*.py"))
        for module in imported(path)
        if module.split(".")[0] in HTTP
    }
    assert offenders == set()


def test_provider_pages_use_the_services_not_the_api() -> None:
    pages = ROOT / "registry" / "pages"
    offenders = {
        f"{name}: {module}"
        for name in ("provider.py", "evaluation_inputs.py")
        for module in imported(pages / name)
        if module.startswith("registry.api")
    }
    assert offenders == set()
