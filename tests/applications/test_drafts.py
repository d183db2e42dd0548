"""New listings: the one creation path (row, audit event, projection) and a provider's draft."""

from __future__ import annotations

import pytest

from registry.applications.drafts import create_draft, create_listing
from registry.tables import AuditEvent, Listing, WhitelistEntry
from tests.cast import BINHAI, CAST, HEPING, T0, actor, listing_in, listing_row
from tests.factories import valid_application
from workflows import audit
from workflows.engine import Forbidden, Refused
from workflows.states import Role, State


async def test_created_listing_is_a_draft_with_its_creation_event(db: object) -> None:
    importer = await actor("system")
    listing_id = await create_listing(
        importer,
        Role.system,
        organisation_id=CAST.organisations["other"],
        district_id=CAST.districts[BINHAI],
        form=valid_application(),
        now=T0,
    )
    row = await listing_row(listing_id)
    assert (row["state"], row["version"], row["created_at"]) == ("draft", 1, T0)
    assert row["form"] == valid_application()
    event = await (
        AuditEvent.select().where(AuditEvent.listing == listing_id).output(load_json=True).first()
    )
    assert (event["action"], event["role"], event["to_state"]) == (
        "application.created",
        "system",
        "draft",
    )
    assert event["actor_name"] == "import:test" and event["occurred_at"] == T0
    assert event["payload"] == {"listing": listing_id, "district": BINHAI}
    assert not await WhitelistEntry.exists().where(WhitelistEntry.listing == listing_id)
    assert (await audit.verify()).ok


async def test_provider_draft_is_prefilled_from_the_organisation(db: object) -> None:
    provider = await actor("provider")
    row = await create_draft(provider, HEPING)
    assert row["state"] == State.draft and row["district_code"] == HEPING
    assert row["form"]["organisation"]["uscc"] == "91120101MA06B2C3DU"
    assert row["form"]["organisation"]["legal_representative"] == "王建国"
    created = await AuditEvent.select().where(AuditEvent.listing == row["id"]).first()
    assert (created["action"], created["role"]) == ("application.created", "provider")


async def test_second_live_draft_is_refused_naming_the_district(db: object) -> None:
    live = await listing_in(State.submitted)
    provider = await actor("provider")
    with pytest.raises(Refused) as refused:
        await create_draft(provider, HEPING, valid_application())
    assert refused.value.errors[0].field == "district"
    assert f"编号 {live}" in refused.value.errors[0].message
    assert await Listing.count() == 1


async def test_only_providers_create_drafts(db: object) -> None:
    with pytest.raises(Forbidden):
        await create_draft(await actor("reviewer"), HEPING)
    with pytest.raises(Refused) as unknown:
        await create_draft(await actor("provider"), "999999")
    assert unknown.value.errors[0].code == "unknown_district"
