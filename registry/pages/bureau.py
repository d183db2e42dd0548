"""The district bureau's pages: the review console and a listing's review page.

Every decision goes through the engine (transitions) or registry.review (assignment, courses,
expert scores); a refusal re-renders the page with the message, keeping what was typed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from registry import review
from registry.access.masking import mask_form, masked_leaf
from registry.access.reveal import reveal
from registry.notices import objections
from registry.pages.common import page_actor, redirect, render
from registry.reference import CATEGORY_LABELS
from registry.tables import Objection
from registry.web.errors import status_of
from workflows import engine
from workflows.actors import Actor
from workflows.checks import GRADE_BANDS
from workflows.engine import NotFound, TransitionError
from workflows.inputs import transition_input
from workflows.states import Role, State
from workflows.transitions import TRANSITIONS

_PAGE = {"actor": Provide(page_actor)}
PAGE_SIZE = 25
WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
KIND_LABELS = {"added": "新增", "removed": "删除", "changed": "修改"}


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


async def _detail(listing_id: int, actor: Actor, status_code: int = 200, **extra: Any) -> Template:
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
    names = await review.usernames({listing["assigned_to"], listing["recommended_by"]})
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
        documents=await review.documents(listing_id, _staff_names(form)),
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
    return await _detail(listing_id, actor, flash=flash)


DONE_MESSAGES = {
    "assign": "已更新承办审核员",
    "course": "已更新课程审核结果",
    "score": "已提交专家评分",
    "objection": "已驳回异议并答复",
}


async def _refused(listing_id: int, actor: Actor, error: TransitionError, **extra: Any) -> Template:
    if isinstance(error, NotFound):
        raise error
    messages = [e.message for e in error.errors if e.message != error.detail]
    return await _detail(
        listing_id,
        actor,
        status_code=status_of(error),
        flash="；".join([error.detail, *messages]),
        flash_kind="error",
        **extra,
    )


@post(
    "/bureau/listings/{listing_id:int}/actions/{action:str}",
    include_in_schema=False,
    dependencies=_PAGE,
)
async def fire_action(
    actor: NamedDependency[Actor],
    request: Request[Any, Any, Any],
    listing_id: FromPath[int],
    action: FromPath[str],
) -> Template | Redirect:
    """Fire one transition with the version the page was rendered with."""
    data = await request.form()
    fields = ("version", "reason", "message", "due", "exit_reason", "supplement_list")
    values = {k: str(data.get(k, "")).strip() for k in fields}
    shaped = transition_input(
        action,
        reason=values["reason"],
        message=values["message"],
        supplement_items=values["supplement_list"].splitlines(),
        due=values["due"],
        exit_reason=values["exit_reason"],
    )
    # A missing version must not skip the stale-page check: -1 never matches.
    version = int(values["version"]) if values["version"].isdigit() else -1
    try:
        await engine.fire(
            listing_id,
            action,
            actor,
            version=version,
            reason=shaped.reason,
            message=shaped.message,
            params=shaped.params,
        )
    except TransitionError as error:
        return await _refused(listing_id, actor, error, failed_action=action, typed=values)
    return redirect(f"/bureau/listings/{listing_id}?done={action}")


@post("/bureau/listings/{listing_id:int}/assignee", include_in_schema=False, dependencies=_PAGE)
async def assign(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any], listing_id: FromPath[int]
) -> Template | Redirect:
    """Hand the listing to a reviewer (or to nobody)."""
    value = str((await request.form()).get("reviewer_id", "")).strip()
    try:
        await review.assign(listing_id, actor, int(value) if value.isdigit() else None)
    except TransitionError as error:
        return await _refused(listing_id, actor, error)
    return redirect(f"/bureau/listings/{listing_id}?done=assign")


@post(
    "/bureau/listings/{listing_id:int}/courses/{index:int}",
    include_in_schema=False,
    dependencies=_PAGE,
)
async def decide_course(
    actor: NamedDependency[Actor],
    request: Request[Any, Any, Any],
    listing_id: FromPath[int],
    index: FromPath[int],
) -> Template | Redirect:
    """Approve or strike one course."""
    data = await request.form()
    approved = str(data.get("approved", "")) == "1"
    reason = str(data.get("reason", ""))
    try:
        await review.decide_course(listing_id, actor, index, approved, reason)
    except TransitionError as error:
        return await _refused(
            listing_id, actor, error, failed_course=index, typed={"reason": reason}
        )
    return redirect(f"/bureau/listings/{listing_id}?done=course#courses")


@post(
    "/bureau/listings/{listing_id:int}/expert-scores", include_in_schema=False, dependencies=_PAGE
)
async def add_expert_score(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any], listing_id: FromPath[int]
) -> Template | Redirect:
    """Record the reviewer's admission score from the rubric form."""
    data = await request.form()
    scores: dict[str, Any] = {}
    for key, raw in data.items():
        if key.startswith("score_") and str(raw).strip():
            text = str(raw).strip()
            scores[key.removeprefix("score_")] = int(text) if text.isdigit() else text
    comment = str(data.get("comment", ""))
    try:
        await review.add_expert_score(listing_id, actor, scores, comment)
    except TransitionError as error:
        typed = {f"score_{k}": str(v) for k, v in scores.items()} | {"comment": comment}
        return await _refused(listing_id, actor, error, typed_scores=typed)
    return redirect(f"/bureau/listings/{listing_id}?done=score#expert")


@post(
    "/bureau/listings/{listing_id:int}/personal-data/reveal",
    include_in_schema=False,
    dependencies=_PAGE,
    cache_control=CacheControlHeader(no_store=True),
)
async def reveal_personal_data(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any], listing_id: FromPath[int]
) -> Template:
    """The page again with one full number shown where its mask was (audited, with a reason)."""
    data = await request.form()
    field, reason = str(data.get("field", "")), str(data.get("reason", ""))
    try:
        revealed = await reveal(listing_id, actor, field, reason)
    except TransitionError as error:
        return await _refused(listing_id, actor, error, reveal_field=field)
    return await _detail(
        listing_id, actor, revealed=revealed, flash="已显示完整号码，本次查看已记入办理记录"
    )


async def _objection_listing(objection_id: int) -> int:
    row = await Objection.select(Objection.listing).where(Objection.id == objection_id).first()
    if row is None:
        raise NotFoundException()
    return int(row["listing"])


@post("/bureau/objections/{objection_id:int}/{decision:str}", include_in_schema=False,
      dependencies=_PAGE)  # fmt: skip
async def decide_objection(
    actor: NamedDependency[Actor],
    request: Request[Any, Any, Any],
    objection_id: FromPath[int],
    decision: FromPath[str],
) -> Template | Redirect:
    """Uphold an objection (the application is rejected) or dismiss it with a reply."""
    listing_id = await _objection_listing(objection_id)
    form = await request.form()
    text = str(form.get("text", ""))
    try:
        if decision == "uphold":
            await objections.uphold(objection_id, actor, text)
        elif decision == "dismiss":
            await objections.dismiss(objection_id, actor, text)
        else:
            raise NotFoundException()
    except objections.ObjectionError as error:
        # Objection refusals carry their own status (they are not workflow errors).
        if error.status_code == 404:
            raise NotFoundException() from error
        return await _detail(
            listing_id, actor, status_code=error.status_code, flash=error.detail,
            flash_kind="error",
        )  # fmt: skip
    except TransitionError as error:
        return await _refused(listing_id, actor, error)
    done = "uphold_objection" if decision == "uphold" else "objection"
    return redirect(f"/bureau/listings/{listing_id}?done={done}#objections")


ROUTES: list[Any] = [
    console, detail, fire_action, assign, decide_course, add_expert_score, decide_objection,
    reveal_personal_data,
]  # fmt: skip
