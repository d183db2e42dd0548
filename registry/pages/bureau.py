"""The district bureau's pages: the review console and a listing's review page.

Every decision goes through the engine (transitions) or registry.review (assignment, courses,
expert scores); a refusal re-renders the page with the message, keeping what was typed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from registry import review
from registry.access.masking import mask_form, masked_leaf
from registry.access.people import display_names
from registry.notices import objections
from registry.pages.common import page_actor, render
from registry.reference import CATEGORY_LABELS
from registry.web.errors import status_of
from workflows import engine
from workflows.actors import Actor
from workflows.checks import GRADE_BANDS
from workflows.engine import NotFound, TransitionError
from workflows.states import Role, State
from workflows.transitions import TRANSITIONS

_PAGE = {"actor": Provide(page_actor)}
PAGE_SIZE = 25
WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
KIND_LABELS = {"added": "新增", "removed": "删除", "changed": "修改", "replaced": "替换"}


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _console_filter(query: Any) -> tuple[review.QueueFilter, dict[str, str]]:
    """The console's filter from the query string; anything malformed is simply not applied."""
    values = {
        key: str(query.get(key, "")).strip()
        for key in ("state", "category", "from", "to", "assigned", "district", "q", "page")
    }
    state = values["state"] or "queue"
    if state == "all":
        states: tuple[State, ...] = tuple(s for s in State if s != State.draft)
    elif state in State.__members__ and state != State.draft:
        states = (State(state),)
    else:
        state, states = "queue", review.QUEUE_STATES
    values["state"] = state
    if not review.valid_assigned(values["assigned"]):
        values["assigned"] = "all"
    page = int(values["page"]) if values["page"].isdigit() and int(values["page"]) > 0 else 1
    return (
        review.QueueFilter(
            states=states,
            category=values["category"] if values["category"] in CATEGORY_LABELS else None,
            submitted_from=_day(values["from"]),
            submitted_to=_day(values["to"]),
            assigned=values["assigned"],
            district=values["district"] or None,
            query=values["q"],
            page=page,
            page_size=PAGE_SIZE,
        ),
        values,
    )


def _link(values: dict[str, str], **changes: Any) -> str:
    merged = {**values, **{k: str(v) for k, v in changes.items()}}
    kept = {k: v for k, v in merged.items() if v and not (k == "page" and v == "1")}
    return "/bureau?" + urlencode(kept)


@get("/bureau", include_in_schema=False, dependencies=_PAGE)
async def console(actor: NamedDependency[Actor], request: Request[Any, Any, Any]) -> Template:
    """The review console: queues with counts, filters, and the listings to work on."""
    queue_filter, values = _console_filter(request.query_params)
    counts = await review.queue_counts(actor, queue_filter.district)
    rows, total = await review.review_listings(actor, queue_filter)
    districts = await review.staff_districts(actor)
    reviewers = [
        member
        for district in districts
        if len(districts) == 1
        for member in await review.district_staff(district["id"], frozenset({Role.reviewer}))
    ]
    tabs = [("queue", "全部待办", sum(counts.values()))]
    tabs += [(s.value, s.label, n) for s, n in counts.items()]
    tabs.append(("all", "全部记录", None))
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        "bureau/console.html",
        actor,
        tabs=[(value, label, n, _link(values, state=value, page=1)) for value, label, n in tabs],
        rows=rows,
        total=total,
        values=values,
        page=queue_filter.page,
        pages=pages,
        prev_link=_link(values, page=queue_filter.page - 1) if queue_filter.page > 1 else None,
        next_link=_link(values, page=queue_filter.page + 1) if queue_filter.page < pages else None,
        categories=CATEGORY_LABELS,
        districts=districts,
        reviewers=reviewers,
    )


def _staff_names(form: dict[str, Any]) -> list[str]:
    return [str(s.get("name", "")) for s in form.get("staff") or [] if isinstance(s, dict)]


def _readable_form(form: dict[str, Any]) -> dict[str, Any]:
    """The form with ID and phone numbers masked and course staff resolved to names."""
    names = _staff_names(form)
    masked = mask_form(form)
    # Kept in place even when malformed: the reveal buttons name staff rows by index.
    staff = [s if isinstance(s, dict) else {} for s in masked.get("staff") or []]
    courses = []
    for course in form.get("courses") or []:
        # Kept in place even when malformed: course decisions are by index.
        course = course if isinstance(course, dict) else {}
        teachers = [
            names[t] if isinstance(t, int) and 0 <= t < len(names) else str(t)
            for t in course.get("staff") or []
        ]
        courses.append({**course, "teachers": teachers})
    return {**masked, "staff": staff, "courses": courses}


async def detail_page(
    listing_id: int, actor: Actor, status_code: int = 200, **extra: Any
) -> Template:
    """The review page of one listing (404 outside the actor's scope)."""
    listing, grants = await review.staff_listing(listing_id, actor)
    state = State(listing["state"])
    policy = await engine.district_policy(listing["district"])
    form = await review.submitted_form(listing)
    found = await review.findings(listing, actor, policy)
    events = await review.history(listing_id)
    recommended = review.recommendation(listing, events)
    diff = await review.form_diff(listing_id, actor)
    expert = await review.expert_review(listing_id, actor)
    if expert.hidden:
        # Independent scoring: the history must not give away what the others scored.
        events = [
            replace(e, reason="", detail="评分内容在您提交自己的评分后可见")
            if e.action == "review.expert_score"
            else e
            for e in events
        ]
    deciders = {g.role for g in grants} & {Role.reviewer, Role.approver}
    names = await display_names([listing["assigned_to"], listing["recommended_by"]])
    return render(
        "bureau/detail.html",
        actor,
        status_code=status_code,
        listing=listing,
        state=state,
        form=_readable_form(form),
        decisions=review.course_decisions(form, listing["course_decisions"] or {}),
        can_decide_courses=any(review.may_decide_courses(g, state) for g in grants),
        blocking=[f for f in found if f.blocking],
        warnings=[f for f in found if not f.blocking],
        history=events,
        recommendation=recommended,
        recommender_is_me=listing["recommended_by"] == actor.user_id,
        diff=diff,
        changes=[
            (c.path, KIND_LABELS[c.kind], masked_leaf(c.path, c.old), masked_leaf(c.path, c.new))
            for c in diff.changes
        ],
        change_labels=[c.label for c in diff.changes],
        document_changes=[(KIND_LABELS[d.kind], d) for d in diff.documents or []],
        documents=await review.documents(listing_id, _staff_names(form)),
        supplement_rounds=await review.supplement_rounds(listing_id, _staff_names(form)),
        expert=expert,
        can_assign=bool(deciders),
        # The district's reviewers and approvers may see one full number, with a reason.
        can_reveal=bool(deciders),
        reviewers=await review.district_staff(listing["district"], frozenset({Role.reviewer})),
        assignee=names.get(listing["assigned_to"]),
        recommender=names.get(listing["recommended_by"]),
        actions=await review.action_forms(listing, actor, policy),
        objections=(
            await objections.objections_for(listing_id)
            if await objections.may_see_objections(actor, listing_id)
            else []
        ),
        can_decide_objections=Role.reviewer in deciders and state == State.in_public_notice,
        categories=CATEGORY_LABELS,
        grade_bands=GRADE_BANDS,
        weekdays=WEEKDAYS,
        **extra,
    )


@get("/bureau/listings/{listing_id:int}", include_in_schema=False, dependencies=_PAGE)
async def detail(
    actor: NamedDependency[Actor], listing_id: FromPath[int], done: FromQuery[str] = ""
) -> Template:
    """A listing's review page (`done` names what the previous post did)."""
    flash = DONE_MESSAGES.get(done)
    if done in TRANSITIONS:
        flash = f"已完成「{TRANSITIONS[done].label}」"
    return await detail_page(listing_id, actor, flash=flash)


DONE_MESSAGES = {
    "assign": "已更新承办审核员",
    "course": "已更新课程审核结果",
    "score": "已提交专家评分",
    "objection": "已驳回异议并答复",
}


async def refused_page(
    listing_id: int, actor: Actor, error: TransitionError, **extra: Any
) -> Template:
    """The review page again, with the engine's refusal as its message (a 404 stays a 404)."""
    if isinstance(error, NotFound):
        raise error
    messages = [e.message for e in error.errors if e.message != error.detail]
    return await detail_page(
        listing_id,
        actor,
        status_code=status_of(error),
        flash="；".join([error.detail, *messages]),
        flash_kind="error",
        **extra,
    )


ROUTES: list[Any] = [console, detail]
