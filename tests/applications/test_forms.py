"""Saving a draft's form (no transition, no lost update) and checking it as a submit would."""

from __future__ import annotations

import pytest

from registry.applications.forms import check_listing, form_hash, save_form
from registry.applications.ownership import own_listing
from registry.tables import AuditEvent
from tests.cast import actor, listing_in
from tests.factories import state_of, valid_application
from workflows.engine import Conflict, NotFound, Refused
from workflows.states import State


async def _saves(listing_id: int) -> int:
    return await AuditEvent.count().where(
        (AuditEvent.listing == listing_id) & (AuditEvent.action == "application.form_saved")
    )


async def test_save_stores_the_form_and_records_changed_sections(db: object) -> None:
    listing_id = await listing_in(State.draft)
    provider = await actor("provider")
    row = await own_listing(listing_id, provider)
    form = {**row["form"], "categories": ["arts"]}
    saved = await save_form(listing_id, provider, form, row["version"], form_hash(row["form"]))
    assert saved.changed == ["categories"] and saved.form_hash == form_hash(form)
    assert await state_of(listing_id) == ("draft", row["version"])  # not a transition
    again = await save_form(listing_id, provider, form, row["version"], saved.form_hash)
    assert again.changed == [] and await _saves(listing_id) == 1


async def test_stale_save_is_a_conflict_and_writes_nothing(db: object) -> None:
    listing_id = await listing_in(State.draft)
    provider = await actor("provider")
    row = await own_listing(listing_id, provider)
    with pytest.raises(Conflict):
        await save_form(listing_id, provider, {}, row["version"], form_hash({"other": 1}))
    with pytest.raises(Conflict):
        await save_form(listing_id, provider, {}, row["version"] + 1, None)
    assert (await own_listing(listing_id, provider))["form"] == row["form"]
    assert await _saves(listing_id) == 0


async def test_form_is_closed_once_submitted_and_hidden_from_others(db: object) -> None:
    listing_id = await listing_in(State.submitted)
    provider = await actor("provider")
    _, version = await state_of(listing_id)
    with pytest.raises(Refused) as refused:
        await save_form(listing_id, provider, valid_application(), version, None)
    assert refused.value.errors[0].code == "not_editable"
    with pytest.raises(NotFound):
        await own_listing(listing_id, await actor("provider_other"))


async def test_check_reports_missing_sections_of_a_half_filled_form(db: object) -> None:
    listing_id = await listing_in(State.draft, form={"categories": ["sports"]})
    provider = await actor("provider")
    result = await check_listing(await own_listing(listing_id, provider), provider)
    assert {p.field for p in result.problems} >= {"organisation", "courses"}
    complete = await listing_in(State.draft, district="120116")
    result = await check_listing(await own_listing(complete, provider), provider)
    assert result.problems == []
