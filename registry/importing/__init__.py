"""Importing a district's existing whitelist (CSV or XLSX) through the workflow engine."""

from __future__ import annotations

from registry.importing.apply import (
    Imported,
    ImportRefused,
    Report,
    Skipped,
    UnknownDistrict,
    import_whitelist,
)
from registry.importing.reading import ImportFileError, read_rows
from registry.importing.rows import CATEGORY_WORDS, Problem, name_key, parse

__all__ = [
    "CATEGORY_WORDS",
    "ImportFileError",
    "ImportRefused",
    "Imported",
    "Problem",
    "Report",
    "Skipped",
    "UnknownDistrict",
    "import_whitelist",
    "name_key",
    "parse",
    "read_rows",
]
