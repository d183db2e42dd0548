"""Bureau decisions that are not transitions: assignment and per-course approval (audited)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.db import write_transaction
from registry.public.projection import approved_courses
from registry.review.scope import DECIDERS, district_staff, grant_for, refused, staff_listing
from registry.tables import Listing
from workflows import audit, timesource
from workflows.actors import Actor, Grant
from workflows.engine import NotFound
from workflows.states import Role, State


async def assign(listing_id: int, actor: Actor, reviewer_id: int | None) -> int | None:
    """Hand the listing to a reviewer of its district (None: to nobody); audited."""
    async with write_transaction(Listing._meta.db):
        listing, grants = await staff_listing(listing_id, actor)
        grant = grant_for(grants, DECIDERS, "分配审核员")
        reviewers = {
            r["id"]: r["username"]
            for r in await district_staff(listing["district"], frozenset({Role.reviewer}))
        }
        if reviewer_id is not None and reviewer_id not in reviewers:
            raise refused("reviewer_id", "not_a_reviewer", "只能分配给本区的审核员")
        await Listing.update({Listing.assigned_to: reviewer_id}).where(Listing.id == listing_id)
        await audit.record(
            actor,
            action="review.assign",
            role=grant.role.value,
            listing=listing_id,
            payload={
                "assigned_to": reviewer_id,
                "assignee": reviewers.get(reviewer_id or -1, ""),
                "previous": listing["assigned_to"],
            },
        )
    return reviewer_id


@dataclass(frozen=True)
class CourseDecision:
    """A course of the application and the bureau's decision on it."""

    index: int
    name: str
    approved: bool
    reason: str


def course_decisions(form: Mapping[str, Any], decisions: Mapping[str, Any]) -> list[CourseDecision]:
    """Every course with its decision (a course nobody struck counts as approved)."""
    result = []
    for index, course in enumerate(form.get("courses") or []):
        decision = decisions.get(str(index)) or {}
        name = str(course.get("name", "")) if isinstance(course, dict) else ""
        approved = bool(decision.get("approved", True))
        result.append(CourseDecision(index, name, approved, str(decision.get("reason", ""))))
    return result


def may_decide_courses(grant: Grant, state: State) -> bool:
    """Reviewers shape the application in review; the approver may still strike before notice."""
    return (grant.role == Role.reviewer and state == State.in_review) or (
        grant.role == Role.approver and state == State.pending_approval
    )


async def decide_course(
    listing_id: int, actor: Actor, index: int, approved: bool, reason: str = ""
) -> list[CourseDecision]:
    """Approve or strike one course; striking needs a reason and one course must remain."""
    reason = reason.strip()
    async with write_transaction(Listing._meta.db):
        listing, grants = await staff_listing(listing_id, actor)
        grant_for(grants, DECIDERS, "调整课程审核结果")
        state = State(listing["state"])
        grant = next((g for g in grants if may_decide_courses(g, state)), None)
        if grant is None:
            raise refused(
                "state",
                "invalid_state",
                f"当前状态为「{state.label}」：课程由审核员在审核中、由负责人在待审批时调整",
            )
        form = listing["form"] if isinstance(listing["form"], dict) else {}
        courses = form.get("courses") or []
        if not 0 <= index < len(courses) or not isinstance(courses[index], dict):
            raise NotFound("课程不存在")
        if not approved and not reason:
            raise refused("reason", "required", "删去课程须填写理由")
        decisions = dict(listing["course_decisions"] or {})
        decisions[str(index)] = {
            "approved": approved,
            "reason": reason,
            "by": actor.user_id,
            "at": timesource.now().isoformat(),
        }
        if not approved_courses(form, decisions):
            raise refused("approved", "last_course", "至少须保留一门通过的课程，不能全部删去")
        await Listing.update({Listing.course_decisions: decisions}).where(Listing.id == listing_id)
        await audit.record(
            actor,
            action="review.course_decision",
            role=grant.role.value,
            listing=listing_id,
            reason=reason,
            payload={"course": index, "name": courses[index].get("name", ""), "approved": approved},
        )
    return course_decisions(form, decisions)
