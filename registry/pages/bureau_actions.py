"""The district bureau's decisions on a listing, posted from its review page.

Transitions go through the engine, assignment, courses and expert scores through
registry.review, objections through registry.notices; a refusal re-renders the review page
(registry/pages/bureau.py) with the message.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry import review
from registry.access.reveal import reveal
from registry.notices import objections
from registry.pages.bureau import detail_page, refused_page
from registry.pages.common import page_actor, redirect
from registry.tables import Objection
from workflows import engine
from workflows.actors import Actor
from workflows.engine import TransitionError
from workflows.inputs import transition_input

_PAGE = {"actor": Provide(page_actor)}


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
        return await refused_page(listing_id, actor, error, failed_action=action, typed=values)
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
        return await refused_page(listing_id, actor, error)
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
        return await refused_page(
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
        return await refused_page(listing_id, actor, error, typed_scores=typed)
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
        return await refused_page(listing_id, actor, error, reveal_field=field)
    return await detail_page(
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
        return await detail_page(
            listing_id, actor, status_code=error.status_code, flash=error.detail,
            flash_kind="error",
        )  # fmt: skip
    except TransitionError as error:
        return await refused_page(listing_id, actor, error)
    done = "uphold_objection" if decision == "uphold" else "objection"
    return redirect(f"/bureau/listings/{listing_id}?done={done}#objections")


ROUTES: list[Any] = [
    fire_action, assign, decide_course, add_expert_score, decide_objection, reveal_personal_data,
]  # fmt: skip
