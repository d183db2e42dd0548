"""Cells of the spreadsheets we write (CSV and XLSX): text is never run as a formula.

Text that providers type (an organisation's or a course's name) ends up in files that bureau
staff open in Excel or WPS. There a cell starting with = + - or @ is a formula (a tab or a
carriage return in front is skipped by some programs, so those count too): `=HYPERLINK(...)`
becomes a live link, `=cmd|...` a DDE call. Such text gets a leading apostrophe, as OWASP
advises for CSV injection: shown as typed, never evaluated, the same in both formats. Numbers,
dates and empty cells pass unchanged (a negative number is a number, not text).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value to write in a cell: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """safe_cell for each cell of a row."""
    return [safe_cell(value) for value in values]
