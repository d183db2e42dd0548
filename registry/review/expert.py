"""Expert review: two reviewers score independently, a third moderates a wide disagreement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.access.people import display_names
from registry.db import write_transaction
from registry.review.scope import (
    check_context,
    grant_for,
    staff_listing,
    usernames,
)
from registry.tables import ExpertScore, Listing
from workflows import audit
from workflows.actors import Actor, Grant
from workflows.context import Refusal
from workflows.engine import Refused, district_policy
from workflows.guards import expert_review_complete
from workflows.states import Role, State


@dataclass(frozen=True)
class RubricItem:
    """One item of the admission rubric and its maximum points."""

    code: str
    label: str
    max_points: int


DEFAULT_ADMISSION_RUBRIC: tuple[RubricItem, ...] = (
    RubricItem("compliance", "资质与合规", 25),
    RubricItem("course_quality", "课程质量", 25),
    RubricItem("staff", "师资力量", 20),
    RubricItem("safety", "安全保障", 20),
    RubricItem("experience", "服务经验", 10),
)


def admission_rubric(policy: Mapping[str, Any]) -> tuple[RubricItem, ...]:
    """The district's admission rubric (policy expert_review.rubric), else the default."""
    items = (policy.get("expert_review") or {}).get("rubric")
    if not items:
        return DEFAULT_ADMISSION_RUBRIC
    return tuple(RubricItem(str(i["code"]), str(i["label"]), int(i["max"])) for i in items)


@dataclass(frozen=True)
class ExpertReview:
    """The scores so far, whether review is complete, and whether the actor may score now."""

    required: bool
    tolerance: float
    rubric: tuple[RubricItem, ...]
    scores: list[dict[str, Any]]
    hidden: int  # scores withheld from a reviewer who has not scored yet
    complete: bool
    problems: list[Refusal]
    moderator_next: bool  # the actor's score would be the moderator's
    cannot_score: Refusal | None = None
    mine: dict[str, Any] | None = field(default=None)

    @property
    def can_score(self) -> bool:
        """Whether the actor may add a score now."""
        return self.cannot_score is None


def _slot(
    existing: Sequence[Mapping[str, Any]], tolerance: float, user_id: int | None
) -> tuple[bool, Refusal | None]:
    """Whether a new score by `user_id` would be the moderator's, or why none is wanted."""
    if any(s["reviewer"] == user_id for s in existing):
        return False, Refusal("reviewer", "already_scored", "您已评分：每名审核员只评分一次")
    independent = [s for s in existing if not s["moderator"]]
    if len(independent) < 2:
        return False, None
    if any(s["moderator"] for s in existing):
        return True, Refusal("expert_review", "complete", "第三名审核员已裁定，专家评审已完成")
    gap = abs(independent[0]["total"] - independent[1]["total"])
    if gap <= tolerance:
        return True, Refusal(
            "expert_review",
            "no_moderator_needed",
            f"两名审核员评分相差 {gap} 分，未超过允许的 {tolerance:g} 分，无需第三名审核员评分",
        )
    return True, None


def _why_not(
    listing: Mapping[str, Any],
    grants: Sequence[Grant],
    review: Mapping[str, Any],
    existing: Sequence[Mapping[str, Any]],
    user_id: int | None,
) -> tuple[bool, Refusal | None]:
    if not review.get("required"):
        return False, Refusal("expert_review", "not_required", "本区政策未要求专家评审")
    if not any(g.role == Role.reviewer for g in grants):
        return False, Refusal("actor", "role", "只有本区审核员可以评分")
    state = State(listing["state"])
    if state != State.in_review:
        return False, Refusal(
            "state", "invalid_state", f"当前状态为「{state.label}」，专家评分仅在审核中进行"
        )
    return _slot(existing, float(review.get("tolerance", 0)), user_id)


def score_problems(rubric: Sequence[RubricItem], scores: Mapping[str, Any]) -> list[Refusal]:
    """Every item scored once, with whole points from 0 to the item's maximum."""
    known = {item.code for item in rubric}
    problems = [
        Refusal(f"scores.{key}", "unknown_item", f"评分项「{key}」不在准入评审细则中")
        for key in scores
        if key not in known
    ]
    for item in rubric:
        value = scores.get(item.code)
        if value is None:
            problems.append(Refusal(f"scores.{item.code}", "required", f"请为「{item.label}」打分"))
        elif (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 <= value <= item.max_points
        ):
            problems.append(
                Refusal(
                    f"scores.{item.code}",
                    "range",
                    f"「{item.label}」应为 0–{item.max_points} 的整数分",
                )
            )
    return problems


async def expert_review(listing_id: int, actor: Actor) -> ExpertReview:
    """The listing's expert review as the actor may see it."""
    listing, grants = await staff_listing(listing_id, actor)
    policy = await district_policy(listing["district"])
    review = policy.get("expert_review") or {}
    ctx = await check_context(listing, actor, policy, facts=("expert_scores",))
    existing = ctx.facts["expert_scores"]
    rows = await (
        ExpertScore.select()
        .where(ExpertScore.listing == listing_id)
        .order_by(ExpertScore.id)
        .output(load_json=True)
    )
    logins = await usernames({r["reviewer"] for r in rows})
    names = await display_names(r["reviewer"] for r in rows)
    for row in rows:
        row["username"] = logins.get(row["reviewer"], "")
        row["name"] = names.get(row["reviewer"], "")
    mine = next((r for r in rows if r["reviewer"] == actor.user_id), None)
    independent = sum(1 for r in rows if not r["moderator"])
    # Independence: a reviewer who has not scored must not see the first score beforehand.
    hide = mine is None and Role.reviewer in {g.role for g in grants} and independent < 2
    moderator_next, cannot = _why_not(listing, grants, review, existing, actor.user_id)
    problems = expert_review_complete(ctx)
    return ExpertReview(
        required=bool(review.get("required")),
        tolerance=float(review.get("tolerance", 0)),
        rubric=admission_rubric(policy),
        scores=[] if hide else rows,
        hidden=len(rows) if hide else 0,
        complete=not problems,
        problems=problems,
        moderator_next=moderator_next,
        cannot_score=cannot,
        mine=mine,
    )


async def add_expert_score(
    listing_id: int, actor: Actor, scores: Mapping[str, Any], comment: str = ""
) -> ExpertReview:
    """Record the actor's admission score (independent, or the moderator's); audited."""
    async with write_transaction(Listing._meta.db):
        listing, grants = await staff_listing(listing_id, actor)
        grant = grant_for(grants, frozenset({Role.reviewer}), "进行专家评分")
        policy = await district_policy(listing["district"])
        ctx = await check_context(listing, actor, policy, facts=("expert_scores",))
        existing = ctx.facts["expert_scores"]
        review = policy.get("expert_review") or {}
        moderator, cannot = _why_not(listing, grants, review, existing, actor.user_id)
        if cannot is not None:
            raise Refused(cannot.message, [cannot])
        rubric = admission_rubric(policy)
        problems = score_problems(rubric, scores)
        if problems:
            raise Refused("评分不完整或超出范围", problems)
        points = {item.code: int(scores[item.code]) for item in rubric}
        total = sum(points.values())
        await ExpertScore.insert(
            ExpertScore(
                listing=listing_id,
                reviewer=actor.user_id,
                moderator=moderator,
                scores=points,
                total=total,
                comment=comment.strip(),
            )
        )
        await audit.record(
            actor,
            action="review.expert_score",
            role=grant.role.value,
            listing=listing_id,
            reason=comment.strip(),
            payload={"scores": points, "total": total, "moderator": moderator},
        )
    return await expert_review(listing_id, actor)
