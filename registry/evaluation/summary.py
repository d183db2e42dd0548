"""A cycle's results as one spreadsheet (评估结果汇总表) for the district's staff."""

from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.documents.evaluation_report import (
    consequence_label,
    grade_label,
    listing_number,
)
from registry.spreadsheets import safe_row
from registry.tables import EvaluationCycle, EvaluationResult, ResultStatus
from workflows.engine import NotFound
from workflows.states import exit_reason_label

STATUS_LABELS = {
    ResultStatus.computed.value: "待确认",
    ResultStatus.manual.value: "待人工评定",
    ResultStatus.provisional.value: "已告知机构，待陈述申辩或复核决定",
    ResultStatus.confirmed.value: "已确认",
}
LEADING = ("编号", "机构名称")
TRAILING = ("得分", "等级", "处理结果", "退出原因",
            "学校评价份数", "家长问卷份数", "状态", "调整说明")  # fmt: skip
TRAILING_WIDTHS = (8, 8, 20, 16, 12, 12, 8, 40)
POINTS_FORMAT = "0.00"


def _number(value: Any) -> float | None:
    """A stored Decimal string as a number for the cell (Excel sums floats, not text)."""
    if value is None:
        return None
    try:
        return float(Decimal(str(value)))
    except InvalidOperation:
        return None


def rubric_items(rubric: Any) -> list[tuple[str, str]]:
    """(key, label) of each rubric item, in the rubric's order: one column each."""
    items = rubric.get("items", []) if isinstance(rubric, dict) else []
    return [(str(i.get("key", "")), str(i.get("label", ""))) for i in items]


async def summary_rows(cycle_id: int) -> tuple[dict[str, Any], list[str], list[list[Any]]]:
    """The cycle, the header and one row per result (by listing number); NotFound if no cycle."""
    cycle = await (
        EvaluationCycle.select(
            EvaluationCycle.id,
            EvaluationCycle.name,
            EvaluationCycle.rubric,
            EvaluationCycle.district.id.as_alias("district_id"),
            EvaluationCycle.district.code.as_alias("district_code"),
            EvaluationCycle.district.name.as_alias("district_name"),
        )
        .where(EvaluationCycle.id == cycle_id)
        .output(load_json=True)
        .first()
    )
    if cycle is None:
        raise NotFound("评估周期不存在")
    items = rubric_items(cycle["rubric"])
    results = await (
        EvaluationResult.select(
            EvaluationResult.listing.id.as_alias("listing_id"),
            EvaluationResult.listing.organisation.name.as_alias("organisation_name"),
            EvaluationResult.score_centi,
            EvaluationResult.grade,
            EvaluationResult.consequence,
            EvaluationResult.exit_reason,
            EvaluationResult.breakdown,
            EvaluationResult.school_responses,
            EvaluationResult.parent_responses,
            EvaluationResult.status,
            EvaluationResult.adjusted,
            EvaluationResult.adjust_reason,
        )
        .where(EvaluationResult.cycle == cycle_id)
        .order_by(EvaluationResult.listing)
        .output(load_json=True)
    )
    header = [*LEADING, *(label for _, label in items), *TRAILING]
    rows = []
    for result in results:
        breakdown = result["breakdown"] if isinstance(result["breakdown"], dict) else {}
        points = {str(line.get("key")): line.get("points") for line in breakdown.get("lines", [])}
        centi = result["score_centi"]
        rows.append(
            [
                listing_number(cycle["district_code"], result["listing_id"]),
                result["organisation_name"],
                *(_number(points.get(key)) for key, _ in items),
                None if centi is None else float(Decimal(centi) / 100),
                grade_label(result["grade"]),
                consequence_label(result["consequence"]),
                exit_reason_label(result["exit_reason"]),
                result["school_responses"],
                result["parent_responses"],
                STATUS_LABELS.get(result["status"], result["status"]),
                # The reviewer's reason, with the computed score it replaced for the record.
                (
                    f"系统计算得分{breakdown.get('score') or '—'}；{result['adjust_reason']}"
                    if result["adjusted"]
                    else ""
                ),
            ]
        )
    return cycle, header, rows


def to_xlsx(title: str, header: list[str], rows: list[list[Any]], item_count: int) -> bytes:
    """One sheet: bold frozen header, widths to fit Chinese text, scores as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    # Excel limits sheet names to 31 characters and forbids some punctuation.
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "评估结果"
    sheet.append(safe_row(header))
    for row in rows:
        sheet.append(safe_row(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [16, 40, *([12] * item_count), *TRAILING_WIDTHS]
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    # Item points and the score: two decimals, as on the report.
    score_columns = range(len(LEADING) + 1, len(LEADING) + item_count + 2)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.column in score_columns:
                cell.number_format = POINTS_FORMAT
    sheet.freeze_panes = "C2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def evaluation_summary(cycle_id: int) -> tuple[dict[str, Any], bytes]:
    """The cycle (for access checks and the file name) and its summary workbook."""
    cycle, header, rows = await summary_rows(cycle_id)
    item_count = len(header) - len(LEADING) - len(TRAILING)
    return cycle, to_xlsx(str(cycle["name"]), header, rows, item_count)


async def evaluation_summary_xlsx(cycle_id: int) -> bytes:
    """One row per listing in the cycle; NotFound for an unknown cycle."""
    return (await evaluation_summary(cycle_id))[1]


def summary_filename(cycle: dict[str, Any]) -> tuple[str, str]:
    """The download's Chinese file name and its ASCII fallback."""
    return (
        f"{cycle['district_name']}{cycle['name']}评估结果汇总.xlsx",
        f"evaluation-summary-{cycle['id']}.xlsx",
    )
