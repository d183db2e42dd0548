"""Importing a district's whitelist: match or create each provider, list it through the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from registry.applications.drafts import create_listing
from registry.db import write_transaction
from registry.importing.reading import read_rows
from registry.importing.rows import Problem, Row, name_key, parse
from registry.progress import Advance, ignore
from registry.tables import District, Listing, Organisation, ProviderKind
from workflows import engine, timesource
from workflows.actors import system_actor
from workflows.engine import TransitionError
from workflows.states import LIVE_STATES, PUBLIC_STATES, Role, State

# Any fixed number: the key of the PostgreSQL advisory lock imports take.
IMPORT_LOCK = 7_120_101


class UnknownDistrict(Exception):
    """No district has this code."""


class ImportRefused(Exception):
    """The engine refused a row that passed the checks; nothing of the import is kept."""

    def __init__(self, row: int, detail: str) -> None:
        super().__init__(f"第{row}行：{detail}")


@dataclass(frozen=True)
class Imported:
    """A row listed by this import."""

    row: int
    name: str
    organisation_id: int
    listing_id: int
    new_organisation: bool


@dataclass(frozen=True)
class Skipped:
    """A good row left alone, and why (already listed, or in the review process)."""

    row: int
    name: str
    reason: str


@dataclass
class Report:
    """What one import did: listed, skipped and bad rows; `applied` is False when refused."""

    district_code: str
    district_name: str
    partial: bool
    imported: list[Imported] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    applied: bool = True

    @property
    def refused(self) -> bool:
        """Nothing imported because of bad rows (good rows already listed count as done)."""
        return bool(self.problems) and not (self.applied and (self.imported or self.skipped))

    def lines(self) -> list[str]:
        """The report in Chinese, one line each, as the CLI prints it."""
        head = f"{self.district_name}（{self.district_code}）白名单导入："
        out = [
            head + f"导入 {len(self.imported)} 家，已在名单中跳过 {len(self.skipped)} 家，"
            f"有误 {len({p.row for p in self.problems})} 行"
        ]
        if self.problems and not self.applied:
            out.append("因存在有误的行，未导入任何机构（使用 --partial 可只导入无误的行）：")
        elif self.problems:
            out.append("以下有误的行未导入：")
        out += [p.text for p in self.problems]
        out += [f"第{s.row}行 {s.name}：跳过，{s.reason}" for s in self.skipped]
        return out


@dataclass(frozen=True)
class _Plan:
    row: Row
    organisation_id: int | None


def minimal_form(row: Row) -> dict[str, Any]:
    """The imported listing's form: who, which categories, the projects as course names."""
    return {
        "organisation": {
            "name": row.name,
            "kind": ProviderKind.organisation.value,
            "uscc": row.uscc or "",
        },
        "categories": list(row.categories),
        "courses": [{"name": p, "category": row.categories[0]} for p in row.projects],
        "imported": {"row": row.number},
    }


async def _organisations() -> tuple[dict[str, int], dict[str, list[dict[str, Any]]]]:
    rows = await Organisation.select(Organisation.id, Organisation.name, Organisation.uscc)
    by_uscc = {r["uscc"]: r["id"] for r in rows if r["uscc"]}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_name.setdefault(name_key(r["name"]), []).append(r)
    return by_uscc, by_name


def _match(
    row: Row, by_uscc: dict[str, int], by_name: dict[str, list[dict[str, Any]]]
) -> tuple[int | None, Problem | None]:
    """The organisation a row is about; a name shared by several needs the USCC to tell."""
    if row.uscc and row.uscc in by_uscc:
        return by_uscc[row.uscc], None
    named = by_name.get(row.key, [])
    if row.uscc:
        # Same name, no code on record: the same provider, whose code the district now gives.
        # Same name, another code: a different legal entity, created anew.
        without_code = [r["id"] for r in named if not r["uscc"]]
        return (without_code[0] if len(without_code) == 1 else None), None
    if len(named) > 1:
        return None, Problem(row.number, "name", "有多家同名机构，请填写统一社会信用代码以区分")
    return (named[0]["id"] if named else None), None


async def _live_state(organisation_id: int, district_id: int) -> State | None:
    """A live listing outside the provider's own draft (a draft does not hold the place)."""
    live = [s.value for s in LIVE_STATES if s != State.draft]
    row = await (
        Listing.select(Listing.state)
        .where(
            (Listing.organisation == organisation_id)
            & (Listing.district == district_id)
            & Listing.state.is_in(live)
        )
        .first()
    )
    return State(row["state"]) if row else None


async def _list(
    plan: _Plan, district_id: int, operator: str, user_id: int | None, now: datetime
) -> Imported:
    row = plan.row
    organisation_id = plan.organisation_id
    if organisation_id is None:
        created = await Organisation.insert(
            Organisation(kind=ProviderKind.organisation.value, name=row.name, uscc=row.uscc)
        ).returning(Organisation.id)
        organisation_id = created[0]["id"]
    elif row.uscc:
        await Organisation.update({Organisation.uscc: row.uscc}).where(
            (Organisation.id == organisation_id) & Organisation.uscc.is_null()
        )
    actor = system_actor(f"import:{operator}", user_id)
    # Created as every listing is (with its audit event), then listed by the engine.
    listing_id = await create_listing(
        actor,
        Role.system,
        organisation_id=organisation_id,
        district_id=district_id,
        form=minimal_form(row),
        now=now,
    )
    params = {"valid_until": row.valid_until.isoformat()} if row.valid_until else {}
    await engine.fire(listing_id, "import", actor, params=params, now=now)
    return Imported(row.number, row.name, organisation_id, listing_id, plan.organisation_id is None)


async def import_whitelist(
    data: bytes,
    district_code: str,
    operator: str,
    *,
    user_id: int | None = None,
    partial: bool = False,
    now: datetime | None = None,
    progress: Advance = ignore,
) -> Report:
    """Import one file into one district, all rows in one transaction; idempotent.

    `progress` hears how many rows are checked, then how many providers are listed."""
    now = timesource.resolve(now)
    district = await District.select().where(District.code == district_code).first()
    if district is None:
        raise UnknownDistrict(district_code)
    parsed = parse(read_rows(data), engine.local_today(now))
    report = Report(district_code, district["name"], partial, problems=parsed.problems)
    async with write_transaction(Listing._meta.db):
        if isinstance(Listing._meta.db, PostgresEngine):
            # Two imports at once would both find a provider missing and create it twice;
            # SQLite's immediate transaction already serialises them.
            await Listing.raw("SELECT pg_advisory_xact_lock({})", IMPORT_LOCK)
        by_uscc, by_name = await _organisations()
        plans: list[_Plan] = []
        for checked, row in enumerate(parsed.rows, 1):
            progress(checked, len(parsed.rows))
            organisation_id, problem = _match(row, by_uscc, by_name)
            if problem is not None:
                report.problems.append(problem)
                continue
            state = None
            if organisation_id is not None:
                state = await _live_state(organisation_id, district["id"])
            if state is not None:
                reason = "已在白名单中" if state in PUBLIC_STATES else f"已有申请（{state.label}）"
                report.skipped.append(Skipped(row.number, row.name, reason))
                continue
            plans.append(_Plan(row, organisation_id))
        report.problems.sort(key=lambda p: p.row)
        if report.problems and not partial:
            report.applied = False
            return report
        for listed, plan in enumerate(plans):
            progress(listed, len(plans))
            try:
                imported = await _list(plan, district["id"], operator, user_id, now)
            except TransitionError as refused:
                # The rows were checked above; a refusal here aborts the whole import.
                raise ImportRefused(plan.row.number, refused.detail) from refused
            report.imported.append(imported)
        progress(len(plans), len(plans))
    return report
