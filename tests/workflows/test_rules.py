"""Policy rules the guards enforce: four-eyes, appeals, bans, one live listing, valid forms."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from registry.tables import District, Listing, Membership
from tests.cast import CAST, HEPING, T0, actor, listing_in, listing_row
from tests.factories import new_listing, state_of, step, valid_application
from workflows import engine
from workflows.states import Role, State


async def test_approve_refused_for_recommender(db: object) -> None:
    listing_id = await listing_in(State.in_review)
    # One person who is both reviewer and approver of the district.
    await Membership.insert(
        Membership(
            user=CAST.users["reviewer"], role=Role.approver.value, district=CAST.districts[HEPING]
        )
    )
    both = await actor("reviewer")
    await step(listing_id, "recommend", both, now=T0)
    with pytest.raises(engine.Refused) as refused:
        await step(listing_id, "approve", both, now=T0)
    assert refused.value.errors[0].code == "four_eyes"
    assert (await state_of(listing_id))[0] == State.pending_approval
    await step(listing_id, "approve", await actor("approver"), now=T0)
    assert (await state_of(listing_id))[0] == State.in_public_notice


async def test_appeal_is_decided_by_another_reviewer_and_only_once(db: object) -> None:
    listing_id = await listing_in(State.rejected)
    row = await listing_row(listing_id)
    assert row["rejected_by"] == CAST.users["reviewer"]
    assert row["appeal_due"] == date(2026, 3, 16)  # 10 working days after Monday 2 March
    await step(listing_id, "appeal", await actor("provider"), reason="教练证书已补齐", now=T0)
    with pytest.raises(engine.Refused) as refused:
        await step(listing_id, "reject", await actor("reviewer"), reason="维持原决定", now=T0)
    assert refused.value.errors[0].code == "appeal_same_reviewer"
    await step(listing_id, "reject", await actor("reviewer2"), reason="复核维持", now=T0)
    assert (await listing_row(listing_id))["appeal_due"] is None
    with pytest.raises(engine.Refused) as again:
        await step(listing_id, "appeal", await actor("provider"), reason="再申请", now=T0)
    assert again.value.errors[0].code == "appeal_used"


async def test_appeal_after_the_window_is_refused(db: object) -> None:
    listing_id = await listing_in(State.rejected)
    late = T0 + timedelta(days=15)  # 17 March: past the 10th working day
    with pytest.raises(engine.Refused) as refused:
        await step(listing_id, "appeal", await actor("provider"), reason="补充说明", now=late)
    assert refused.value.errors[0].code == "appeal_window_closed"
    assert "2026-03-16" in refused.value.errors[0].message


async def test_revocation_bans_reapplication_in_that_district_only(db: object) -> None:
    listing_id = await listing_in(State.listed)
    later = T0 + timedelta(days=60)
    await step(
        listing_id,
        "revoke",
        await actor("reviewer"),
        reason="超标准收费经查属实",
        message="因违规收费，撤销入库资格",
        params={"exit_reason": "fee_violation"},
        now=later,
    )
    row = await listing_row(listing_id)
    assert row["state"] == State.exited and row["exit_reason"] == "fee_violation"
    assert row["banned_until"] == date(2028, 5, 1)
    assert row["provider_message"] == "因违规收费，撤销入库资格"
    again = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING])
    with pytest.raises(engine.Refused) as refused:
        await step(again, "submit", await actor("provider"), now=later)
    assert refused.value.errors[0].code == "banned"
    elsewhere = await new_listing(CAST.organisations["feiyue"], CAST.districts["120116"])
    await step(elsewhere, "submit", await actor("provider"), now=later)
    assert (await state_of(elsewhere))[0] == State.submitted


async def test_district_policy_overrides_ban_length(db: object) -> None:
    await District.update({District.policy: {"ban_years": {"subject_tutoring": 3}}}).where(
        District.code == HEPING
    )
    listing_id = await listing_in(State.listed)
    await step(
        listing_id,
        "revoke",
        await actor("reviewer"),
        reason="开设数学培训",
        params={"exit_reason": "subject_tutoring"},
        now=T0 + timedelta(days=60),
    )
    assert (await listing_row(listing_id))["banned_until"] == date(2029, 5, 1)


async def test_voluntary_exit_has_no_ban(db: object) -> None:
    listing_id = await listing_in(State.exited)
    row = await listing_row(listing_id)
    assert row["exit_reason"] == "voluntary" and row["banned_until"] is None


async def test_revoke_requires_a_coded_reason(db: object) -> None:
    listing_id = await listing_in(State.listed)
    with pytest.raises(engine.Refused) as refused:
        await step(
            listing_id,
            "revoke",
            await actor("reviewer"),
            reason="x",
            params={"exit_reason": "bored"},
        )
    assert refused.value.errors[0].field == "exit_reason"
    assert (await state_of(listing_id))[0] == State.listed


async def test_second_live_listing_in_a_district_is_refused(db: object) -> None:
    await listing_in(State.submitted)
    second = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING])
    with pytest.raises(engine.Refused) as refused:
        await step(second, "submit", await actor("provider"), now=T0)
    assert refused.value.errors[0].code == "duplicate_listing"


async def test_submit_reports_every_form_problem_and_keeps_the_draft(db: object) -> None:
    form = valid_application()
    form["organisation"]["uscc"] = "91120101MA06B2C3D"  # 17 characters
    form["courses"][0]["name"] = ""
    form["courses"][0]["fee_per_student_month"] = -10
    del form["insurance"]["insurer"]
    form["staff"][1]["health_certificate_valid_until"] = "2026-02-30"
    listing_id = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING], form)
    with pytest.raises(engine.Refused) as refused:
        await step(listing_id, "submit", await actor("provider"), now=T0)
    fields = {e.field for e in refused.value.errors}
    assert fields == {
        "form.organisation.uscc",
        "form.courses[0].name",
        "form.courses[0].fee_per_student_month",
        "form.insurance.insurer",
        "form.staff[1].health_certificate_valid_until",
    }
    assert all(e.message for e in refused.value.errors)
    row = await Listing.select(Listing.state, Listing.form).where(Listing.id == listing_id).first()
    assert row["state"] == State.draft
    assert '"insurance"' in row["form"]  # the draft is untouched


async def test_renew_extends_validity_by_the_policy_years(db: object) -> None:
    listing_id = await listing_in(State.listed)
    before = (await listing_row(listing_id))["valid_until"]
    await step(listing_id, "renew", await actor("reviewer"), now=T0 + timedelta(days=300))
    assert (await listing_row(listing_id))["valid_until"] == before.replace(year=before.year + 1)


async def test_import_lists_a_draft_with_its_recorded_validity(db: object) -> None:
    from registry.tables import WhitelistEntry

    listing_id = await new_listing(CAST.organisations["other"], CAST.districts[HEPING])
    system = await actor("system")
    with pytest.raises(engine.Refused) as refused:
        await step(listing_id, "import", system, params={"valid_until": "2025-08-31"}, now=T0)
    assert refused.value.errors[0].field == "valid_until"
    await step(listing_id, "import", system, params={"valid_until": "2027-08-31"}, now=T0)
    row = await listing_row(listing_id)
    assert row["state"] == State.listed and row["valid_until"] == date(2027, 8, 31)
    assert await WhitelistEntry.exists().where(WhitelistEntry.listing == listing_id)
