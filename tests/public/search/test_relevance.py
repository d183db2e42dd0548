"""The relevance suite: every case of relevance.py on the demo planner's providers.

Runs on the engine of the run (SQLite, or PostgreSQL in the second CI pass): both must put
the relevant providers first. Prints precision at 5 per kind of query and every failing case,
then fails if any case does: a query a parent types that does not put what they mean first.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from piccolo.engine.base import Engine

from registry.demo.plan import build_plan
from registry.demo.seed import load_districts
from registry.public.projection import refresh
from registry.public.search import Filters, Sort, search
from registry.tables import Listing, Organisation, WhitelistEntry
from tests.public.search.relevance import CASES, Case, Row
from workflows.states import PUBLIC_STATES, State

ORGANISATIONS = 320  # the demo's own size: about two hundred on the whitelist
PUBLIC = {s.value for s in PUBLIC_STATES}


async def _world() -> list[Row]:
    """The demo plan's providers on the whitelist, written without the engine."""
    districts = await load_districts()
    plan = build_plan(
        seed=2026,
        organisations=ORGANISATIONS,
        now=datetime(2026, 11, 16, 2, tzinfo=UTC),
        districts=[info for _, info in districts.values()],
        tz=ZoneInfo("Asia/Shanghai"),
    )
    organisation_ids: dict[int, int] = {}
    for listing in plan.listings:
        if listing.final_state not in PUBLIC:
            continue
        provider = plan.providers[listing.provider]
        if provider.index not in organisation_ids:
            organisation = Organisation(
                kind=provider.kind, name=provider.name, description=provider.description
            )
            rows = await Organisation.insert(organisation).returning(Organisation.id)
            organisation_ids[provider.index] = rows[0]["id"]
        rows = await Listing.insert(
            Listing(
                organisation=organisation_ids[provider.index],
                district=districts[listing.district_code][0],
                state=State.listed.value,
                form=listing.form,
                listed_at=datetime(2026, 4, 1, tzinfo=UTC),
                valid_until=date(2029, 3, 31),
            )
        ).returning(Listing.id)
        await refresh(rows[0]["id"])
    entries = await WhitelistEntry.select(
        WhitelistEntry.listing,
        WhitelistEntry.organisation_name,
        WhitelistEntry.district_name,
        WhitelistEntry.courses,
        WhitelistEntry.categories,
    )
    return [
        {
            "listing": e["listing"],
            "name": e["organisation_name"],
            "district_name": e["district_name"],
            "courses": [c for c in (e["courses"] or "").split("\n") if c],
            "categories": (e["categories"] or "").split(),
        }
        for e in entries
    ]


async def _judge(case: Case, world: list[Row]) -> tuple[float, list[str]]:
    """Precision at min(top, relevant) and what went wrong."""
    relevant = {row["listing"] for row in world if case.relevant(row)}
    if not relevant:
        return 0.0, ["演示数据中没有相关机构：用例有误"]
    result = await search(case.query, Filters(), Sort.relevance, 1, 20)
    suggestion = getattr(result, "suggestion", None)
    if case.suggestion:
        if suggestion in case.suggestion:
            return 1.0, []
        return 0.0, [f"应提示「{'」或「'.join(case.suggestion)}」，实际{suggestion!r}"]
    wanted = min(case.top, len(relevant))
    first = [item["listing_id"] for item in result.items[:wanted]]
    hits = sum(1 for listing in first if listing in relevant)
    problems = []
    if hits < wanted:
        names = {row["listing"]: row["name"] for row in world}
        wrong = [names.get(listing, str(listing)) for listing in first if listing not in relevant]
        listed = "、".join(wrong) or "（结果不足）"
        problems.append(f"前{wanted}条中{wanted - hits}条不相关：{listed}")
    missing = getattr(result, "missing", [])
    if case.partial and not missing:
        problems.append("应说明为部分匹配")
    if not case.partial and missing:
        problems.append(f"不应是部分匹配（缺少{missing}）")
    return hits / wanted, problems


@pytest.mark.slow
async def test_relevance_suite(db: Engine, capsys: Any) -> None:
    world = await _world()
    by_kind: dict[str, list[float]] = defaultdict(list)
    failures: list[str] = []
    for case in CASES:
        precision, problems = await _judge(case, world)
        by_kind[case.kind].append(precision)
        failures += [f"{case.kind}「{case.query}」：{p}" for p in problems]
    scores = [p for kind in by_kind.values() for p in kind]
    with capsys.disabled():
        engine = type(db).__name__
        print(f"\n相关性（{engine}，{len(world)} 家机构，{len(CASES)} 个查询）P@5：")
        for kind, values in by_kind.items():
            print(f"  {kind:6} {sum(values) / len(values):.2f}（{len(values)} 个）")
        print(f"  全部   {sum(scores) / len(scores):.2f}；未通过 {len(failures)} 项")
        for failure in failures:
            print(f"  ✗ {failure}")
    assert len(CASES) >= 60
    assert not failures, "\n".join(failures)
