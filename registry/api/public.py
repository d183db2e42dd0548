"""Public whitelist data for other systems: as of a date, the change feed, and exports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.params import QueryParameter

from registry.documents.render import attachment
from registry.public.exports import FORMATS, export_whitelist
from registry.public.exports import changes_since as feed
from registry.public.history import on_whitelist_on, parse_day, parse_moment
from registry.web.errors import error_response
from workflows.engine import local_today


class AsOfItem(msgspec.Struct):
    id: int
    organisation_id: int
    name: str
    district: str
    categories: list[str]
    state: str
    courses: list[str]
    valid_until: date | None


class AsOfOut(msgspec.Struct):
    date: date
    total: int
    items: list[AsOfItem]


class ChangeOut(msgspec.Struct):
    id: int
    organisation_id: int
    name: str
    district: str
    change: str
    state: str
    at: datetime
    reason: str | None


class ChangesOut(msgspec.Struct):
    since: datetime
    total: int
    items: list[ChangeOut]


def _bad(field: str, message: str) -> Response[Any]:
    return error_response(
        400, "请求参数不正确", [{"field": field, "code": "invalid", "message": message}]
    )


Codes = Annotated[list[str] | None, QueryParameter(description="Repeatable")]


@get("/api/v1/whitelist/as-of", operation_id="whitelistAsOf", tags=["whitelist"])
async def whitelist_as_of(
    date_: Annotated[str | None, QueryParameter(name="date", description="YYYY-MM-DD")] = None,
    district: Codes = None,
    category: Codes = None,
) -> Any:
    """The listings on the public whitelist at the end of that day (Asia/Shanghai)."""
    day = parse_day(date_)
    if day is None:
        return _bad("date", "请提供日期 date，格式为 YYYY-MM-DD")
    entries = await on_whitelist_on(day, district or (), category or ())
    items = [
        AsOfItem(
            e.listing_id,
            e.organisation_id,
            e.name,
            e.district,
            e.categories,
            e.state,
            e.courses,
            e.valid_until,
        )
        for e in entries
    ]
    return AsOfOut(day, len(items), items)


@get("/api/v1/whitelist/changes", operation_id="whitelistChanges", tags=["whitelist"])
async def whitelist_changes(
    since: Annotated[str | None, QueryParameter(description="ISO-8601 time")] = None,
) -> Any:
    """Listings that entered or left the public whitelist after `since`, oldest first."""
    moment = parse_moment(since)
    if moment is None:
        return _bad("since", "请提供起始时间 since，格式为 ISO-8601，如 2026-03-01T00:00:00+08:00")
    changes = await feed(moment.astimezone(UTC))
    items = [
        ChangeOut(c.listing_id, c.organisation_id, c.name, c.district, c.change, c.state, c.at,
                  c.reason)
        for c in changes
    ]  # fmt: skip
    return ChangesOut(moment, len(items), items)


@get("/api/v1/whitelist/export", operation_id="exportWhitelist", tags=["whitelist"])
async def whitelist_export(
    request: Request[Any, Any, Any],
    district: Annotated[str | None, QueryParameter(description="6-digit district code")] = None,
    format: Annotated[str, QueryParameter(description="csv, xlsx, json or pdf")] = "csv",
) -> Response[Any]:
    """The district's current whitelist as a file (pdf: the 白名单公告)."""
    if format not in FORMATS:
        return _bad("format", f"格式应为 {'、'.join(FORMATS)} 之一")
    if not district:
        return _bad("district", "请提供区代码 district")
    today = local_today()
    exported = await export_whitelist(district, format, today, str(request.base_url))
    if exported is None:
        return _bad("district", f"未知的区代码：{district}")
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={
            "Content-Disposition": attachment(exported.filename, exported.ascii_filename),
            # Today's list: tomorrow's may differ.
            "Cache-Control": "no-cache",
        },
    )


ROUTES: list[Any] = [whitelist_as_of, whitelist_changes, whitelist_export]
