"""Engagements (合作) over JSON: schools record theirs; providers and the bureau read them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from registry.schools import engagements
from registry.web.security import provide_actor
from workflows.actors import Actor
from workflows.checks import GRADE_BANDS


class Slot(msgspec.Struct):
    weekday: int
    start: str
    end: str


class EngagementIn(msgspec.Struct):
    listing: int
    courses: list[str]
    term: str
    grade_band: str
    students: int
    weekly_schedule: list[Slot]
    fee_per_student_month: int
    evening_study: bool = False


class Party(msgspec.Struct):
    id: int
    name: str


class EngagementOut(msgspec.Struct):
    id: int
    school: Party
    listing: int
    listing_state: str
    organisation: Party
    district: str
    district_name: str
    courses: list[str]
    term: str
    grade_band: str
    grade_band_label: str
    students: int
    weekly_schedule: list[dict[str, Any]]
    fee_per_student_month: int
    evening_study: bool
    created_at: datetime | None
    updated_at: datetime | None
    provider_exited_on: date | None
    provider_suspended_on: date | None
    # The school's notice when the provider has left or been suspended ("" otherwise).
    notice: str


class EngagementList(msgspec.Struct):
    items: list[EngagementOut]
    total: int


def engagement_out(row: dict[str, Any]) -> EngagementOut:
    """The API shape of an engagement row from registry.schools.engagements."""
    return EngagementOut(
        id=row["id"],
        school=Party(row["school"], row["school_name"]),
        listing=row["listing"],
        listing_state=row["listing_state"],
        organisation=Party(row["organisation_id"], row["organisation_name"]),
        district=row["district_code"],
        district_name=row["district_name"],
        courses=list(row["courses"] or []),
        term=row["term"],
        grade_band=row["grade_band"],
        grade_band_label=GRADE_BANDS.get(row["grade_band"], row["grade_band"]),
        students=row["students"],
        weekly_schedule=list(row["weekly_schedule"] or []),
        fee_per_student_month=row["fee_per_student_month"],
        evening_study=row["evening_study"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        provider_exited_on=row["provider_exited_on"],
        provider_suspended_on=row["provider_suspended_on"],
        notice=engagements.exit_notice(row),
    )


def _data(body: EngagementIn) -> dict[str, Any]:
    return msgspec.to_builtins(body)  # type: ignore[no-any-return]


class EngagementController(Controller):
    path = "/api/v1/engagements"
    tags = ["engagements"]
    dependencies = {"actor": Provide(provide_actor)}

    @get("/", operation_id="listEngagements")
    async def list_engagements(self, actor: NamedDependency[Actor]) -> EngagementList:
        """A school's own, a provider's (which schools engage it), a district's, or all (city)."""
        rows = await engagements.visible_engagements(actor)
        return EngagementList([engagement_out(r) for r in rows], len(rows))

    @post("/", operation_id="createEngagement", status_code=201)
    async def create_engagement(
        self, actor: NamedDependency[Actor], data: JSONBody[EngagementIn]
    ) -> EngagementOut:
        """Record an engagement of the caller's school (201); 422 names each field at fault."""
        return engagement_out(await engagements.create(actor, _data(data)))

    @get("/{engagement_id:int}", operation_id="getEngagement")
    async def get_engagement(
        self, actor: NamedDependency[Actor], engagement_id: FromPath[int]
    ) -> EngagementOut:
        """One engagement of the caller's school; 404 for any other."""
        return engagement_out(await engagements.own_engagement(actor, engagement_id))

    @put("/{engagement_id:int}", operation_id="updateEngagement")
    async def update_engagement(
        self,
        actor: NamedDependency[Actor],
        engagement_id: FromPath[int],
        data: JSONBody[EngagementIn],
    ) -> EngagementOut:
        """Change an engagement of the caller's school, validated as on creation."""
        return engagement_out(await engagements.update(actor, engagement_id, _data(data)))

    @delete("/{engagement_id:int}", operation_id="deleteEngagement", status_code=204)
    async def delete_engagement(
        self, actor: NamedDependency[Actor], engagement_id: FromPath[int]
    ) -> None:
        """Delete an engagement of the caller's school (204); 404 for any other."""
        await engagements.delete(actor, engagement_id)


ROUTES: list[Any] = [EngagementController]
