"""A listing's evaluation report (PDF) and a cycle's result summary (XLSX)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from registry.documents.evaluation_report import evaluation_report, render_report, report_filename
from registry.documents.render import attachment
from registry.evaluation.summary import evaluation_summary, summary_filename
from registry.public.exports import MEDIA_TYPES
from registry.tables import EvaluationCycle
from registry.web.security import provide_actor
from workflows.actors import Actor
from workflows.engine import NotFound
from workflows.states import Role

_ACTOR = {"actor": Provide(provide_actor)}
_PRIVATE = "private, no-store"


def is_district_staff(actor: Actor, district_id: int) -> bool:
    """The city, or a reviewer or approver of the cycle's district."""
    return any(
        grant.role == Role.city
        or (grant.role in (Role.reviewer, Role.approver) and grant.district_id == district_id)
        for grant in actor.grants
    )


def is_own_provider(actor: Actor, organisation_id: int) -> bool:
    """A user of the evaluated organisation."""
    return any(
        grant.role == Role.provider and grant.organisation_id == organisation_id
        for grant in actor.grants
    )


@get(
    "/api/v1/cycles/{cycle_id:int}/results/{listing_id:int}/report.pdf",
    operation_id="getEvaluationReport",
    tags=["evaluation"],
    dependencies=_ACTOR,
)
async def get_evaluation_report(
    actor: NamedDependency[Actor], cycle_id: FromPath[int], listing_id: FromPath[int]
) -> Response[bytes]:
    """The 评估结果报告 PDF: district staff and the city; the provider once it is confirmed."""
    try:
        report = await evaluation_report(cycle_id, listing_id)
    except NotFound:
        # The same bare 404 as "not yours", so the answer does not tell which it was.
        raise NotFoundException() from None
    # The provider may not see a result the bureau has not confirmed: it can still change.
    allowed = is_district_staff(actor, report.district_id) or (
        report.confirmed and is_own_provider(actor, report.organisation_id)
    )
    if not allowed:
        # One answer for "no such result" and "not yours": a 404 reveals nothing.
        raise NotFoundException()
    return Response(
        await render_report(report),
        media_type=MEDIA_TYPES["pdf"],
        headers={
            "Content-Disposition": attachment(*report_filename(report)),
            "Cache-Control": _PRIVATE,
        },
    )


@get(
    "/api/v1/cycles/{cycle_id:int}/summary.xlsx",
    operation_id="getEvaluationSummary",
    tags=["evaluation"],
    dependencies=_ACTOR,
)
async def get_evaluation_summary(
    actor: NamedDependency[Actor], cycle_id: FromPath[int]
) -> Response[bytes]:
    """Every result of the cycle, one row each: district staff and the city only."""
    # The workbook is built after the check: it names every provider's result.
    cycle = await (
        EvaluationCycle.select(EvaluationCycle.district)
        .where(EvaluationCycle.id == cycle_id)
        .first()
    )
    if cycle is None or not is_district_staff(actor, cycle["district"]):
        raise NotFoundException()
    found, workbook = await evaluation_summary(cycle_id)
    return Response(
        workbook,
        media_type=MEDIA_TYPES["xlsx"],
        headers={
            "Content-Disposition": attachment(*summary_filename(found)),
            "Cache-Control": _PRIVATE,
        },
    )


ROUTES: list[Any] = [get_evaluation_report, get_evaluation_summary]
