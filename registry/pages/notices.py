"""The public notice page: who is on notice in which district, and the objection form."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from itertools import groupby
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from registry.documents.notice import NoticeEntry, running_notices
from registry.notices import objections
from registry.notices.objections import ObjectionError, ObjectionIn
from registry.pages.common import maybe_actor, redirect, render
from registry.pages.paging import paged
from registry.paging import PAGE_SIZE
from registry.tables import District
from registry.web.limits import OBJECTION_MAX_BODY
from registry.web.security import client_address

FIELDS = ("name", "organisation_name", "contact", "facts")


async def _districts() -> list[dict[str, str]]:
    return await District.select(District.code, District.name).order_by(District.code)


async def _page(
    request: Request[Any, Any, Any],
    district: str | None,
    status_code: int = 200,
    page: str = "",
    **context: Any,
) -> Template:
    districts = await _districts()
    if district and district not in {d["code"] for d in districts}:
        raise NotFoundException(detail=f"未知的区代码：{district}")
    entries = await running_notices(district or None)
    per_district = Counter(e.district_code for e in entries)
    focus = context.get("form_listing")
    if focus is not None:
        # A refused objection is shown on the page that holds its form.
        at = next((i for i, e in enumerate(entries) if e.listing_id == focus), 0)
        page = str(at // PAGE_SIZE + 1)
    shown, pages = paged(entries, page, "/notices", {"district": district or ""}, size=PAGE_SIZE)
    groups: list[tuple[str, str, int, list[NoticeEntry]]] = [
        (code, items[0].district_name, per_district[code], items)
        for code, grouped in groupby(shown, key=lambda e: e.district_code)
        for items in [list(grouped)]
    ]
    return render(
        "notices/index.html",
        await maybe_actor(request),
        status_code=status_code,
        districts=districts,
        district=district or "",
        groups=groups,
        total=len(entries),
        pager=pages,
        **context,
    )


@get("/notices", include_in_schema=False)
async def notices_page(
    request: Request[Any, Any, Any],
    district: Annotated[str, QueryParameter()] = "",
    submitted: Annotated[int, QueryParameter()] = 0,
    page: Annotated[str, QueryParameter()] = "",
) -> Template:
    """Every notice now running, per district, each with its objection form."""
    flash = "异议已提交。区教育局将核查处理，并通过您留下的联系方式答复。" if submitted else None
    return await _page(request, district, page=page, flash=flash)


def _typed(form: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in FIELDS}


@post(
    "/notices/{listing_id:int}/objections",
    include_in_schema=False,
    request_max_body_size=OBJECTION_MAX_BODY,
)
async def lodge_objection_page(
    request: Request[Any, Any, Any], listing_id: FromPath[int]
) -> Template | Redirect:
    """Lodge an objection from the page; on refusal show why, keeping what was typed."""
    form = await request.form()
    values = _typed(form)
    district = str(form.get("district", ""))
    district = district if district.isdigit() and len(district) == 6 else ""
    try:
        await objections.lodge(listing_id, ObjectionIn(**values), client_address(request))
    except ObjectionError as error:
        field_errors: dict[str, str] = {}
        for problem in error.problems:
            field_errors.setdefault(problem.field, problem.message)
        return await _page(
            request,
            district,
            status_code=error.status_code,
            form_listing=listing_id,
            values=values,
            errors=field_errors,
            form_error=error.detail if not field_errors or "listing" in field_errors else "",
        )
    query = urlencode({"submitted": 1, **({"district": district} if district else {})})
    # No #fragment: the confirmation is at the top of the page.
    return redirect(f"/notices?{query}")


ROUTES: list[Any] = [notices_page, lodge_objection_page]
