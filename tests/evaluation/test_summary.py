"""A cycle's result summary (XLSX): read back with openpyxl, and who may download it."""

from __future__ import annotations

import io
from decimal import Decimal
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from registry.evaluation.summary import evaluation_summary_xlsx
from schemas import city_default_rubric
from tests.api.conftest import Login, login  # noqa: F401  (the fixture, for this module)
from tests.cast import BINHAI, listing_in
from tests.documents.test_evaluation_report import (
    CYCLE_NAME,
    ORGANISATION,
    OTHER,
    good_inputs,
    open_cycle,
    store_result,
)
from workflows.engine import NotFound
from workflows.scoring import Inputs, SelfReportStatus, Tally
from workflows.states import State

ITEM_LABELS = [
    "学校评价",
    "家长满意度",
    "现场检查",
    "自查报告",
    "未提交自查报告",
    "投诉查实",
    "安全事故",
]
ITEM_KEYS = [item["key"] for item in city_default_rubric()["items"]]
REST = 2 + len(ITEM_LABELS)
HEADER = ["编号", "机构名称", *ITEM_LABELS, "得分", "等级", "处理结果", "退出原因",
          "学校评价份数", "家长问卷份数", "状态", "调整说明"]  # fmt: skip
ADJUSTED = {
    "score_centi": 7150,
    "grade": "pass",
    "consequence": "renew",
    "exit_reason": None,
    "adjust_reason": "问卷重复提交，复核调整",
}


async def test_summary_has_one_row_per_result_with_the_points(login: Login) -> None:  # noqa: F811
    first = await listing_in(State.listed)
    second = await listing_in(State.listed, organisation="other")
    cycle_id = await open_cycle()
    good = await store_result(cycle_id, good_inputs(first), confirmed_by="reviewer")
    low = await store_result(
        cycle_id,
        Inputs(
            listing_id=second,
            tally=Tally(very_satisfied=3, satisfied=3, neutral=2, dissatisfied=4),
            inspection=72,
            self_report=SelfReportStatus.late,
        ),
        adjusted=ADJUSTED,
    )
    response = await (await login("reviewer")).get(f"/api/v1/cycles/{cycle_id}/summary.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["content-disposition"]
    assert unquote(disposition.split("''")[1]) == f"和平区{CYCLE_NAME}评估结果汇总.xlsx"

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert len(rows) == 3
    assert sheet.freeze_panes == "C2"
    assert sheet.column_dimensions["B"].width == 40

    by_name = {row[1]: row for row in rows[1:]}
    mine, other = by_name[ORGANISATION], by_name[OTHER]
    assert mine[0] == f"120101-{first:06d}" and other[0] == f"120101-{second:06d}"
    for row, ev in ((mine, good), (other, low)):
        items = row[2:REST]
        points = {line.key: line.points for line in ev.lines}
        # An unscored item (or a deduction that does not apply) is an empty cell, not a zero.
        assert [
            None if v is None else Decimal(str(v)).quantize(Decimal("0.01")) for v in items
        ] == [points.get(key) for key in ITEM_KEYS]
    rest = dict(zip(HEADER[REST:], mine[REST:], strict=True))
    assert good.score is not None and Decimal(str(rest["得分"])) == good.score
    assert rest == {
        "得分": rest["得分"],
        "等级": good.grade_label,
        "处理结果": good.consequence.label,
        "退出原因": None,
        "学校评价份数": 2,
        "家长问卷份数": 20,
        "状态": "已确认",
        "调整说明": None,
    }
    rest = dict(zip(HEADER[REST:], other[REST:], strict=True))
    assert rest["得分"] == 71.5 and rest["等级"] == "合格" and rest["处理结果"] == "合格续期"
    assert rest["状态"] == "待确认" and rest["家长问卷份数"] == 12 and rest["学校评价份数"] == 0
    assert rest["调整说明"] == f"系统计算得分{low.score}；问卷重复提交，复核调整"
    assert sheet.cell(row=2, column=REST + 1).number_format == "0.00"


async def test_summary_for_district_staff_and_the_city_only(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    cycle_id = await open_cycle()
    await store_result(cycle_id, good_inputs(listing_id), confirmed_by="reviewer")
    url = f"/api/v1/cycles/{cycle_id}/summary.xlsx"
    for who in ("approver", "city"):
        assert (await (await login(who)).get(url)).status_code == 200, who
    for who in ("reviewer_binhai", "provider", "school"):
        assert (await (await login(who)).get(url)).status_code == 404, who
    unknown = await (await login("reviewer")).get(f"/api/v1/cycles/{cycle_id + 999}/summary.xlsx")
    assert unknown.status_code == 404
    binhai_cycle = await open_cycle(BINHAI)
    assert (
        await (await login("reviewer")).get(f"/api/v1/cycles/{binhai_cycle}/summary.xlsx")
    ).status_code == 404


async def test_an_empty_cycle_has_only_the_header(db: object) -> None:
    cycle_id = await open_cycle()
    sheet = load_workbook(io.BytesIO(await evaluation_summary_xlsx(cycle_id))).active
    assert sheet is not None
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [HEADER]
    with pytest.raises(NotFound):
        await evaluation_summary_xlsx(cycle_id + 999)
