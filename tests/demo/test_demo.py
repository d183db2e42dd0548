"""The demo data set: every state, a sound audit chain, working logins, the same data per seed."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import click
import pytest
from piccolo.apps.user.tables import BaseUser

from registry.access.personal_data import open_form, organisation_plain
from registry.demo import DEMO_PASSWORD, demo_logins, seed_demo_data
from registry.demo.identity import is_valid_resident_id, is_valid_uscc
from registry.demo.plan import build_plan
from registry.demo.seed import load_districts
from registry.settings import get_settings
from registry.tables import (
    AuditEvent,
    Engagement,
    EvaluationCycle,
    EvaluationResult,
    Listing,
    Membership,
    Organisation,
    School,
    SchoolFeedback,
    WhitelistEntry,
)
from schemas import APPLICATION, validate
from workflows import audit, timesource
from workflows.states import PUBLIC_STATES, ExitReason, Role, State

UNBANNED_EXITS = {ExitReason.voluntary.value, ExitReason.expired.value}


async def _as_after_migrate() -> None:
    """Remove the test cast, leaving what `registry migrate` creates (districts, categories)."""
    await Membership.delete(force=True)
    await BaseUser.delete(force=True)
    await School.delete(force=True)
    await Organisation.delete(force=True)


async def test_demo_seed(db: object) -> None:
    await _as_after_migrate()
    await seed_demo_data(seed=7, organisations=40)

    listings = await Listing.select().output(load_json=True)
    assert {r["state"] for r in listings} == {s.value for s in State}
    # Evaluation: a confirmed spring cycle whose grades are public, an open autumn cycle.
    cycles = {r["name"]: r["status"] for r in await EvaluationCycle.select()}
    assert set(cycles.values()) == {"open", "closed"}
    assert await EvaluationResult.count().where(EvaluationResult.status == "computed") == 0
    assert await WhitelistEntry.count().where(WhitelistEntry.latest_grade.is_not_null()) > 0
    assert await Engagement.count() > 0 and await SchoolFeedback.count() > 0
    public = {r["id"] for r in listings if r["state"] in PUBLIC_STATES}
    entries = {r["listing"] for r in await WhitelistEntry.select(WhitelistEntry.listing)}
    assert public and entries == public
    forced = [
        r for r in listings if r["state"] == State.exited and r["exit_reason"] not in UNBANNED_EXITS
    ]
    assert forced and all(r["banned_until"] is not None for r in forced)
    for row in listings:
        assert validate(APPLICATION, open_form(row["form"])) == []  # sealed in storage
        assert validate(APPLICATION, row["form"]) != []  # its numbers are not in the clear
    organisations = await Organisation.select()
    assert all(is_valid_uscc(o["uscc"]) for o in organisations if o["kind"] == "organisation")
    opened = [organisation_plain(o) for o in organisations]  # sealed in storage
    assert all(is_valid_resident_id(str(o["resident_id"])) for o in opened if o["resident_id"])
    assert not any(is_valid_resident_id(str(o["resident_id"])) for o in organisations)

    logins = await demo_logins()
    # Every demo person has a name and post the pages show (王丽（审核员）), not the login.
    assert all(re.fullmatch(r"[\u4e00-\u9fff·]+（[\u4e00-\u9fff]+）", x.name) for x in logins)
    assert {login.role for login in logins} == {
        Role.city,
        Role.reviewer,
        Role.approver,
        Role.provider,
        Role.school,
    }
    for role in (Role.city, Role.reviewer, Role.approver, Role.provider, Role.school):
        username = next(login.username for login in logins if login.role == role)
        assert await BaseUser.login(username, DEMO_PASSWORD) is not None, username

    result = await audit.verify()
    assert result.ok, result.problem
    assert result.checked == await AuditEvent.count()
    created = await AuditEvent.select(AuditEvent.listing).where(
        AuditEvent.action == "application.created"
    )
    assert sorted(e["listing"] for e in created) == sorted(r["id"] for r in listings)

    # The plan is a pure function of the seed (and "now"): the same seed, the same data.
    districts = [info for _, info in (await load_districts()).values()]
    now = timesource.now()
    tz = ZoneInfo(get_settings().timezone)
    first = build_plan(seed=7, organisations=40, now=now, districts=districts, tz=tz)
    again = build_plan(seed=7, organisations=40, now=now, districts=districts, tz=tz)
    assert [p.name for p in first.providers] == [p.name for p in again.providers]
    assert [(s.at, s.listing, s.action) for s in first.steps] == [
        (s.at, s.listing, s.action) for s in again.steps
    ]
    assert [x.form for x in first.listings] == [x.form for x in again.listings]
    assert sorted(o["name"] for o in organisations) == sorted(p.name for p in first.providers)

    # A second seed is refused (usernames would clash) or, with if_empty, skipped.
    with pytest.raises(click.ClickException):
        await seed_demo_data(seed=7, organisations=40)
    await seed_demo_data(seed=7, organisations=40, if_empty=True)
    assert await Organisation.count() == len(organisations)
