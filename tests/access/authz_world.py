"""The authorisation matrix's world: records, sessions, and copies of the database.

The world of tests/access/world.py, plus what the matrix's rows also point at:

    R  a third organisation's listing in 和平区, in review (no login of its own)
    stored files for every document, one row in every admin table, and disposable rows
    (a district, category, school, organisation, user and membership) the admin may delete

It is built once into its own database (the matrix template). Reads and refused writes run on
a shared copy, restored whenever a request changed it; a write meant to succeed runs on a fresh
copy of its own, so no check sees another's changes.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import piccolo_admin
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser
from piccolo.table import Table
from piccolo_api.session_auth.tables import SessionsBase

from registry.access import sessions
from registry.access.accounts import Scope, create_user
from registry.access.people import set_profile
from registry.applications import storage
from registry.db import make_engine, sqlite_path
from registry.documents.numbering import issue_number
from registry.evaluation import cycles, inputs, rubrics
from registry.notices.certificates import verify_code
from registry.pages.evaluation.confirm import fingerprint
from registry.tables import (
    Category,
    CycleStatus,
    District,
    Document,
    EvaluationCycle,
    EvaluationResult,
    Hearing,
    Inspection,
    IssuedNumber,
    Listing,
    Membership,
    Organisation,
    ResultStatus,
    Rubric,
    School,
    SchoolFeedback,
    SelfReport,
    UserProfile,
    WhitelistEntry,
)
from schemas import city_default_rubric
from tests.access.authz_matrix import ACTORS, PDF, SELF_REPORT
from tests.access.world import build_world
from tests.access.world_copies import (
    PostgresSnapshot,
    copy_sqlite,
    postgres_digest,
    remove_sqlite,
    sqlite_digest,
)
from tests.cast import CAST, HEPING, PASSWORD, T0, actor
from tests.conftest import POSTGRES, _admin_execute, _with_database, bind, http_client
from tests.evaluation.helpers import FULL_MARKS, engagement
from tests.factories import new_listing
from workflows import engine
from workflows.actors import Actor, Grant
from workflows.states import Role

_copies = itertools.count(1)
NOBODY = ("nobody", "Wrong-password-1")


@dataclass
class MatrixWorld:
    """Record references for the rows, each actor's cookies, and the database copies."""

    template: str  # SQLite: a file; PostgreSQL: a database name
    shared: str
    refs: dict[str, Any] = field(default_factory=dict)
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    csrf: str = ""
    admin_csrf: str = ""
    _snapshot: PostgresSnapshot | None = None

    # --- what a row's request carries ------------------------------------------------------

    def refs_for(self, who: str) -> dict[str, Any]:
        """The references, with "me.*" standing for the actor's own credentials."""
        username, password = NOBODY if who == "anonymous" else (who, PASSWORD)
        return {**self.refs, "me.username": username, "me.password": password}

    def cookies_of(self, who: str) -> dict[str, str]:
        """The actor's session cookies (both apps) and both CSRF cookies."""
        return {"registry_csrf": self.csrf, "csrftoken": self.admin_csrf, **self.cookies[who]}

    def csrf_of(self, who: str, admin: bool) -> str:
        """The header piccolo-admin or the registry expects."""
        return self.admin_csrf if admin else self.csrf

    def address_of(self, who: str) -> str:
        """Each actor calls from an address of its own (limits count per address)."""
        return f"10.77.0.{ACTORS.index(who) + 1}"

    # --- databases -------------------------------------------------------------------------

    def _url(self, name: str) -> str:
        if POSTGRES:
            return _with_database(os.environ["REGISTRY_DATABASE_URL"], name)
        return f"sqlite:///{name}"

    @asynccontextmanager
    async def bound(self) -> AsyncIterator[None]:
        """Every table pointed at the shared copy (with a pool on PostgreSQL) for one test."""
        engine = make_engine(self._url(self.shared))
        bind(engine)
        if not POSTGRES:
            yield
            return
        await engine.start_connection_pool(min_size=1, max_size=8)
        try:
            yield
        finally:
            await engine.close_connection_pool()

    async def restore_shared(self) -> None:
        """The shared copy as the world was built (after a request changed it)."""
        if self._snapshot is not None:
            await self._snapshot.restore(self._url(self.shared))
        else:
            copy_sqlite(self.template, self.shared)

    @asynccontextmanager
    async def fresh_copy(self) -> AsyncIterator[None]:
        """The world as built, for one write, and the shared copy as built again after it."""
        if POSTGRES:
            # Putting the shared copy back is cheaper here than a database of its own.
            try:
                yield
            finally:
                await self.restore_shared()
            return
        name = f"{self.shared}_w{next(_copies)}"
        copy_sqlite(self.template, name)
        bind(make_engine(self._url(name)))
        try:
            yield
        finally:
            bind(make_engine(self._url(self.shared)))
            remove_sqlite(name)

    async def fingerprint(self) -> dict[str, str]:
        """A digest of each table's content in the shared copy."""
        if POSTGRES:
            return await postgres_digest(self._url(self.shared))
        return sqlite_digest(self.shared)


# --- building it ------------------------------------------------------------------------------


async def _listing_in_review() -> int:
    rows = await Organisation.insert(
        Organisation(name="天津市和平区星光少儿舞蹈培训学校", uscc="91120101MA07C4D5XK")
    ).returning(Organisation.id)
    third = int(rows[0]["id"])
    listing_id = await new_listing(third, CAST.districts[HEPING])
    provider = Actor(None, "星光", (Grant(Role.provider, organisation_id=third),))
    await engine.fire(listing_id, "submit", provider, version=1, now=T0)
    await engine.fire(listing_id, "accept", await actor("reviewer"), version=2, now=T0)
    return listing_id


async def _store_documents(documents: Mapping[str, int]) -> None:
    # The world's document rows name no stored file; give each a real one to download.
    stored = storage.store(io.BytesIO(PDF), 1024 * 1024)
    await Document.update({Document.sha256: stored.sha256, Document.size: stored.size}).where(
        Document.id.is_in(list(documents.values()))
    )


async def _disposable() -> dict[str, Any]:
    """Rows the admin may delete without touching anything else."""
    district = await District.insert(District(code="120199", name="测试区")).returning(District.id)
    category = await Category.insert(
        Category(code="matrix", name="测试类别", position=99)
    ).returning(Category.id)
    school = await School.insert(
        School(name="天津市和平区测试小学", district=CAST.districts[HEPING])
    ).returning(School.id)
    organisation = await Organisation.insert(Organisation(name="测试机构")).returning(
        Organisation.id
    )
    # The user's organisation is another: the disposable one has nothing pointing at it.
    employer = await Organisation.insert(Organisation(name="测试机构二")).returning(Organisation.id)
    user_id = await create_user(
        "matrix_user", PASSWORD, Role.provider, Scope(organisation_id=employer[0]["id"])
    )
    return {
        "district": district[0]["id"],
        "category": category[0]["id"],
        "school": school[0]["id"],
        "organisation": organisation[0]["id"],
        "user": user_id,
    }


async def _cycles(listings: Mapping[str, int]) -> dict[str, Any]:
    """The world's cycles (with results) closed, and an open one in 和平区 taking inputs."""
    found: dict[str, Any] = {}
    for key, code in (("heping", HEPING), ("binhai", "120116")):
        row = (
            await EvaluationCycle.select(EvaluationCycle.id)
            .where(EvaluationCycle.district == CAST.districts[code])
            .first()
        )
        found[f"cycle.{key}"] = row["id"]
    # Results exist only once a cycle is closed; the world inserts them into open cycles.
    await EvaluationCycle.update(
        {EvaluationCycle.status: CycleStatus.closed.value, EvaluationCycle.closed_at: T0},
        force=True,
    )
    opened = await cycles.open_cycle(
        await actor("reviewer"),
        HEPING,
        cycles.CycleIn(
            "2026年秋季学期（第二轮）",
            "2026-2027学年第一学期",
            date(2026, 9, 1),
            date(2027, 1, 20),
            date(2030, 12, 31),
        ),
    )
    found["cycle.heping_open"] = opened["id"]
    # What the batch confirmation page of 滨海's cycle lists (C's computed result).
    found["plan.binhai"] = fingerprint([listings["C"]])
    found.update(await _heard_cycle(listings))
    return found


async def _heard_cycle(listings: Mapping[str, int]) -> dict[str, int]:
    """A closed 和平区 cycle whose result for A was sent to the provider to be heard (the
    window still open) and whose result for E waits for manual grading."""
    rows = await EvaluationCycle.insert(
        EvaluationCycle(
            district=CAST.districts[HEPING],
            name="2026年夏季学期",
            term="2025-2026学年第二学期",
            starts_on=date(2026, 3, 1),
            ends_on=date(2026, 7, 10),
            self_report_due=date(2026, 6, 30),
            status=CycleStatus.closed.value,
            rubric=city_default_rubric(),
            closed_at=T0,
        )
    ).returning(EvaluationCycle.id)
    cycle_id = int(rows[0]["id"])
    found = {"cycle.heping_heard": cycle_id}
    for name, status, consequence in (
        ("A", ResultStatus.provisional, "rectification"),
        ("E", ResultStatus.manual, "none"),
    ):
        listing_id = listings[name]
        result = await EvaluationResult.insert(
            EvaluationResult(
                key=f"{cycle_id}:{listing_id}",
                cycle=cycle_id,
                listing=listing_id,
                score_centi=6500 if name == "A" else None,
                grade="pass" if name == "A" else None,
                consequence=consequence,
                status=status.value,
            )
        ).returning(EvaluationResult.id)
        if name == "A":
            hearing = await Hearing.insert(
                Hearing(
                    result=result[0]["id"],
                    cycle=cycle_id,
                    listing=listing_id,
                    consequence=consequence,
                    facts={"cycle_name": "2026年夏季学期", "consequence_label": "责令整改"},
                    sent_at=T0,
                    answer_due=date(2030, 12, 31),
                )
            ).returning(Hearing.id)
            found["hearing.A"] = int(hearing[0]["id"])
    return found


async def _evaluation_inputs(cycle: int, listing: int, engagement: int) -> None:
    """One inspection, feedback, self-report and district rubric (every admin table a row)."""
    await inputs.record_inspection(
        await actor("reviewer"), cycle, listing, {"score": 88, "inspected_on": "2026-11-10"}
    )
    await inputs.give_feedback(await actor("school"), cycle, engagement, {"scores": FULL_MARKS})
    await inputs.submit_self_report(await actor("provider"), cycle, listing, SELF_REPORT)
    body, _ = await rubrics.rubric_in_force(None)
    await rubrics.save_rubric(await actor("approver"), HEPING, body)


async def _references() -> dict[str, Any]:
    world = await build_world()
    refs: dict[str, Any] = {}
    world.listings["R"] = await _listing_in_review()
    for name, listing_id in world.listings.items():
        row = (
            await Listing.select(Listing.version, Listing.form)
            .where(Listing.id == listing_id)
            .output(load_json=True)
            .first()
        )
        refs[f"listing.{name}"] = listing_id
        refs[f"version.{name}"] = row["version"]
        refs[f"form.{name}"] = row["form"]
    for kind, records in (
        ("document", world.documents),
        ("complaint", world.complaints),
        ("incident", world.incidents),
        ("engagement", world.engagements),
        ("objection", world.objections),
        ("result", world.results),
        ("event", world.events),
    ):
        refs.update({f"{kind}.{name}": record for name, record in records.items()})
    await _store_documents(world.documents)
    refs.update(await _cycles(world.listings))
    refs["engagement.A2"] = await engagement(
        world.listings["A"], courses=["少儿篮球提高班"], students=40
    )
    refs.update({f"organisation.{k}": v for k, v in CAST.organisations.items()})
    refs.update({f"user.{k}": v for k, v in CAST.users.items()})
    refs.update({f"school.{k}": v for k, v in CAST.schools.items()})
    refs["district.heping"] = CAST.districts[HEPING]
    refs["verify.A"] = verify_code(world.listings["A"])
    await _evaluation_inputs(refs["cycle.heping_open"], world.listings["A"], world.engagements["A"])
    rubric, _ = await rubrics.rubric_in_force(None)
    refs["rubric"] = rubric
    refs["rubric_text"] = json.dumps(rubric, ensure_ascii=False)
    refs.update({f"disposable.{k}": v for k, v in (await _disposable()).items()})
    refs.update(await _admin_rows(refs))
    return refs


async def _admin_rows(refs: Mapping[str, Any]) -> dict[str, Any]:
    """Rows of the tables the world names no record of, for the admin's row checks."""
    cycle, listing = refs["cycle.heping_open"], refs["listing.A"]

    async def first(table: type[Table], *where: Any) -> Any:
        query = table.select(table._meta.primary_key)
        for clause in where:
            query = query.where(clause)
        row = await query.first()
        assert row is not None, table
        return next(iter(row.values()))

    assets = Path(piccolo_admin.__file__).parent / "dist" / "assets"
    return {
        "membership.reviewer": await first(Membership, Membership.user == CAST.users["reviewer"]),
        "membership.disposable": await first(
            Membership, Membership.user == refs["disposable.user"]
        ),
        "whitelist_entry.A": await first(WhitelistEntry, WhitelistEntry.listing == listing),
        "rubric_row.heping": await first(Rubric, Rubric.scope == HEPING),
        "feedback.A": await first(SchoolFeedback, SchoolFeedback.cycle == cycle),
        "inspection.A": await first(Inspection, Inspection.cycle == cycle),
        "self_report.A": await first(SelfReport, SelfReport.cycle == cycle),
        "admin_asset": sorted(p.name for p in assets.iterdir())[0],
        "profile.reviewer": await _profile(CAST.users["reviewer"], "王丽", "审核员"),
        "profile.disposable": await _profile(refs["disposable.user"], "测试", ""),
        "issued_number.A": await _issued_number(),
    }


async def _issued_number() -> int:
    await issue_number(HEPING, "notice", "matrix", T0.date())
    row = await IssuedNumber.select(IssuedNumber.id).first()
    assert row is not None
    return int(row["id"])


async def _profile(user_id: int, name: str, post: str) -> int:
    await set_profile(user_id, name, post)
    row = await UserProfile.select(UserProfile.id).where(UserProfile.user == user_id).first()
    assert row is not None
    return int(row["id"])


async def _sign_in_everyone(world: MatrixWorld, app: Litestar) -> None:
    """A registry session and a piccolo-admin session for each cast member, and CSRF cookies.

    Only the city may use the admin; the others' admin sessions stand for a session left from
    before that rule (admin/gate.py refuses them on every request).
    """
    async with http_client(app) as client:
        await client.get("/api/v1/health")
        world.csrf = client.cookies["registry_csrf"]
        await client.get("/admin/")
        world.admin_csrf = client.cookies["csrftoken"]
    world.cookies["anonymous"] = {}
    for who in ACTORS[1:]:
        user_id = CAST.users[who]
        admin_session = await SessionsBase.create_session(user_id=user_id)
        world.cookies[who] = {"session": await sessions.start(user_id), "id": admin_session.token}
    # BaseUser.login keeps no state; nothing else to do for the admin.
    assert await BaseUser.count() > len(ACTORS)


@asynccontextmanager
async def build_matrix_world(template_url: str, app: Litestar) -> AsyncIterator[MatrixWorld]:
    """The world in its own template database, and a shared copy for the checks."""
    suffix = f"matrix_{os.getpid()}"
    if POSTGRES:
        base = urlparse(template_url).path.lstrip("/")
        template, shared = f"{base}_{suffix}", f"{base}_{suffix}_shared"
        for name in (template, shared):
            await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _admin_execute(f'CREATE DATABASE "{template}" TEMPLATE "{base}"')
    else:
        source = sqlite_path(template_url)
        template = str(source.with_name(f"{suffix}.sqlite"))
        shared = str(source.with_name(f"{suffix}_shared.sqlite"))
        shutil.copyfile(source, template)
    world = MatrixWorld(template=template, shared=shared)
    try:
        bind(make_engine(world._url(template)))
        world.refs = await _references()
        await _sign_in_everyone(world, app)
        if POSTGRES:
            world._snapshot = await PostgresSnapshot.take(world._url(template))
            await _admin_execute(f'CREATE DATABASE "{shared}" TEMPLATE "{template}"')
            # A throwaway database: commits need not wait for the disk.
            await _admin_execute(f'ALTER DATABASE "{shared}" SET synchronous_commit = off')
        else:
            copy_sqlite(template, shared)
        yield world
    finally:
        for name in (shared, template):
            if POSTGRES:
                await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                remove_sqlite(name)
