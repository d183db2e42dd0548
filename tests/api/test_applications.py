"""Drafts per district, saving half-filled forms without a transition, and the inbox."""

from __future__ import annotations

from datetime import timedelta

from registry.access.personal_data import open_form
from registry.tables import AuditEvent, Listing
from tests.api.conftest import Login
from tests.cast import BINHAI, CAST, HEPING, T0, actor, listing_in
from tests.factories import COACH_ID, new_listing, state_of, step, valid_application
from workflows.engine import local_today
from workflows.states import State
from workflows.workdays import WorkCalendar


async def test_provider_creates_a_prefilled_draft(login: Login) -> None:
    client = await login("provider")
    response = await client.post("/api/v1/listings", json={"district": HEPING})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "draft" and body["district"] == HEPING
    assert body["organisation_id"] == CAST.organisations["feiyue"]
    organisation = body["form"]["organisation"]
    assert organisation["name"] == "天津市和平区飞跃青少年篮球俱乐部有限公司"
    assert organisation["kind"] == "organisation" and organisation["uscc"] == "91120101MA06B2C3DU"
    assert body["problems"] == []  # a partial form: nothing present is wrong
    assert await AuditEvent.exists().where(
        (AuditEvent.listing == body["id"]) & (AuditEvent.action == "application.created")
    )


async def test_draft_with_a_form_and_unknown_district(login: Login) -> None:
    client = await login("provider")
    ok = await client.post(
        "/api/v1/listings", json={"district": BINHAI, "form": valid_application()}
    )
    assert ok.status_code == 201 and ok.json()["form"] == valid_application()
    unknown = await client.post("/api/v1/listings", json={"district": "999999"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "district"


async def test_reviewer_cannot_create_a_draft(login: Login) -> None:
    client = await login("reviewer")
    response = await client.post("/api/v1/listings", json={"district": HEPING})
    assert response.status_code == 403


async def test_second_live_listing_in_a_district_is_refused(login: Login) -> None:
    await listing_in(State.in_review)
    client = await login("provider")
    response = await client.post("/api/v1/listings", json={"district": HEPING})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "district" and "已有进行中的申请" in error["message"]
    # Another district is free.
    assert (await client.post("/api/v1/listings", json={"district": BINHAI})).status_code == 201


async def test_withdrawn_listing_allows_a_new_application(login: Login) -> None:
    await listing_in(State.withdrawn)
    client = await login("provider")
    assert (await client.post("/api/v1/listings", json={"district": HEPING})).status_code == 201


async def test_ban_after_a_forced_exit_names_its_end(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    await step(
        listing_id,
        "revoke",
        await actor("reviewer"),
        reason="发生安全事故",
        params={"exit_reason": "safety_incident"},
        now=T0 + timedelta(days=40),
    )
    row = await Listing.select(Listing.banned_until).where(Listing.id == listing_id).first()
    until = row["banned_until"]
    client = await login("provider")
    response = await client.post("/api/v1/listings", json={"district": HEPING})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "banned_until" and error["code"] == "banned"
    assert f"{until.year}年{until.month}月{until.day}日" in error["message"]
    assert until.isoformat() in error["message"] and "安全事故" in error["message"]


async def test_half_filled_draft_is_saved_without_a_transition(login: Login) -> None:
    client = await login("provider")
    created = (await client.post("/api/v1/listings", json={"district": HEPING})).json()
    form = {
        "organisation": created["form"]["organisation"],
        "courses": [{"name": "少儿篮球", "fee_per_student_month": "一百五"}],
        "staff": [{"name": "张伟", "resident_id": COACH_ID}],
    }
    response = await client.put(
        f"/api/v1/listings/{created['id']}/form",
        json={"form": form, "version": created["version"], "form_hash": created["form_hash"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] == ["courses", "staff"]
    assert [p["field"] for p in body["problems"]] == ["courses[0].fee_per_student_month"]
    assert await state_of(created["id"]) == ("draft", created["version"])
    stored = await (
        Listing.select(Listing.form).where(Listing.id == created["id"]).output(load_json=True)
    ).first()
    # Stored with the staff ID sealed; read back, it is what was sent.
    assert COACH_ID not in str(stored["form"]) and open_form(stored["form"]) == form
    event = await (
        AuditEvent.select()
        .where(AuditEvent.action == "application.form_saved")
        .output(load_json=True)
        .first()
    )
    assert event["payload"] == {"listing": created["id"], "sections": ["courses", "staff"]}
    assert COACH_ID not in str(event)
    read = (await client.get(f"/api/v1/listings/{created['id']}/form")).json()
    assert read["form"] == form and read["form_hash"] == body["form_hash"]


async def test_stale_save_is_a_conflict(login: Login) -> None:
    first = await login("provider")
    created = (await first.post("/api/v1/listings", json={"district": HEPING})).json()
    url = f"/api/v1/listings/{created['id']}/form"
    seen = {"version": created["version"], "form_hash": created["form_hash"]}
    mine = await first.put(url, json={"form": {"categories": ["sports"]}, **seen})
    assert mine.status_code == 200
    colleague = await login("provider")
    stale = await colleague.put(url, json={"form": {"categories": ["arts"]}, **seen})
    assert stale.status_code == 409
    assert stale.json()["detail"].startswith("申请表已被他人修改")
    read = (await first.get(url)).json()
    assert read["form"] == {"categories": ["sports"]}
    wrong_version = await first.put(
        url, json={"form": {}, "version": 7, "form_hash": read["form_hash"]}
    )
    assert wrong_version.status_code == 409


async def test_form_cannot_be_saved_after_submission_or_by_others(login: Login) -> None:
    listing_id = await listing_in(State.submitted)
    client = await login("provider")
    _, version = await state_of(listing_id)
    response = await client.put(
        f"/api/v1/listings/{listing_id}/form", json={"form": {}, "version": version}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "state"
    draft = await new_listing(CAST.organisations["feiyue"], CAST.districts[BINHAI])
    other = await login("provider_other")
    response = await other.put(f"/api/v1/listings/{draft}/form", json={"form": {}, "version": 1})
    assert response.status_code == 404


async def test_inbox_shows_the_supplement_request_never_the_internal_note(login: Login) -> None:
    listing_id = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING])
    await step(listing_id, "submit", await actor("provider"), now=T0)
    today = local_today()
    due = WorkCalendar().add_working_days(today, 1)
    await step(
        listing_id,
        "request_supplement",
        await actor("reviewer"),
        reason="内部意见：怀疑场地证明系伪造",
        message="请补充场地安全证明和保险单原件扫描件",
        params={"due": due.isoformat()},
    )
    client = await login("provider")
    response = await client.get("/api/v1/inbox")
    assert response.status_code == 200
    items = response.json()["items"]
    assert "怀疑场地证明系伪造" not in response.text
    reminder, message = items[0], items[1]
    assert reminder["kind"] == "reminder"
    assert reminder["title"] == f"补正材料将于{due.month}月{due.day}日截止"
    assert message["action"] == "request_supplement" and message["listing_id"] == listing_id
    assert message["message"] == "请补充场地安全证明和保险单原件扫描件"
    assert message["due"] == due.isoformat() and message["district_name"] == "和平区"
    other = await login("provider_other")
    assert (await other.get("/api/v1/inbox")).json()["items"] == []


async def test_inbox_lists_rejection_with_reasons_newest_first(login: Login) -> None:
    listing_id = await listing_in(State.in_review)
    await step(
        listing_id,
        "reject",
        await actor("reviewer"),
        reason="内部：教练证书存疑",
        message="主教练资格证书与本人信息不符",
        now=T0 + timedelta(days=1),
    )
    items = (await (await login("provider")).get("/api/v1/inbox")).json()["items"]
    assert [i["action"] for i in items] == ["reject"]
    assert items[0]["message"] == "主教练资格证书与本人信息不符"
    assert items[0]["detail"].startswith("可申请复核至")


async def test_identity_numbers_typed_in_lower_case_are_accepted_in_upper_case(
    login: Login,
) -> None:
    client = await login("provider")
    form = valid_application()
    form["organisation"]["uscc"] = " " + form["organisation"]["uscc"].lower() + " "
    created = await client.post("/api/v1/listings", json={"district": BINHAI, "form": form})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["form"]["organisation"]["uscc"] == valid_application()["organisation"]["uscc"]
    assert not [p for p in body["problems"] if "uscc" in p["field"]]
    form["organisation"]["uscc"] = form["organisation"]["uscc"].strip().lower()
    saved = await client.put(
        f"/api/v1/listings/{body['id']}/form", json={"form": form, "version": body["version"]}
    )
    assert saved.status_code == 200, saved.text
    query = Listing.select(Listing.form).where(Listing.id == body["id"])
    row = await query.output(load_json=True).first()
    stored = open_form(row["form"])
    assert stored["organisation"]["uscc"] == valid_application()["organisation"]["uscc"]
