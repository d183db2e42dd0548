"""The public provider page: courses, where it is listed, its history, and "was it listed on…"."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from registry.evaluation.published import latest_confirmed_by_listing
from registry.notices.certificates import verify_code
from registry.pages.common import maybe_actor, render
from registry.public.exports import whitelist_rows
from registry.public.history import on_whitelist_on, organisation_history, parse_day
from registry.reference import CATEGORY_LABELS
from registry.tables import District, Organisation, WhitelistEntry
from registry.web.page_cache import PUBLIC_PAGE
from workflows.checks import GRADE_BANDS
from workflows.engine import local_today


async def _as_of_answer(
    organisation_id: int, district: str, date_text: str, districts: dict[str, str]
) -> dict[str, Any] | None:
    """The answer to the page's question, or None when it was not asked."""
    if not district and not date_text:
        return None
    day = parse_day(date_text)
    if day is None or district not in districts:
        return {"error": "请选择区并填写日期（格式：2026-03-02）。"}
    found = await on_whitelist_on(day, [district], organisation_id=organisation_id)
    return {
        "day": day,
        "district_name": districts[district],
        "state": found[0].state if found else None,
    }


@get("/providers/{organisation_id:int}", include_in_schema=False, opt={PUBLIC_PAGE: True})
async def provider_public_page(
    request: Request[Any, Any, Any],
    organisation_id: FromPath[int],
    district: Annotated[str, QueryParameter()] = "",
    date_: Annotated[str, QueryParameter(name="date")] = "",
) -> Template:
    """One provider as the public sees it; 404 unless it has ever been on a whitelist."""
    # Only the name is read: an individual's resident ID and contacts stay in the bureau.
    organisation = (
        await Organisation.select(Organisation.id, Organisation.name)
        .where(Organisation.id == organisation_id)
        .first()
    )
    histories = await organisation_history(organisation_id) if organisation else []
    if organisation is None or not histories:
        # Never listed anywhere: nothing public to show (and no hint whether it exists).
        return render(
            "error.html",
            await maybe_actor(request),
            status_code=404,
            title="未找到该机构",
            detail="该机构（个人）不在、也从未列入任何区的课后服务白名单。",
        )
    listings = await whitelist_rows(WhitelistEntry.organisation_id == organisation_id)
    categories = sorted(
        {code for row in listings for code in row.categories},
        key=lambda code: list(CATEGORY_LABELS).index(code) if code in CATEGORY_LABELS else 99,
    )
    # Any district may be asked about: "no" is an answer too.
    districts = {
        row["code"]: row["name"]
        for row in await District.select(District.code, District.name).order_by(District.code)
    }
    page = render(
        "providers/page.html",
        await maybe_actor(request),
        organisation=organisation,
        categories=categories,
        listings=listings,
        verify_links={row.listing_id: f"/verify/{verify_code(row.listing_id)}" for row in listings},
        histories=histories,
        # Confirmed results only: a computed grade can still change before a reviewer signs.
        evaluations=await latest_confirmed_by_listing(row.listing_id for row in listings),
        districts=districts,
        grade_bands=GRADE_BANDS,
        asked_district=district,
        asked_date=date_,
        answer=await _as_of_answer(organisation_id, district, date_, districts),
        today=local_today(),
    )
    return page


ROUTES: list[Any] = [provider_public_page]
