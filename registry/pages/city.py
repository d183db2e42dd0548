"""The city's supervision page (/city): every district's figures side by side."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter
from litestar.response import Template

from registry.documents.render import attachment
from registry.oversight import report
from registry.oversight.city import city_rows, totals
from registry.oversight.dashboard import Period
from registry.pages.common import page_actor, render
from workflows.actors import Actor
from workflows.scoring import GRADE_LABELS, GRADE_ORDER
from workflows.states import Role
from workflows.timesource import local_today

_PAGE = {"actor": Provide(page_actor)}


def _city_only(actor: Actor) -> None:
    if Role.city not in actor.roles:
        raise NotFoundException()


async def _page(
    actor: Actor,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    """The page; the report form holds `values` (the page's own period by default)."""
    today = local_today()
    period = Period.months_to(today)
    rows = await city_rows(today, period)
    shown = {"from": period.start.isoformat(), "to": today.isoformat(), "format": "pdf"}
    return render(
        "city/overview.html",
        actor,
        status_code=status_code,
        rows=rows,
        totals=totals(rows),
        today=today,
        grades=[(grade, GRADE_LABELS[grade]) for grade in GRADE_ORDER],
        values=values or shown,
        errors=errors or {},
    )


@get("/city", include_in_schema=False, dependencies=_PAGE)
async def city_overview(actor: NamedDependency[Actor]) -> Template:
    """All districts side by side, for the city (404 for anyone else)."""
    _city_only(actor)
    return await _page(actor)


@get("/city/report", include_in_schema=False, dependencies=_PAGE)
async def city_report(
    actor: NamedDependency[Actor],
    start: Annotated[str, QueryParameter(name="from")] = "",
    end: Annotated[str, QueryParameter(name="to")] = "",
    kind: Annotated[str, QueryParameter(name="format")] = "pdf",
) -> Response[Any] | Template:
    """The supervision report of a period as a download; the page with the error otherwise."""
    _city_only(actor)
    values = {"from": start, "to": end, "format": kind}
    if kind not in report.FORMATS:
        errors = {"format": "请选择 PDF 或 Excel（xlsx）"}
        return await _page(actor, 400, values=values, errors=errors)
    try:
        period = report.parse_period(start, end, local_today())
    except report.ReportError as error:
        return await _page(actor, 400, values=values, errors={error.field: str(error)})
    document = await report.supervision_report(period, local_today())
    name = f"监管情况通报_{period.start.isoformat()}_{period.end.isoformat()}.{kind}"
    ascii_name = f"supervision_{period.start.isoformat()}_{period.end.isoformat()}.{kind}"
    return Response(
        await report.render(document, kind),
        media_type=report.MEDIA_TYPES[kind],
        headers={"Content-Disposition": attachment(name, ascii_name)},
    )


ROUTES = [city_overview, city_report]
