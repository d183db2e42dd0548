"""The city's supervision report for a period (课后服务白名单监管情况通报), as PDF in the
official layout or as an XLSX workbook.

Its figures are the city view's (registry/oversight/city.py) over the report's period, so the
report and the dashboards agree. The columns are data, shared by both formats.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from registry.documents.numbering import issue_number
from registry.documents.render import html_of, pdf_in_thread
from registry.oversight.city import CityRow, city_rows, totals
from registry.oversight.dashboard import Period
from registry.pages.filters import zh_date
from registry.reference import CITY_CODE
from registry.spreadsheets import safe_row
from workflows.scoring import GRADE_LABELS, GRADE_ORDER
from workflows.states import exit_reason_label

ISSUER = "天津市教育委员会"
FORMATS = ("pdf", "xlsx")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The longest period one report covers.
MAX_DAYS = 366 * 3


class ReportError(ValueError):
    """A period the report cannot cover; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


Value = int | Decimal | float | str | None
# (table, header, unit, the value of one district's row): the PDF prints one table each (the
# columns of one do not fit an A4 page), the workbook one sheet with all.
COLUMNS: tuple[tuple[str, str, str, Callable[[CityRow], Value]], ...] = (
    ("白名单与评估", "白名单机构", "家", lambda r: r.board.whitelist_size),
    ("白名单与评估", "每万名学生机构数", "家", lambda r: r.per_10k_pupils),
    ("白名单与评估", "合作学校占比", "%", lambda r: r.engaging_share),
    ("白名单与评估", "评估覆盖率", "%", lambda r: r.coverage),
    ("白名单与评估", "优秀占比", "%", lambda r: r.excellent_share),
    ("审核与监管", "受理申请", "件", lambda r: sum(m.received for m in r.board.months)),
    ("审核与监管", "作出决定", "件", lambda r: sum(m.decided for m in r.board.months)),
    ("审核与监管", "审核用时中位数", "工作日", lambda r: _days(r.board.median_review_days)),
    ("审核与监管", "新入库", "家", lambda r: sum(m.listed for m in r.board.months)),
    ("审核与监管", "退出", "家", lambda r: sum(r.exits_by_reason.values())),
    ("审核与监管", "收到投诉", "件", lambda r: r.complaints),
    ("审核与监管", "每百家投诉", "件", lambda r: r.complaints_per_100),
    ("审核与监管", "逾期期限", "项", lambda r: r.overdue),
)
# The columns that add up to a city total, and the ratios the city's line takes from
# city.totals (a median of medians would mean nothing: left blank).
SUMMED = frozenset({"白名单机构", "受理申请", "作出决定", "新入库", "退出", "收到投诉", "逾期期限"})
CITY_RATIOS = {
    "每万名学生机构数": "per_10k_pupils",
    "合作学校占比": "engaging_share",
    "每百家投诉": "complaints_per_100",
}


def _days(median: float | None) -> Decimal | None:
    return None if median is None else Decimal(str(median)).quantize(Decimal("0.1"))


def parse_period(start: str, end: str, today: date) -> Period:
    """The period typed as two ISO dates; ReportError naming the field that is wrong."""
    days = []
    for field, text in (("from", start), ("to", end)):
        try:
            days.append(date.fromisoformat(text.strip()))
        except ValueError:
            raise ReportError(field, f"日期格式应为 YYYY-MM-DD，收到 {text!r}") from None
    first, last = days
    if last < first:
        raise ReportError("to", "结束日期不能早于开始日期")
    if last > today:
        raise ReportError("to", f"结束日期不能晚于今天（{today.isoformat()}）")
    if (last - first).days > MAX_DAYS:
        raise ReportError("from", "一份报告最多覆盖三年")
    return Period(first, last)


@dataclass(frozen=True)
class SupervisionReport:
    """The report: its period, its date and number, and the districts' rows."""

    period: Period
    on: date
    number: str
    rows: list[CityRow]
    totals: dict[str, Any]
    issuer: str = ISSUER

    @property
    def title(self) -> str:
        """The document's title."""
        return "".join(self.title_lines)

    @property
    def title_lines(self) -> tuple[str, str]:
        """The title broken between words (GB/T 9704)."""
        return (
            f"关于{zh_date(self.period.start)}至{zh_date(self.period.end)}",
            "课后服务白名单监管情况的通报",
        )

    @property
    def columns(self) -> list[tuple[str, str]]:
        """Every column's header and unit."""
        return [(header, unit) for _, header, unit, _ in COLUMNS]

    def table(self) -> list[tuple[str, list[Value]]]:
        """Each district's name and values, in the columns' order."""
        return [(r.district["name"], [value(r) for *_, value in COLUMNS]) for r in self.rows]

    def sums(self) -> list[Value]:
        """The city's line: sums, the city's own ratios, None for the rest."""
        return [
            sum(int(value(r) or 0) for r in self.rows)
            if header in SUMMED
            else self.totals.get(CITY_RATIOS.get(header, ""))
            for _, header, _, value in COLUMNS
        ]

    def total_of(self) -> dict[str, Value]:
        """The city's sum of each column that adds up, by header."""
        return {header: total for (header, _), total in zip(self.columns, self.sums(), strict=True)}

    def tables(self) -> list[tuple[str, list[tuple[str, str]], list[tuple[str, list[Value]]]]]:
        """The PDF's tables: title, headers with units, and each district's row (the city's
        sums last)."""
        found = []
        rows = [*self.table(), ("全市", self.sums())]
        for title in dict.fromkeys(table for table, *_ in COLUMNS):
            picked = [i for i, (table, *_) in enumerate(COLUMNS) if table == title]
            found.append(
                (
                    title,
                    [self.columns[i] for i in picked],
                    [(name, [values[i] for i in picked]) for name, values in rows],
                )
            )
        return found

    def exits(self) -> list[tuple[str, int]]:
        """Exits of all districts by reason, most first."""
        total: Counter[str] = Counter()
        for row in self.rows:
            total.update(row.exits_by_reason)
        return [(exit_reason_label(code), n) for code, n in total.most_common()]

    def grades(self) -> list[tuple[str, str, list[int], bool]]:
        """Each district's last cycle: its name, the cycle, counts per grade, and whether its
        share of 优秀 passes the district's warning line."""
        return [
            (
                r.district["name"],
                r.board.last_cycle_name,
                [f.value for f in r.board.last_cycle_grades],
                r.too_many_excellent,
            )
            for r in self.rows
        ]

    @property
    def grade_headers(self) -> list[str]:
        """优秀, 良好, 合格, 不合格, 未评定."""
        return [GRADE_LABELS[g] for g in GRADE_ORDER] + ["未评定"]

    def flagged(self) -> list[str]:
        """Districts the report draws attention to, each with why."""
        notes = []
        for r in self.rows:
            if r.too_many_excellent:
                notes.append(
                    f"{r.district['name']}最近一轮评估优秀占比{r.excellent_share}%，"
                    f"超过该区预警线{r.excellent_warning}%"
                )
            if r.overdue:
                notes.append(f"{r.district['name']}有{r.overdue}项期限已过未处理")
        return notes


async def supervision_report(period: Period, today: date) -> SupervisionReport:
    """The report of `period`, dated `today`; the same period keeps its number."""
    rows = await city_rows(today, period)
    subject = f"{period.start.isoformat()}/{period.end.isoformat()}"
    issued = await issue_number(CITY_CODE, "supervision", subject, today)
    return SupervisionReport(period, issued.issued_on, issued.text, rows, totals(rows))


def report_html(report: SupervisionReport) -> str:
    """The report's HTML (the PDF's source)."""
    return html_of("supervision.html", doc=report)


async def report_pdf(report: SupervisionReport) -> bytes:
    """The report in the official layout, rendered off the event loop."""
    return await pdf_in_thread(report_html(report))


def _cell(value: Value) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def report_xlsx(report: SupervisionReport) -> bytes:
    """A workbook: 各区对比 (the table), 退出原因, 评估等级."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "各区对比"
    sheet.append(safe_row([report.title]))
    period = f"统计期间：{report.period.start}至{report.period.end}"
    sheet.append(safe_row([f"{report.number}  {period}  截至{report.on}"]))
    sheet.append(["区", *(f"{header}（{unit}）" for header, unit in report.columns)])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for name, values in report.table():
        sheet.append(safe_row([name, *(_cell(v) for v in values)]))
    sheet.append(["全市", *report.sums()])
    exits = workbook.create_sheet("退出原因")
    exits.append(["退出原因", "家数"])
    for label, n in report.exits():
        exits.append(safe_row([label, n]))
    grades = workbook.create_sheet("评估等级")
    grades.append(["区", "评估周期", *report.grade_headers, "优秀占比超过预警线"])
    for name, cycle, counts, flagged in report.grades():
        grades.append(safe_row([name, cycle, *counts, "是" if flagged else ""]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def render(report: SupervisionReport, kind: str) -> bytes:
    """The report in one of FORMATS."""
    return await report_pdf(report) if kind == "pdf" else report_xlsx(report)
