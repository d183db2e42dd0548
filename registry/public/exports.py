"""A district's current whitelist as CSV, XLSX and JSON; the feed of entries and exits."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from registry.public.history import PUBLIC, changed_fields, local_date, moment_of
from registry.public.projection import approved_courses
from registry.reference import CATEGORY_LABELS
from registry.spreadsheets import safe_row
from registry.tables import AuditEvent, Listing, WhitelistEntry
from workflows.checks import GRADE_BANDS

FORMATS = ("csv", "xlsx", "json", "pdf")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "pdf": "application/pdf",
}
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class CourseRow:
    """An approved course as published: no staff, only what schools choose by."""

    name: str
    category: str
    grade_bands: list[str]
    schedule: list[str]
    fee_per_student_month: int | None


@dataclass(frozen=True)
class WhitelistRow:
    """One provider on a district's whitelist now."""

    listing_id: int
    organisation_id: int
    name: str
    district: str
    district_name: str
    state: str
    rectifying: bool
    categories: list[str]
    courses: list[CourseRow]
    listed_on: date | None
    valid_until: date | None
    latest_grade: str | None = None


def schedule_text(slots: Any) -> list[str]:
    """周一 16:30-18:30 for each weekly slot."""
    texts = []
    for slot in slots if isinstance(slots, list) else []:
        if isinstance(slot, dict) and isinstance(slot.get("weekday"), int):
            day = WEEKDAYS[(slot["weekday"] - 1) % 7]
            texts.append(f"周{day} {slot.get('start', '')}-{slot.get('end', '')}")
    return texts


def course_rows(form: dict[str, Any], decisions: dict[str, Any]) -> list[CourseRow]:
    """The approved courses of a form, reduced to their public fields."""
    return [
        CourseRow(
            name=str(c.get("name", "")),
            category=str(c.get("category", "")),
            grade_bands=[str(b) for b in c.get("grade_bands", [])],
            schedule=schedule_text(c.get("weekly_schedule")),
            fee_per_student_month=c.get("fee_per_student_month"),
        )
        for c in approved_courses(form, decisions)
    ]


async def whitelist_rows(where: Any) -> list[WhitelistRow]:
    """Projection rows matching `where`, with their approved courses, by name."""
    entries = await (
        WhitelistEntry.select()
        .where(where)
        .order_by(WhitelistEntry.name_sort, WhitelistEntry.organisation_name, WhitelistEntry.id)
    )
    forms = {
        row["id"]: row
        for row in await Listing.select(Listing.id, Listing.form, Listing.course_decisions)
        .where(Listing.id.is_in([e["listing"] for e in entries] or [0]))
        .output(load_json=True)
    }
    rows = []
    for entry in entries:
        listing = forms.get(entry["listing"]) or {}
        form = listing.get("form") if isinstance(listing.get("form"), dict) else {}
        rows.append(
            WhitelistRow(
                listing_id=entry["listing"],
                organisation_id=entry["organisation_id"],
                name=entry["organisation_name"],
                district=entry["district_code"],
                district_name=entry["district_name"],
                state=entry["state"],
                rectifying=bool(entry["rectifying"]),
                categories=entry["categories"].split(),
                courses=course_rows(form or {}, listing.get("course_decisions") or {}),
                listed_on=local_date(moment_of(entry["listed_at"])) if entry["listed_at"] else None,
                valid_until=entry["valid_until"],
                latest_grade=entry["latest_grade"],
            )
        )
    return rows


async def current_whitelist(district_code: str) -> list[WhitelistRow]:
    """The district's public whitelist now (the engine's projection), by name."""
    return await whitelist_rows(WhitelistEntry.district_code == district_code)


HEADERS = ("序号", "机构名称", "所在区", "类别", "服务项目", "适用学段", "上课时间",
           "收费标准（元/生/月）", "状态", "入库日期", "有效期至")  # fmt: skip
WIDTHS = (6, 40, 10, 16, 32, 24, 36, 18, 10, 12, 12)


def _labels(codes: list[str], labels: dict[str, str]) -> str:
    return "、".join(labels.get(code, code) for code in codes)


def table_row(number: int, row: WhitelistRow, category: str | None = None) -> list[Any]:
    """One spreadsheet row (a category sheet keeps only that category's courses)."""
    courses = [c for c in row.courses if category is None or c.category == category]
    bands = sorted({b for c in courses for b in c.grade_bands}, key=list(GRADE_BANDS).index)
    fees = sorted({c.fee_per_student_month for c in courses if c.fee_per_student_month})
    return [
        number,
        row.name,
        row.district_name,
        _labels(row.categories, CATEGORY_LABELS),
        "、".join(c.name for c in courses),
        _labels(bands, GRADE_BANDS),
        "；".join(f"{c.name}：{'、'.join(c.schedule)}" for c in courses if c.schedule),
        "—" if not fees else (str(fees[0]) if len(fees) == 1 else f"{fees[0]}-{fees[-1]}"),
        "整改中" if row.rectifying else "有效",
        row.listed_on.isoformat() if row.listed_on else "",
        row.valid_until.isoformat() if row.valid_until else "",
    ]


def to_csv(rows: list[WhitelistRow]) -> bytes:
    """CSV with a byte order mark, so Excel on Chinese Windows reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_row(HEADERS))
    writer.writerows(safe_row(table_row(n, row)) for n, row in enumerate(rows, 1))
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[WhitelistRow]) -> bytes:
    """A workbook: sheet 全部, then one sheet per category present (in reference order)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    present = {code for row in rows for code in row.categories}
    sheets: list[tuple[str, str | None]] = [("全部", None)]
    sheets += [(label, code) for code, label in CATEGORY_LABELS.items() if code in present]
    for index, (title, category) in enumerate(sheets):
        # Excel forbids / in sheet names (传统文化/非遗).
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = title.replace("/", "、")
        sheet.append(safe_row(HEADERS))
        chosen = [r for r in rows if category is None or category in r.categories]
        for number, row in enumerate(chosen, 1):
            sheet.append(safe_row(table_row(number, row, category)))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center")
        for column, width in zip(sheet.iter_cols(min_row=1, max_row=1), WIDTHS, strict=True):
            sheet.column_dimensions[column[0].column_letter].width = width
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _json_default(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(rows: list[WhitelistRow], district: str, on: date) -> bytes:
    """{district, date, total, items} with the courses' public fields."""
    body = {
        "district": district,
        "date": on,
        "total": len(rows),
        "items": [asdict(r) for r in rows],
    }
    return json.dumps(body, ensure_ascii=False, indent=2, default=_json_default).encode()


@dataclass(frozen=True)
class Change:
    """A listing that entered or left the public whitelist."""

    listing_id: int
    organisation_id: int
    name: str
    district: str
    change: str
    state: str
    at: datetime
    reason: str | None


async def changes_since(since: datetime) -> list[Change]:
    """Transitions across the public boundary after `since` (imports included), oldest first."""
    events = await (
        AuditEvent.select(
            AuditEvent.listing,
            AuditEvent.from_state,
            AuditEvent.to_state,
            AuditEvent.occurred_at,
            AuditEvent.payload,
            AuditEvent.listing.organisation.id.as_alias("organisation_id"),
            AuditEvent.listing.organisation.name.as_alias("name"),
            AuditEvent.listing.district.code.as_alias("district"),
        )
        .where(
            (AuditEvent.occurred_at > since)
            & AuditEvent.listing.is_not_null()
            & AuditEvent.to_state.is_not_null()
        )
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    changes = []
    for event in events:
        was, now = event["from_state"] in PUBLIC, event["to_state"] in PUBLIC
        if was == now:
            continue
        changes.append(
            Change(
                listing_id=event["listing"],
                organisation_id=event["organisation_id"],
                name=event["name"],
                district=event["district"],
                change="entered" if now else "left",
                state=event["to_state"],
                at=moment_of(event["occurred_at"]),
                reason=None if now else changed_fields(event["payload"]).get("exit_reason"),
            )
        )
    return changes


@dataclass(frozen=True)
class ExportFile:
    """A finished export: bytes, media type, Chinese file name and its ASCII fallback."""

    content: bytes
    media_type: str
    filename: str
    ascii_filename: str
    count: int


async def export_whitelist(
    district_code: str, fmt: str, on: date, public_url: str
) -> ExportFile | None:
    """The district's current whitelist in one format; None for an unknown district."""
    # Imported here: the announcement builds on this module's rows.
    from registry.documents.announcement import announcement_document, render_announcement_async

    if fmt not in FORMATS:
        raise ValueError(f"unknown format: {fmt}")
    document = await announcement_document(district_code, on, public_url)
    if document is None:
        return None
    rows = document.rows
    if fmt == "csv":
        content = to_csv(rows)
    elif fmt == "xlsx":
        content = to_xlsx(rows)
    elif fmt == "json":
        content = to_json(rows, district_code, on)
    else:
        content = await render_announcement_async(document)
    stamp = on.strftime("%Y%m%d")
    name = "白名单公告" if fmt == "pdf" else "白名单"
    return ExportFile(
        content,
        MEDIA_TYPES[fmt],
        f"{document.district_name}{name}-{stamp}.{fmt}",
        f"whitelist-{district_code}-{stamp}.{fmt}",
        len(rows),
    )
