"""Writing the demo plan: rows for providers, schools and users; state changes via the engine."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

import click
from piccolo.apps.user.tables import BaseUser
from rich.console import Console

from registry.access.accounts import ADMIN_ROLES, Scope, actor_for, create_user
from registry.access.personal_data import organisation_values
from registry.applications.drafts import create_listing
from registry.db import write_transaction
from registry.demo.evaluation import seed_evaluations
from registry.demo.model import DistrictInfo, Step, UserPlan
from registry.demo.plan import DemoPlan, build_plan
from registry.progress import progress_bar
from registry.settings import get_settings
from registry.tables import (
    AuditEvent,
    District,
    Listing,
    Membership,
    Organisation,
    School,
    UserProfile,
)
from workflows import timesource
from workflows.actors import CLOCK, Actor, Grant
from workflows.engine import TransitionError, fire
from workflows.states import Role, State

DEMO_PASSWORD = "Demo-2026-tj"
# Demo users are recognised by this mail domain (`.invalid` is never delivered to).
DEMO_EMAIL_DOMAIN = "demo.invalid"
EVALUATION_SUMMARY = (
    "评估：评估周期 {cycles}，合作 {engagements}，学校评价 {feedback}，现场检查 {inspections}，"
    "自查报告 {self_reports}，已确认结果 {results}，投诉 {complaints}，安全事故 {incidents}"
)
# Steps per database transaction: one commit per batch instead of one per step.
BATCH = 200


# One district has adopted expert review (two independent scores before a recommendation) since
# the history above was written, so the demo shows that task on the listings it still reviews.
EXPERT_DISTRICT = "120101"


async def _require_expert_review(code: str) -> None:
    found = District.select(District.policy).where(District.code == code)
    row = await found.output(load_json=True).first()
    if row is None:
        return
    overrides = dict(row["policy"] or {})
    overrides["expert_review"] = {"required": True, "tolerance": 10}
    await District.update({District.policy: overrides}).where(District.code == code)


def demo_email(username: str) -> str:
    """The address a demo user is created with."""
    return f"{username}@{DEMO_EMAIL_DOMAIN}"


async def _record_enrolment(seed: int, districts: dict[str, tuple[int, DistrictInfo]]) -> None:
    """Invented pupil numbers for all districts but one (the city view shows "—" where a
    district has not recorded its enrolment)."""
    rng = random.Random(seed)
    for code in sorted(districts)[:-1]:
        pupils = rng.randrange(20_000, 160_000, 100)
        await District.update({District.pupils: pupils}).where(District.code == code)


async def load_districts() -> dict[str, tuple[int, DistrictInfo]]:
    """Each district's id and planning view, by code."""
    rows = await District.select().output(load_json=True)
    return {
        r["code"]: (r["id"], DistrictInfo(r["code"], r["name"], r["inner_six"], r["policy"] or {}))
        for r in rows
    }


class _Writer:
    def __init__(self, plan: DemoPlan, district_ids: dict[str, int], console: Console) -> None:
        self.plan = plan
        self.district_ids = district_ids
        self.console = console
        self.provider_ids: list[int] = []
        self.school_ids: list[int] = []
        self.actors: dict[str, Actor] = {}
        self.provider_actors: dict[int, Actor] = {}
        self.listing_ids: dict[int, int] = {}
        self.versions: dict[int, int] = {}

    async def providers_and_schools(self) -> None:
        async with write_transaction(Organisation._meta.db):
            for p in self.plan.providers:
                rows = await Organisation.insert(
                    Organisation(
                        kind=p.kind,
                        name=p.name,
                        uscc=p.uscc,
                        legal_representative=p.legal_representative,
                        contact_name=p.contact_name,
                        contact_email=p.contact_email,
                        address=p.address,
                        founded_on=p.founded_on,
                        description=p.description,
                        created_at=p.created_at,
                        # Sealed, as every write of them is (registry.access.personal_data).
                        **organisation_values(p.resident_id, p.contact_phone),
                    )
                ).returning(Organisation.id)
                self.provider_ids.append(rows[0]["id"])
            for s in self.plan.schools:
                rows = await School.insert(
                    School(name=s.name, district=self.district_ids[s.district_code], level=s.level)
                ).returning(School.id)
                self.school_ids.append(rows[0]["id"])

    def _scope(self, user: UserPlan) -> dict[str, int]:
        if user.district_code is not None:
            return {"district": self.district_ids[user.district_code]}
        if user.school is not None:
            return {"school": self.school_ids[user.school]}
        if user.provider is not None:
            return {"organisation": self.provider_ids[user.provider]}
        return {}

    async def users(self) -> float:
        """Create the demo users; return the seconds it took."""
        started = perf_counter()
        first, *others = self.plan.users
        # The first user goes through the normal path (validation, PBKDF2 hashing); the others
        # share its stored hash, since they share the demo password: one hash instead of ~60.
        first_id = await create_user(
            first.username,
            DEMO_PASSWORD,
            Role(first.role),
            Scope(),
            email=demo_email(first.username),
            name=first.name,
            post=first.post,
        )
        ids = {first.username: first_id}
        stored = await BaseUser.select(BaseUser.password).where(BaseUser.id == first_id).first()
        async with write_transaction(BaseUser._meta.db):
            for user in others:
                rows = await BaseUser.insert(
                    BaseUser(
                        username=user.username,
                        password=stored["password"],
                        email=demo_email(user.username),
                        active=True,
                        admin=Role(user.role) in ADMIN_ROLES,
                    )
                ).returning(BaseUser.id)
                ids[user.username] = rows[0]["id"]
                await Membership.insert(
                    Membership(user=rows[0]["id"], role=user.role, **self._scope(user))
                )
                await UserProfile.insert(
                    UserProfile(user=rows[0]["id"], name=user.name, post=user.post)
                )
        for username, user_id in ids.items():
            actor = await actor_for(user_id)
            assert actor is not None
            self.actors[username] = actor
        for user in self.plan.users:
            if user.provider is not None:
                self.provider_actors[user.provider] = self.actors[user.username]
        return perf_counter() - started

    def actor(self, step: Step) -> Actor:
        listing = self.plan.listings[step.listing]
        if step.actor == "clock":
            return CLOCK
        if step.actor == "provider":
            if listing.provider not in self.provider_actors:
                # Providers without a demo login act under their contact person's name.
                provider = self.plan.providers[listing.provider]
                grant = Grant(Role.provider, organisation_id=self.provider_ids[provider.index])
                self.provider_actors[provider.index] = Actor(None, provider.contact_name, (grant,))
            return self.provider_actors[listing.provider]
        return self.actors[f"{step.actor}_{listing.district_code}"]

    async def apply(self, step: Step) -> None:
        listing = self.plan.listings[step.listing]
        if step.action == "create":
            listing_id = await create_listing(
                self.actor(step),
                Role.provider,
                organisation_id=self.provider_ids[listing.provider],
                district_id=self.district_ids[listing.district_code],
                form=listing.form,
                now=step.at,
            )
            self.listing_ids[step.listing] = listing_id
            created = await Listing.select(Listing.version).where(Listing.id == listing_id).first()
            self.versions[step.listing] = created["version"]
            return
        try:
            outcome = await fire(
                self.listing_ids[step.listing],
                step.action,
                self.actor(step),
                version=self.versions[step.listing],
                reason=step.reason,
                message=step.message,
                params=step.params,
                now=step.at,
            )
        except TransitionError as error:
            details = "; ".join(e.message for e in error.errors) or error.detail
            raise RuntimeError(
                f"demo plan bug: listing {step.listing} ({listing.scenario}) step {step.seq} "
                f"{step.action} at {step.at.isoformat()} refused: {details}"
            ) from error
        self.versions[step.listing] = outcome.version

    async def steps(self, steps: Sequence[Step]) -> None:
        with progress_bar("写入申请与审核记录") as advance:
            done = 0
            for batch in _batches(steps, BATCH):
                async with write_transaction(Listing._meta.db):
                    for step in batch:
                        await self.apply(step)
                        done += 1
                        advance(done, len(steps))

    async def check(self) -> Counter[str]:
        """Every listing ended where the plan said; return the count per state."""
        rows = await Listing.select(Listing.id, Listing.state)
        states = {r["id"]: r["state"] for r in rows}
        for index, listing_id in self.listing_ids.items():
            expected = self.plan.listings[index].final_state
            if states[listing_id] != expected:
                raise RuntimeError(
                    f"demo listing {index} ended in {states[listing_id]}, planned {expected}"
                )
        return Counter(states[i] for i in self.listing_ids.values())


def _batches(steps: Sequence[Step], size: int) -> Iterator[Sequence[Step]]:
    for start in range(0, len(steps), size):
        yield steps[start : start + size]


async def _go_ahead(if_empty: bool, console: Console) -> bool:
    """False when the database has organisations and `if_empty` says to skip; refuse otherwise."""
    if not await Organisation.exists():
        return True
    if if_empty:
        console.print("The database already has organisations: demo data not seeded.")
        return False
    raise click.ClickException(
        "the database already has organisations; seed-demo fills an empty database only "
        "(demo usernames would clash). Use --if-empty to skip quietly, or start from a "
        "fresh database."
    )


async def _refuse_taken_usernames(usernames: list[str]) -> None:
    taken = await BaseUser.select(BaseUser.username).where(BaseUser.username.is_in(usernames))
    if taken:
        names = ", ".join(sorted(r["username"] for r in taken)[:5])
        raise click.ClickException(f"demo usernames already exist: {names}")


async def seed_demo_data(
    *, seed: int = 2026, organisations: int = 320, if_empty: bool = False
) -> None:
    """Fill an empty database with a deterministic, realistic demo data set."""
    console = Console()
    if not await _go_ahead(if_empty, console):
        return
    districts = await load_districts()
    if not districts:
        raise click.ClickException("no districts: run `registry migrate` first")
    if organisations < 1:
        raise click.ClickException("--organisations must be at least 1")
    started = perf_counter()
    now = timesource.now()
    plan = build_plan(
        seed=seed,
        organisations=organisations,
        now=now,
        districts=[info for _, info in districts.values()],
        tz=ZoneInfo(get_settings().timezone),
    )
    await _refuse_taken_usernames([u.username for u in plan.users])
    writer = _Writer(plan, {code: pk for code, (pk, _) in districts.items()}, console)
    await writer.providers_and_schools()
    user_seconds = await writer.users()
    await writer.steps(plan.steps)
    await writer.check()
    reviewers = {
        code: writer.actors[f"reviewer_{code}"]
        for code in districts
        if f"reviewer_{code}" in writer.actors
    }
    with progress_bar("写入评估周期、评价与检查"):
        evaluated = await seed_evaluations(seed, reviewers)
    await _require_expert_review(EXPERT_DISTRICT)
    await _record_enrolment(seed, districts)
    rows = await Listing.select(Listing.state)
    counts = Counter(r["state"] for r in rows)
    events = await AuditEvent.count()
    _summary(console, plan, counts, events, user_seconds, perf_counter() - started)
    console.print(EVALUATION_SUMMARY.format_map(evaluated))


def _summary(
    console: Console,
    plan: DemoPlan,
    counts: Counter[str],
    events: int,
    user_seconds: float,
    seconds: float,
) -> None:
    per_state = "，".join(f"{s.label} {counts[s.value]}" for s in State if counts[s.value])
    details: dict[str, Any] = {
        "机构/个人": len(plan.providers),
        "学校": len(plan.schools),
        "申请记录": len(plan.listings),
        "审计事件": events,
        "账号": len(plan.users),
    }
    console.print("演示数据已写入：" + "，".join(f"{k} {v}" for k, v in details.items()))
    console.print(f"各状态：{per_state}")
    console.print(f"用时 {seconds:.1f} 秒（其中创建账号 {user_seconds:.1f} 秒）")
