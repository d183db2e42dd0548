"""Transitions per second through the engine (audit event and projection included).

    python benchmarks/transitions.py [--listings 300] [--concurrency 1]

Builds a fresh migrated database (SQLite under a temporary folder by default, or the
database named by REGISTRY_DATABASE_URL, which must be empty), creates the listings, and
drives each one draft → submitted → in_review → pending_approval → in_public_notice →
listed, timing only the transitions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.factories
_TMP = Path(tempfile.mkdtemp(prefix="registry-bench-"))
os.environ.setdefault("REGISTRY_VAR_DIR", str(_TMP))
os.environ.setdefault("REGISTRY_DATABASE_URL", f"sqlite:///{_TMP / 'bench.sqlite'}")

from piccolo.apps.user.tables import BaseUser  # noqa: E402

from registry.access.accounts import Scope, actor_for, create_user  # noqa: E402
from registry.app import close_database_pool, open_database_pool  # noqa: E402
from registry.cli import migrate_database  # noqa: E402
from registry.tables import District, Listing, Organisation  # noqa: E402
from tests.factories import valid_application  # noqa: E402
from workflows import engine  # noqa: E402
from workflows.actors import CLOCK, Actor, Grant  # noqa: E402
from workflows.audit import verify  # noqa: E402
from workflows.states import Role  # noqa: E402

STEPS = ("submit", "accept", "recommend", "approve", "end_notice")
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def _drive(listing_id: int, actors: dict[str, Actor], latencies: list[float]) -> None:
    for version, action in enumerate(STEPS, start=1):
        now = START + timedelta(days=30) if action == "end_notice" else START
        began = time.perf_counter()
        await engine.fire(listing_id, action, actors[action], version=version, now=now)
        latencies.append(time.perf_counter() - began)


async def _staff(username: str, role: Role) -> Actor:
    user_id = await create_user(username, "Bench-pass-2026", role, Scope(district_code="120101"))
    found = await actor_for(user_id)
    assert found is not None
    return found


async def main(listings: int, concurrency: int) -> None:
    """Set up, run and print the figures."""
    await migrate_database()
    # As `registry serve` runs: a pool of connections (PostgreSQL), kept open (SQLite). Without
    # it each PostgreSQL transaction opened its own connection (31 ms a transition).
    await open_database_pool()
    BaseUser._pbkdf2_iteration_count = 1_000  # user creation is not what is measured
    district = await District.select(District.id).where(District.code == "120101").first()
    ids: list[int] = []
    grants: list[Grant] = []
    for n in range(listings):
        rows = await Organisation.insert(Organisation(name=f"基准测试机构{n:05d}")).returning(
            Organisation.id
        )
        grants.append(Grant(role=Role.provider, organisation_id=rows[0]["id"]))
        listed = await Listing.insert(
            Listing(organisation=rows[0]["id"], district=district["id"], form=valid_application())
        ).returning(Listing.id)
        ids.append(listed[0]["id"])
    reviewer = await _staff("bench_reviewer", Role.reviewer)
    actors: dict[str, Actor] = {
        # One provider identity holding every benchmark organisation.
        "submit": Actor(None, "bench_provider", tuple(grants)),
        "accept": reviewer,
        "recommend": reviewer,
        "approve": await _staff("bench_approver", Role.approver),
        "end_notice": CLOCK,
    }

    latencies: list[float] = []
    queue = list(ids)

    async def worker() -> None:
        while queue:
            await _drive(queue.pop(), actors, latencies)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    count = len(latencies)
    check = await verify()
    latencies.sort()
    print(f"engine: {District._meta.db.engine_type}, concurrency {concurrency}")
    print(f"{count} transitions in {elapsed:.2f} s: {count / elapsed:.0f} transitions/s")
    print(
        f"latency ms: median {statistics.median(latencies) * 1000:.1f}, "
        f"p95 {latencies[int(0.95 * (count - 1))] * 1000:.1f}, max {latencies[-1] * 1000:.1f}"
    )
    print(f"audit chain: {check.checked} events verified, ok={check.ok}")
    await close_database_pool()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listings", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=1)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.listings, arguments.concurrency))
