"""The people and places every test can use, created once in the template database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from registry.access.accounts import Scope, actor_for, create_user
from registry.access.personal_data import with_open_form
from registry.cli import migrate_database
from registry.tables import District, Listing, Organisation, School
from tests.factories import at, new_listing, state_of
from workflows import engine
from workflows.actors import CLOCK, Actor, system_actor
from workflows.states import Role, State

PASSWORD = "correct-horse-9"
HEPING, BINHAI = "120101", "120116"
T0 = at("2026-03-02T10:00:00")  # a Monday, far from holidays
# What the app takes for "now" in every test (tests/conftest.py freezes it there), whatever
# the machine's clock says: listings reached at T0 are still valid, and due dates the tests
# compute from it lie ahead.
NOW = at("2026-11-16T10:00:00")  # a Monday


@dataclass
class Cast:
    districts: dict[str, int] = field(default_factory=dict)
    organisations: dict[str, int] = field(default_factory=dict)
    schools: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


CAST = Cast()

# name → (role, scope)
USERS: dict[str, tuple[Role, dict[str, Any]]] = {
    "city": (Role.city, {}),
    "reviewer": (Role.reviewer, {"district": HEPING}),
    "reviewer2": (Role.reviewer, {"district": HEPING}),
    "approver": (Role.approver, {"district": HEPING}),
    "reviewer_binhai": (Role.reviewer, {"district": BINHAI}),
    "approver_binhai": (Role.approver, {"district": BINHAI}),
    "provider": (Role.provider, {"organisation": "feiyue"}),
    "provider_other": (Role.provider, {"organisation": "other"}),
    "school": (Role.school, {"school": "heping_primary"}),
    "school_binhai": (Role.school, {"school": "binhai_middle"}),
}


PROVIDER_OF = {"feiyue": "provider", "other": "provider_other"}


async def build_cast() -> None:
    """Migrate, then add organisations, schools and one user per test persona."""
    await migrate_database()
    CAST.districts = {r["code"]: r["id"] for r in await District.select(District.code, District.id)}
    for key, name, uscc in (
        ("feiyue", "天津市和平区飞跃青少年篮球俱乐部有限公司", "91120101MA06B2C3DU"),
        ("other", "天津滨海墨香书法培训中心", None),
    ):
        rows = await Organisation.insert(
            Organisation(name=name, uscc=uscc, legal_representative="王建国")
        ).returning(Organisation.id)
        CAST.organisations[key] = rows[0]["id"]
    for key, name, district, level in (
        ("heping_primary", "天津市和平区岳阳道小学", HEPING, "primary"),
        ("binhai_middle", "天津市滨海新区塘沽第一中学", BINHAI, "middle"),
    ):
        rows = await School.insert(
            School(name=name, district=CAST.districts[district], level=level)
        ).returning(School.id)
        CAST.schools[key] = rows[0]["id"]
    for username, (role, scope) in USERS.items():
        CAST.users[username] = await create_user(
            username,
            PASSWORD,
            role,
            Scope(
                district_code=scope.get("district"),
                organisation_id=CAST.organisations.get(scope.get("organisation", "")),
                school_id=CAST.schools.get(scope.get("school", "")),
            ),
        )


async def actor(name: str) -> Actor:
    """The Actor of a cast member (or the clock)."""
    if name == "clock":
        return CLOCK
    if name == "system":
        return system_actor("import:test")
    found = await actor_for(CAST.users[name])
    assert found is not None
    return found


# How to reach each state from a fresh draft: (action, actor, extra keyword arguments).
PATHS: dict[State, list[tuple[str, str, dict[str, Any]]]] = {
    State.draft: [],
    State.submitted: [("submit", "provider", {})],
    State.in_review: [("submit", "provider", {}), ("accept", "reviewer", {})],
    State.needs_supplement: [
        ("submit", "provider", {}),
        ("request_supplement", "reviewer", {"reason": "缺少场地安全证明"}),
    ],
    State.pending_approval: [
        ("submit", "provider", {}),
        ("accept", "reviewer", {}),
        ("recommend", "reviewer", {}),
    ],
    State.rejected: [
        ("submit", "provider", {}),
        ("accept", "reviewer", {}),
        ("reject", "reviewer", {"reason": "教练资质不符合要求"}),
    ],
    State.withdrawn: [("submit", "provider", {}), ("withdraw", "provider", {})],
}
PATHS[State.in_public_notice] = [*PATHS[State.pending_approval], ("approve", "approver", {})]
PATHS[State.listed] = [
    *PATHS[State.in_public_notice],
    ("end_notice", "clock", {"now": T0 + timedelta(days=30)}),
]
PATHS[State.under_rectification] = [
    *PATHS[State.listed],
    (
        "put_under_rectification",
        "reviewer",
        {"reason": "家长投诉上课迟到", "now": T0 + timedelta(days=31)},
    ),
]
PATHS[State.suspended] = [
    *PATHS[State.listed],
    ("suspend", "reviewer", {"reason": "发生安全事故正在调查", "now": T0 + timedelta(days=31)}),
]
PATHS[State.exited] = [
    *PATHS[State.listed],
    ("exit_voluntary", "provider", {"now": T0 + timedelta(days=31)}),
]


async def listing_in(
    state: State,
    organisation: str = "feiyue",
    district: str = HEPING,
    form: dict[str, Any] | None = None,
) -> int:
    """A new listing of the cast's organisation, driven through the engine to `state`."""
    listing_id = await new_listing(CAST.organisations[organisation], CAST.districts[district], form)
    for action, who, options in PATHS[state]:
        options = {"now": T0, **options}
        if who == "provider":
            who = PROVIDER_OF[organisation]
        elif district == BINHAI and who in ("reviewer", "approver"):
            who = f"{who}_binhai"
        _, version = await state_of(listing_id)
        await engine.fire(listing_id, action, await actor(who), version=version, **options)
    assert (await state_of(listing_id))[0] == state.value
    return listing_id


def after(moment: datetime | None) -> datetime:
    """A moment a day later than the given one (or than T0)."""
    return (moment or T0) + timedelta(days=1)


async def listing_row(listing_id: int) -> dict[str, Any]:
    """The listing's row, its form opened as the app reads it (stored, its numbers are sealed)."""
    row = await Listing.select().where(Listing.id == listing_id).output(load_json=True).first()
    assert row is not None
    return with_open_form(row)
