"""Each worker reuses search answers only while the whitelist stays as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest

from registry.public.search import Filters, Sort, generation, search
from registry.public.search import service as search_service
from registry.public.search.cache import AnswerCache
from registry.public.search.service import run_search
from registry.tables import WhitelistEntry
from tests.cast import T0, actor, listing_in
from tests.factories import state_of
from workflows import engine
from workflows.states import State


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries that reached the search itself (the rest were answered from the cache)."""
    monkeypatch.setattr(search_service, "_answers", AnswerCache())
    computed: list[str] = []
    real = search_service.search

    async def counted(q: str, *args: object) -> object:
        computed.append(q)
        return await real(q, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(search_service, "search", counted)
    return computed


async def suspend(listing_id: int) -> None:
    _, version = await state_of(listing_id)
    await engine.fire(
        listing_id, "suspend", await actor("reviewer"), version=version,
        reason="安全事故调查", now=T0 + timedelta(days=40),
    )  # fmt: skip


async def ids(q: str, filters: Filters | None = None) -> list[int]:
    _, items = await run_search(q, filters or Filters(), Sort.relevance, 1, 20)
    return [item.id for item in items]


async def test_an_identical_search_is_answered_again_without_searching(
    db: object, searches: list[str]
) -> None:
    listing_id = await listing_in(State.listed)
    assert listing_id in await ids("篮球")
    assert listing_id in await ids("篮球")
    assert await ids("篮球", Filters(districts=["120116"])) == []  # other filters: searched
    assert searches == ["篮球", "篮球"]


async def test_a_suspension_in_another_worker_empties_every_answer(
    db: object, searches: list[str]
) -> None:
    listing_id = await listing_in(State.listed)
    assert listing_id in await ids("篮球")
    # The engine fires in this process, but nothing tells the cache: only the generation,
    # which the database moved in the suspension's own transaction, as for another worker.
    await suspend(listing_id)
    assert listing_id not in await ids("篮球")
    assert searches == ["篮球", "篮球"]


@pytest.mark.parametrize("change", ["insert", "update", "delete"])
async def test_every_change_to_an_entry_moves_the_generation(db: object, change: str) -> None:
    listing_id = await listing_in(State.listed)
    before = await generation.current()
    assert before is not None
    row = await WhitelistEntry.select().where(WhitelistEntry.listing == listing_id).first()
    assert row is not None
    if change == "update":
        await WhitelistEntry.update({WhitelistEntry.fee_max: 999}).where(
            WhitelistEntry.id == row["id"]
        )
    elif change == "delete":
        await WhitelistEntry.delete().where(WhitelistEntry.id == row["id"])
    else:
        await WhitelistEntry.delete().where(WhitelistEntry.id == row["id"])
        middle = await generation.current()
        row.pop("id")
        await WhitelistEntry.insert(WhitelistEntry(**row))
        assert await generation.current() != middle
    after = await generation.current()
    assert after is not None and after[1] > before[1]


async def test_a_restore_moves_past_any_generation_before(db: object) -> None:
    before = await generation.current()
    await generation.restored()
    after = await generation.current()
    assert before is not None and after is not None
    assert after[1] > before[1] + 1_000_000  # a count the replaced database cannot have reached


async def test_facet_counts_kept_for_a_query_follow_a_suspension(db: object) -> None:
    listing_id = await listing_in(State.listed)
    before = await search("篮球", Filters(), Sort.relevance, 1, 20)
    assert (await search("篮球", Filters(), Sort.name, 2, 20)).total == before.total  # kept
    await suspend(listing_id)
    after = await search("篮球", Filters(), Sort.name, 2, 20)
    assert after.total == before.total - 1
    assert sum(after.facets["district"].values()) == sum(before.facets["district"].values()) - 1
