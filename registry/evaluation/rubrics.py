"""The rubric in force for a district: its own, else the city's edited default, else the file."""

from __future__ import annotations

from typing import Any

from registry.db import write_transaction
from registry.tables import District, Rubric
from schemas import city_default_rubric
from workflows import audit, timesource
from workflows.actors import Actor
from workflows.engine import Forbidden, NotFound, Refused
from workflows.scoring import rubric_problems
from workflows.states import Role

CITY = "city"


async def district_row(code: str) -> dict[str, Any]:
    """A district by its code, or 404."""
    row = await District.select().where(District.code == code).first()
    if row is None:
        raise NotFound(f"未知的区代码：{code}")
    return row


async def rubric_in_force(district_code: str | None) -> tuple[dict[str, Any], str]:
    """The rubric (and where it comes from: a district code, "city" or "default")."""
    scopes = [district_code, CITY] if district_code else [CITY]
    rows = (
        await Rubric.select(Rubric.scope, Rubric.body)
        .where(Rubric.scope.is_in(scopes))
        .output(load_json=True)
    )
    by_scope = {r["scope"]: r["body"] for r in rows}
    for scope in scopes:
        if scope in by_scope:
            body = by_scope[scope]
            return (body if isinstance(body, dict) else {}), scope
    return city_default_rubric(), "default"


def may_edit(actor: Actor, district_id: int | None) -> bool:
    """The city edits every rubric; a district's approvers edit their district's own."""
    if Role.city in actor.roles:
        return True
    return district_id is not None and any(
        g.role == Role.approver and g.district_id == district_id for g in actor.grants
    )


def is_district_staff(actor: Actor, district_id: int) -> bool:
    """Reviewers and approvers of the district, and the city."""
    return Role.city in actor.roles or any(
        g.role in (Role.reviewer, Role.approver) and g.district_id == district_id
        for g in actor.grants
    )


def check(body: object) -> dict[str, Any]:
    """The candidate rubric, or a 422 naming every problem."""
    problems = rubric_problems(body)
    if problems:
        raise Refused("评估细则有误：" + "；".join(p.message for p in problems[:5]), problems)
    assert isinstance(body, dict)
    return body


async def save_rubric(actor: Actor, scope: str, body: object) -> dict[str, Any]:
    """Validate and store a rubric for the city or a district; audited."""
    district_id = None
    if scope != CITY:
        district_id = (await district_row(scope))["id"]
    if not may_edit(actor, district_id):
        raise Forbidden("只有市级管理员或本区审批人员可以修改评估细则")
    rubric = check(body)
    async with write_transaction(Rubric._meta.db):
        existing = await Rubric.select(Rubric.id).where(Rubric.scope == scope).first()
        now = timesource.now()
        if existing:
            await Rubric.update(
                {Rubric.body: rubric, Rubric.updated_by: actor.user_id, Rubric.updated_at: now}
            ).where(Rubric.id == existing["id"])
        else:
            await Rubric.insert(
                Rubric(scope=scope, body=rubric, updated_by=actor.user_id, updated_at=now)
            )
        await audit.record(
            actor,
            action="rubric.saved",
            role=Role.city.value if Role.city in actor.roles else Role.approver.value,
            payload={"scope": scope, "name": rubric["name"]},
        )
    return rubric


async def reset_rubric(actor: Actor, district_code: str) -> dict[str, Any]:
    """Drop a district's own rubric: the city's applies again."""
    district = await district_row(district_code)
    if not may_edit(actor, district["id"]):
        raise Forbidden("只有市级管理员或本区审批人员可以修改评估细则")
    async with write_transaction(Rubric._meta.db):
        await Rubric.delete().where(Rubric.scope == district_code)
        await audit.record(
            actor,
            action="rubric.reset",
            role=Role.city.value if Role.city in actor.roles else Role.approver.value,
            payload={"scope": district_code},
        )
    return (await rubric_in_force(district_code))[0]
