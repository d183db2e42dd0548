"""Reading a whitelist file (CSV or XLSX) into numbered rows of cells; no database, no HTTP."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
# Excel on Chinese Windows saves "CSV" as GBK; gb18030 is its superset, so it reads both.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class ImportFileError(Exception):
    """The file cannot be read as a whitelist at all (not one bad row: the whole file)."""


@dataclass(frozen=True)
class RawRow:
    """One spreadsheet row as the user sees it: its number (header is 1) and its cells."""

    number: int
    cells: tuple[Any, ...]


def _cell(value: Any) -> Any:
    """Text for every cell except dates, which Excel may store as real date cells."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _decode(data: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV，或 XLSX 文件")


def _csv_rows(data: bytes) -> list[RawRow]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    # Some tools export tab-separated text under a .csv name.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise ImportFileError(f"CSV 格式有误：{error}") from error
    return [RawRow(n, tuple(_cell(c) for c in row)) for n, row in enumerate(rows, start=1)]


def _xlsx_rows(data: bytes) -> list[RawRow]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise ImportFileError("XLSX 文件已损坏或不是 Excel 工作簿") from error
    try:
        if not workbook.worksheets:
            raise ImportFileError("XLSX 文件中没有工作表")
        sheet = workbook.worksheets[0]
        rows: list[RawRow] = []
        for cells in sheet.iter_rows():
            # Read-only sheets skip empty rows; the cells carry their real row number.
            numbered = [c for c in cells if getattr(c, "row", None) is not None]
            if not numbered:
                continue
            rows.append(RawRow(numbered[0].row, tuple(_cell(c.value) for c in cells)))
        return rows
    finally:
        workbook.close()


def read_rows(data: bytes) -> list[RawRow]:
    """The rows of an XLSX (first sheet) or CSV file, told apart by content, not by name."""
    if data.startswith(XLSX_MAGIC):
        return _xlsx_rows(data)
    if data.startswith(XLS_MAGIC):
        raise ImportFileError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV")
    if not data.strip():
        raise ImportFileError("文件是空的")
    return _csv_rows(data)
