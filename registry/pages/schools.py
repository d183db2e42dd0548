"""School pages: my engagements with exit notices, and the engagement form (new, edit, delete)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from registry.pages.common import by_field, page_actor, redirect, render
from registry.public.projection import approved_courses
from registry.schools import engagements
from registry.tables import Listing, School, WhitelistEntry
from workflows.actors import Actor
from workflows.checks import GRADE_BANDS
from workflows.engine import NotFound, Refused
from workflows.policy import effective_policy
from workflows.states import PUBLIC_STATES

_ACTOR = {"actor": Provide(page_actor)}
DONE = {"created": "合作已登记", "saved": "合作已保存", "deleted": "合作已删除"}
# Blank schedule rows offered beyond those filled in (no JavaScript needed to add one).
SPARE_ROWS = 2


def _number(text: str) -> int | str:
    """A posted whole number, or the text as typed (the service refuses it with its message)."""
    text = text.strip()
    return int(text) if text.isdigit() else text


def parse(posted: Any) -> dict[str, Any]:
    """The engagement as the form posted it; blank schedule rows are dropped."""
    rows = zip(
        posted.getall("slot_weekday", []),
        posted.getall("slot_start", []),
        posted.getall("slot_end", []),
        strict=False,
    )
    schedule = [
        {"weekday": _number(str(day)), "start": str(start).strip(), "end": str(end).strip()}
        for day, start, end in rows
        if str(day).strip() or str(start).strip() or str(end).strip()
    ]
    return {
        "listing": _number(str(posted.get("listing") or "")),
        "courses": [str(c) for c in posted.getall("courses", [])],
        "term": str(posted.get("term") or "").strip(),
        "grade_band": str(posted.get("grade_band") or ""),
        "students": _number(str(posted.get("students") or "")),
        "weekly_schedule": schedule,
        "fee_per_student_month": _number(str(posted.get("fee_per_student_month") or "")),
        "evening_study": posted.get("evening_study") == "yes",
    }


async def _school(actor: Actor) -> dict[str, Any]:
    grant = engagements.school_grant(actor)
    row = await (
        School.select(
            School.id,
            School.name,
            School.level,
            School.district.code.as_alias("district_code"),
            School.district.name.as_alias("district_name"),
        )
        .where(School.id == grant.school_id)
        .first()
    )
    if row is None:
        raise NotFound("学校不存在")
    return row


async def _listing(listing_id: object) -> dict[str, Any] | None:
    """The listing offered in the form: its provider, approved courses and district caps."""
    if not isinstance(listing_id, int):
        return None
    row = await (
        Listing.select(
            Listing.id,
            Listing.state,
            Listing.form,
            Listing.course_decisions,
            Listing.organisation.name.as_alias("organisation_name"),
            Listing.district.name.as_alias("district_name"),
            Listing.district.policy.as_alias("policy"),
        )
        .where(Listing.id == listing_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        return None
    form = row["form"] if isinstance(row["form"], dict) else {}
    row["courses"] = [
        str(c.get("name", "")) for c in approved_courses(form, row["course_decisions"] or {})
    ]
    row["policy"] = effective_policy(row["policy"])
    return row


async def _form(
    actor: Actor,
    values: Mapping[str, Any],
    *,
    engagement_id: int | None = None,
    problems: list[Any] | None = None,
    status: int = 200,
) -> Template:
    school = await _school(actor)
    listing = await _listing(values.get("listing"))
    if problems is None and engagement_id is None and listing is not None:
        # Say at once why this provider cannot be engaged (another district, under
        # rectification, not listed), before the school fills in the form.
        found = await engagements.problems_of(values, school["id"])
        problems = [p for p in found if p.field == "listing"]
    errors = by_field(problems or [], fold=["courses"])
    if engagement_id is None and listing and listing["state"] not in PUBLIC_STATES:
        # Off the whitelist: the refusal says so; its courses are not the school's to read.
        listing = None
    schedule = list(values.get("weekly_schedule") or [])
    return render(
        "schools/form.html",
        actor,
        status_code=status,
        school=school,
        listing=listing,
        values=values,
        schedule=schedule + [{}] * SPARE_ROWS,
        errors=errors,
        engagement_id=engagement_id,
        grade_bands={
            k: v for k, v in GRADE_BANDS.items() if k in engagements.LEVEL_BANDS[school["level"]]
        },
        weekdays=engagements.WEEKDAYS,
    )


@get("/school", dependencies=_ACTOR, include_in_schema=False)
async def dashboard(actor: NamedDependency[Actor], done: FromQuery[str] = "") -> Template:
    """My engagements, with a notice for each whose provider left the whitelist."""
    school = await _school(actor)
    rows = await engagements.engagements_of_school(school["id"])
    notices = [
        {"engagement": r, "text": engagements.exit_notice(r)}
        for r in rows
        if r["provider_exited_on"] or r["provider_suspended_on"]
    ]
    providers = await (
        WhitelistEntry.select(
            WhitelistEntry.listing, WhitelistEntry.organisation_name, WhitelistEntry.rectifying
        )
        .where(WhitelistEntry.district_code == school["district_code"])
        .order_by(WhitelistEntry.name_sort)
        .limit(500)
    )
    return render(
        "schools/dashboard.html",
        actor,
        school=school,
        engagements=rows,
        notices=notices,
        providers=providers,
        grade_bands=GRADE_BANDS,
        weekdays=engagements.WEEKDAYS,
        flash=DONE.get(done),
    )


@get("/school/engagements/new", dependencies=_ACTOR, include_in_schema=False)
async def new_engagement(actor: NamedDependency[Actor], listing: FromQuery[int]) -> Template:
    """The engagement form for one provider's listing (from the whitelist or the dashboard)."""
    values = {"listing": listing, "courses": [], "evening_study": False, "weekly_schedule": []}
    return await _form(actor, values)


@post("/school/engagements", dependencies=_ACTOR, include_in_schema=False)
async def create_engagement(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor]
) -> Template | Redirect:
    """Record the engagement; on problems, the form again with each next to its field."""
    values = parse(await request.form())
    try:
        await engagements.create(actor, values)
    except Refused as refused:
        return await _form(actor, values, problems=refused.errors, status=422)
    return redirect("/school?done=created")


@get("/school/engagements/{engagement_id:int}/edit", dependencies=_ACTOR, include_in_schema=False)
async def edit_engagement(actor: NamedDependency[Actor], engagement_id: FromPath[int]) -> Template:
    """The form filled with one engagement of my school (404 for any other)."""
    row = await engagements.own_engagement(actor, engagement_id)
    return await _form(actor, row, engagement_id=engagement_id)


@post("/school/engagements/{engagement_id:int}/edit", dependencies=_ACTOR, include_in_schema=False)
async def save_engagement(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], engagement_id: FromPath[int]
) -> Template | Redirect:
    """Save the edited engagement; on problems, the form again with the typed values."""
    current = await engagements.own_engagement(actor, engagement_id)
    # The provider of an engagement is not changed here: a different one is a new engagement.
    values = {**parse(await request.form()), "listing": current["listing"]}
    try:
        await engagements.update(actor, engagement_id, values)
    except Refused as refused:
        return await _form(
            actor, values, engagement_id=engagement_id, problems=refused.errors, status=422
        )
    return redirect("/school?done=saved")


@post(
    "/school/engagements/{engagement_id:int}/delete", dependencies=_ACTOR, include_in_schema=False
)
async def delete_engagement(
    actor: NamedDependency[Actor], engagement_id: FromPath[int]
) -> Redirect:
    """Delete one engagement of my school."""
    await engagements.delete(actor, engagement_id)
    return redirect("/school?done=deleted")


ROUTES: list[Any] = [
    dashboard,
    new_engagement,
    create_engagement,
    edit_engagement,
    save_engagement,
    delete_engagement,
]
