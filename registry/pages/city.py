"""The city's supervision page (/city): every district's figures side by side."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.response import Template

from registry.oversight.city import city_rows, totals
from registry.pages.common import page_actor, render
from workflows.actors import Actor
from workflows.scoring import GRADE_LABELS, GRADE_ORDER
from workflows.states import Role
from workflows.timesource import local_today

_PAGE = {"actor": Provide(page_actor)}


@get("/city", include_in_schema=False, dependencies=_PAGE)
async def city_overview(actor: NamedDependency[Actor]) -> Template:
    """All districts side by side, for the city (404 for anyone else)."""
    if Role.city not in actor.roles:
        raise NotFoundException()
    rows = await city_rows(local_today())
    return render(
        "city/overview.html",
        actor,
        rows=rows,
        totals=totals(rows),
        today=local_today(),
        grades=[(grade, GRADE_LABELS[grade]) for grade in GRADE_ORDER],
    )


ROUTES = [city_overview]
