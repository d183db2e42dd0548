"""The whitelist download page (/whitelist/export): each district's current list as a file."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template
from piccolo.query.functions.aggregate import Count

from registry.pages.common import maybe_actor, render
from registry.tables import District, WhitelistEntry

# The formats a person downloads (JSON stays in the API docs, for other systems).
FORMATS = (
    ("pdf", "PDF（白名单公告）"),
    ("xlsx", "Excel"),
    ("csv", "CSV"),
)


@get("/whitelist/export", include_in_schema=False)
async def export_page(request: Request[Any, Any, Any]) -> Template:
    """Every district with the size of its list today and a link per format."""
    counts = await WhitelistEntry.select(
        WhitelistEntry.district_code, Count(WhitelistEntry.id, alias="n")
    ).group_by(WhitelistEntry.district_code)
    per_district = {row["district_code"]: row["n"] for row in counts}
    districts = await District.select(District.code, District.name).order_by(District.code)
    rows = [{**d, "count": per_district.get(d["code"], 0)} for d in districts]
    return render(
        "whitelist_export.html",
        await maybe_actor(request),
        rows=rows,
        formats=FORMATS,
        total=sum(per_district.values()),
    )


ROUTES: list[Any] = [export_page]
