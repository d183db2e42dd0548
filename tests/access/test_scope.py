"""Which rows each role sees, for every kind of record: the exact set, on a world built through
the engine (tests/access/world.py draws it)."""

from __future__ import annotations

import pytest

from registry.access.scope import (
    RULES,
    RecordKind,
    listing_scope,
    may_see,
    table_of,
    visible,
)
from registry.tables import Listing
from tests.access.world import World
from tests.cast import USERS, actor, listing_in, listing_row
from workflows.actors import Actor
from workflows.states import Role, State

VIEWERS = (
    "anonymous",
    "provider",
    "provider_other",
    "reviewer",
    "approver",
    "reviewer_binhai",
    "school",
    "school_binhai",
    "city",
    "clock",
    "system",
)
NOTHING: frozenset[str] = frozenset()


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Audit events are expected by the listing they are about ("-": about no listing).
EXPECTED: dict[RecordKind, dict[str, frozenset[str]]] = {
    RecordKind.listing: {
        "provider": _names("A D E"),
        "provider_other": _names("B C"),
        "reviewer": _names("A B E"),
        "approver": _names("A B E"),
        "reviewer_binhai": _names("C"),
        "school": _names("A"),
        "school_binhai": _names("C"),
        "city": _names("A B C E"),  # never a draft (D, G)
        "clock": _names("A B C D E G"),
        "system": _names("A B C D E G"),
    },
    RecordKind.document: {
        "provider": _names("A D E"),
        "provider_other": _names("B C"),
        "reviewer": _names("A B E"),
        "approver": _names("A B E"),
        "reviewer_binhai": _names("C"),
        "city": _names("A B C E"),
    },
    RecordKind.complaint: {
        "reviewer": _names("A"),
        "approver": _names("A"),
        "reviewer_binhai": _names("C"),
        "city": _names("A C"),
    },
    RecordKind.incident: {
        "school": _names("A:school"),
        "reviewer": _names("A:school"),
        "approver": _names("A:school"),
        "reviewer_binhai": _names("C:reviewer_binhai"),
        "city": _names("A:school C:reviewer_binhai"),
    },
    RecordKind.engagement: {
        "provider": _names("A"),
        "provider_other": _names("C"),
        "reviewer": _names("A"),
        "approver": _names("A"),
        "reviewer_binhai": _names("C"),
        "school": _names("A"),
        "school_binhai": _names("C"),
        "city": _names("A C"),
        "clock": _names("A C"),
        "system": _names("A C"),
    },
    # Everyone sees confirmed results of whitelisted providers; the bureau sees them all.
    RecordKind.result: {
        "anonymous": _names("A:confirmed"),
        "provider": _names("A:confirmed E:confirmed"),
        "provider_other": _names("A:confirmed"),
        "reviewer": _names("A:confirmed E:confirmed"),
        "approver": _names("A:confirmed E:confirmed"),
        "reviewer_binhai": _names("A:confirmed C:computed"),
        "school": _names("A:confirmed"),
        "school_binhai": _names("A:confirmed"),
        "city": _names("A:confirmed E:confirmed C:computed"),
        "clock": _names("A:confirmed"),
        "system": _names("A:confirmed"),
    },
    RecordKind.audit_event: {
        "provider": _names("A D E"),
        "provider_other": _names("B C"),
        "reviewer": _names("A B E"),
        "approver": _names("A B E"),
        "reviewer_binhai": _names("C"),
        "city": _names("A B C E -"),
    },
    RecordKind.objection: {
        "reviewer": _names("B"),
        "approver": _names("B"),
    },
}


def _records(world: World, kind: RecordKind) -> dict[str, int]:
    by_kind = {
        RecordKind.listing: world.listings,
        RecordKind.document: world.documents,
        RecordKind.complaint: world.complaints,
        RecordKind.incident: world.incidents,
        RecordKind.engagement: world.engagements,
        RecordKind.result: world.results,
        RecordKind.audit_event: world.events,
        RecordKind.objection: world.objections,
    }
    return by_kind[kind]


def _expected(world: World, kind: RecordKind, viewer: str) -> set[int]:
    names = EXPECTED[kind].get(viewer, NOTHING)
    records = _records(world, kind)
    if kind == RecordKind.audit_event:
        return {i for name, i in records.items() if name.split("#")[0] in names}
    assert names <= set(records), names - set(records)
    return {records[name] for name in names}


async def _viewer(name: str) -> Actor | None:
    return None if name == "anonymous" else await actor(name)


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("kind", list(RecordKind), ids=str)
async def test_each_role_sees_exactly_its_rows(world: World, kind: RecordKind, viewer: str) -> None:
    who = await _viewer(viewer)
    clause = visible(kind, who)
    table = table_of(kind)
    key = table._meta.primary_key
    seen = (
        set()
        if clause is None
        else {r[key._meta.name] for r in await table.select(key).where(clause)}
    )
    expected = _expected(world, kind, viewer)
    assert seen == expected
    # One row at a time says the same as the query.
    for record_id in _records(world, kind).values():
        assert await may_see(kind, who, record_id) == (record_id in expected)


def test_every_person_role_has_a_rule_for_listings() -> None:
    """A login without a listing rule would see nothing and fail silently: none may lack one."""
    assert {role for kind, role in RULES if kind == RecordKind.listing} == set(Role)


@pytest.mark.parametrize("state", list(State), ids=str)
async def test_listing_scope_agrees_with_the_engine(db: object, state: State) -> None:
    """The engine's Grant.sees and the SQL scope agree, except that the city never sees a draft
    (the stricter of the two old writings)."""
    listing_id = await listing_in(state)
    row = await listing_row(listing_id)
    for name in USERS:
        who = await actor(name)
        engine_sees = bool(who.grants_seeing(row["organisation"], row["district"], state))
        if Role.city in who.roles and state == State.draft:
            engine_sees = False
        assert await may_see(RecordKind.listing, who, listing_id) == engine_sees, name


async def test_staff_only_grants_narrow_the_scope(world: World) -> None:
    """roles=… keeps only those grants: a reviewer seen as a school sees nothing."""
    reviewer = await actor("reviewer")
    assert visible(RecordKind.listing, reviewer, roles={Role.school}) is None
    staff = visible(RecordKind.listing, reviewer, roles={Role.reviewer})
    assert staff is not None
    rows = await Listing.select(Listing.id).where(staff)
    assert {r["id"] for r in rows} == {world.listings[n] for n in "ABE"}


async def test_listing_scope_names_the_listings_whose_records_are_visible(world: World) -> None:
    for viewer, letters in (("reviewer_binhai", "CD"), ("city", "ABCDEG"), ("provider", "")):
        clause = listing_scope(RecordKind.complaint, await actor(viewer))
        found = (
            set()
            if clause is None
            else {r["id"] for r in await Listing.select(Listing.id).where(clause)}
        )
        assert found == {world.listings[n] for n in letters}, viewer
