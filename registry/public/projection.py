"""The public whitelist projection, refreshed by the engine inside each transition's transaction."""

from __future__ import annotations

from typing import Any

from piccolo.utils.encoding import load_json

from registry.db import write_transaction
from registry.public.search.tokens import entry_tokens, name_sort_key
from registry.tables import (
    District,
    EvaluationResult,
    Listing,
    Organisation,
    ResultStatus,
    WhitelistEntry,
)
from workflows import timesource
from workflows.states import PUBLIC_STATES, State

# Written out: a transition into or out of the whitelist runs these, and Piccolo builds a
# query's SQL anew at each call (it cost more than running them).
_DELETE_ENTRY = "DELETE FROM whitelist_entry WHERE listing = {}"
_LISTING = (
    "SELECT id, state, organisation, district, form, course_decisions, listed_at, valid_until"
    " FROM listing WHERE id = {}"
)
_ORGANISATION = "SELECT id, name, kind, description FROM organisation WHERE id = {}"
_DISTRICT = "SELECT code, name FROM district WHERE id = {}"
_LATEST_GRADE = (
    "SELECT grade FROM evaluation_result WHERE listing = {} AND status = {}"
    " ORDER BY confirmed_at DESC LIMIT 1"
)


def _json(value: Any) -> dict[str, Any]:
    """A JSON object column as read raw (text on SQLite, text or decoded on PostgreSQL)."""
    decoded = load_json(value) if isinstance(value, str) else value
    return decoded if isinstance(decoded, dict) else {}


def approved_courses(form: dict[str, Any], decisions: dict[str, Any]) -> list[dict[str, Any]]:
    """The courses a reviewer did not strike (only these are listed and searchable)."""
    return [
        course
        for index, course in enumerate(form.get("courses", []))
        if isinstance(course, dict) and (decisions.get(str(index)) or {}).get("approved", True)
    ]


async def latest_grade(listing_id: int) -> str | None:
    """The grade of the listing's latest confirmed evaluation (None before its first)."""
    rows = await EvaluationResult.raw(_LATEST_GRADE, listing_id, ResultStatus.confirmed.value)
    return rows[0]["grade"] if rows else None


async def refresh(listing_id: int) -> None:
    """Make the projection row of one listing match its state (insert, update or delete)."""
    await WhitelistEntry.raw(_DELETE_ENTRY, listing_id)
    rows = await Listing.raw(_LISTING, listing_id)
    if not rows or State(rows[0]["state"]) not in PUBLIC_STATES:
        return
    listing = rows[0]
    organisation = (await Organisation.raw(_ORGANISATION, listing["organisation"]))[0]
    district = (await District.raw(_DISTRICT, listing["district"]))[0]
    form = _json(listing["form"])
    courses = approved_courses(form, _json(listing["course_decisions"]))
    names = [str(c.get("name", "")) for c in courses]
    outlines = [str(c.get("outline", "")) for c in courses]
    fees = [
        c["fee_per_student_month"]
        for c in courses
        if isinstance(c.get("fee_per_student_month"), int | float)
    ]
    bands = dict.fromkeys(b for c in courses for b in c.get("grade_bands", []) or [])
    description = str(
        organisation["description"] or form.get("organisation", {}).get("description", "")
    )
    tokens = entry_tokens(organisation["name"], names, outlines, description, district["name"])
    await WhitelistEntry.insert(
        WhitelistEntry(
            listing=listing_id,
            organisation_id=organisation["id"],
            organisation_name=organisation["name"],
            provider_kind=organisation["kind"],
            district_code=district["code"],
            district_name=district["name"],
            state=listing["state"],
            rectifying=listing["state"] == State.under_rectification,
            categories=" ".join(form.get("categories", [])),
            courses="\n".join(names),
            outlines="\n".join(outlines),
            description=description,
            grade_bands=" ".join(bands),
            fee_min=int(min(fees)) if fees else None,
            fee_max=int(max(fees)) if fees else None,
            latest_grade=await latest_grade(listing_id),
            name_sort=name_sort_key(organisation["name"]),
            search_tokens=tokens.search,
            name_tokens=tokens.name,
            word_tokens=tokens.words,
            listed_at=listing["listed_at"],
            valid_until=listing["valid_until"],
            updated_at=timesource.now(),
        )
    )


async def refresh_unindexed() -> int:
    """Rebuild projection rows written before the search columns existed; return how many."""
    rows = await WhitelistEntry.select(WhitelistEntry.listing).where(
        (WhitelistEntry.search_tokens == "") | (WhitelistEntry.word_tokens == "")
    )
    for row in rows:
        async with write_transaction(WhitelistEntry._meta.db):
            await refresh(row["listing"])
    return len(rows)


async def retokenise_all() -> int:
    """Recompute every projection row's token columns from the row itself (idempotent)."""
    rows = await WhitelistEntry.select(
        WhitelistEntry.id,
        WhitelistEntry.organisation_name,
        WhitelistEntry.courses,
        WhitelistEntry.outlines,
        WhitelistEntry.description,
        WhitelistEntry.district_name,
    )
    for row in rows:
        tokens = entry_tokens(
            row["organisation_name"],
            [c for c in (row["courses"] or "").split("\n") if c],
            [o for o in (row["outlines"] or "").split("\n") if o],
            row["description"] or "",
            row["district_name"],
        )
        await WhitelistEntry.update(
            {
                WhitelistEntry.search_tokens: tokens.search,
                WhitelistEntry.name_tokens: tokens.name,
                WhitelistEntry.word_tokens: tokens.words,
            }
        ).where(WhitelistEntry.id == row["id"])
    return len(rows)
