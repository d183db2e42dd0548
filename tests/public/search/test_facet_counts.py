"""The trigger-kept facet counts always equal a count of the whitelist itself."""

from __future__ import annotations

from datetime import timedelta

from registry.public.search import search
from registry.tables import WhitelistEntry
from tests.cast import T0, actor
from tests.factories import step
from tests.public.search.world import build_world


async def _kept() -> dict[tuple[str, str], int]:
    rows = await WhitelistEntry.raw(
        "SELECT district_code, categories, n FROM whitelist_facet WHERE n > 0"
    )
    return {(r["district_code"], r["categories"]): int(r["n"]) for r in rows}


async def _counted() -> dict[tuple[str, str], int]:
    rows = await WhitelistEntry.raw(
        "SELECT district_code, categories, count(*) AS n FROM whitelist_entry"
        " GROUP BY district_code, categories"
    )
    return {(r["district_code"], r["categories"]): int(r["n"]) for r in rows}


async def test_counts_follow_every_change_of_the_whitelist(db: object) -> None:
    world = await build_world()
    assert await _kept() == await _counted() and len(await _counted()) == 4
    reviewer = await actor("reviewer")
    later = T0 + timedelta(days=40)
    await step(world["feiyue"], "suspend", reviewer, reason="安全事故调查", now=later)
    assert await _kept() == await _counted()
    landing = await search("")
    assert landing.total == 3 and world["feiyue"] not in {r["listing_id"] for r in landing.items}
    assert "sports" not in landing.facets["category"]
    await step(world["feiyue"], "reinstate", reviewer, reason="调查结束", now=later)
    assert await _kept() == await _counted()
    assert (await search("")).facets["category"]["sports"] == 1
    await WhitelistEntry.update({WhitelistEntry.categories: "arts sports"}).where(
        WhitelistEntry.listing == world["xinghuo"]
    )
    assert await _kept() == await _counted()
    await step(world["feiyue"], "exit_voluntary", await actor("provider"), now=later)
    assert await _kept() == await _counted()
    assert (await search("")).total == 3
