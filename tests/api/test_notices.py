"""Public notices and objections through the JSON API; the reviewer's decisions."""

from __future__ import annotations

from datetime import timedelta

from registry.access.personal_data import CONTACT, plain
from registry.notices.objections import PER_LISTING_PER_HOUR
from registry.tables import AuditEvent, Objection, Organisation
from tests.api.conftest import Client, Login
from tests.cast import BINHAI, CAST, PATHS, T0, actor, listing_in, listing_row
from tests.factories import INDIVIDUAL_ID, individual_application, new_listing, state_of, step
from workflows import timesource
from workflows.actors import Actor, Grant
from workflows.audit import verify
from workflows.states import Role, State

FACTS = "该机构在和平区南京路的场地没有消防验收手续，去年冬天曾因暖气故障停课两周未通知家长。"
OBJECTION = {"name": "王晓东", "contact": "13820001234", "facts": FACTS}


def _url(listing_id: int) -> str:
    return f"/api/v1/notices/{listing_id}/objections"


async def _lodge(client: Client, listing_id: int, **changes: str) -> dict:
    response = await client.post(_url(listing_id), json={**OBJECTION, **changes})
    assert response.status_code == 201, response.text
    return response.json()


async def test_notices_list_only_listings_in_public_notice(anonymous: Client) -> None:
    on_notice = await listing_in(State.in_public_notice)
    listed = await listing_in(State.listed, organisation="other", district=BINHAI)
    await listing_in(State.pending_approval, organisation="other")
    body = (await anonymous.get("/api/v1/notices")).json()
    assert [item["listing_id"] for item in body["items"]] == [on_notice]
    assert body["total"] == 1 and listed not in {i["listing_id"] for i in body["items"]}
    item = body["items"][0]
    row = await listing_row(on_notice)
    assert item["notice_start"] == row["notice_start"].isoformat()
    assert item["notice_end"] == row["notice_end"].isoformat()
    assert item["organisation_name"] == "天津市和平区飞跃青少年篮球俱乐部有限公司"
    assert item["district"] == "120101" and item["district_name"] == "和平区"
    assert item["categories"] == ["sports"] and item["category_labels"] == ["体育"]
    assert item["courses"] == [{"name": "少儿篮球", "category": "sports", "category_label": "体育"}]
    assert item["objection_url"] == _url(on_notice)
    assert "uscc" not in item and "staff" not in str(item)


async def test_notices_filter_by_district(anonymous: Client) -> None:
    heping = await listing_in(State.in_public_notice)
    binhai = await listing_in(State.in_public_notice, organisation="other", district=BINHAI)
    items = (await anonymous.get("/api/v1/notices", params={"district": BINHAI})).json()["items"]
    assert [i["listing_id"] for i in items] == [binhai]
    all_ids = [i["listing_id"] for i in (await anonymous.get("/api/v1/notices")).json()["items"]]
    assert sorted(all_ids) == sorted([heping, binhai])
    unknown = await anonymous.get("/api/v1/notices", params={"district": "999999"})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "district"


async def test_an_individual_is_listed_by_name_only(anonymous: Client) -> None:
    rows = await Organisation.insert(
        Organisation(name="刘书文", kind="individual", resident_id=INDIVIDUAL_ID)
    ).returning(Organisation.id)
    organisation_id = rows[0]["id"]
    listing_id = await new_listing(
        organisation_id, CAST.districts["120101"], individual_application()
    )
    liu = Actor(None, "liu", (Grant(Role.provider, organisation_id=organisation_id),))
    for action, who, _options in PATHS[State.in_public_notice]:
        await step(listing_id, action, liu if who == "provider" else await actor(who), now=T0)
    response = await anonymous.get("/api/v1/notices")
    assert response.json()["items"][0]["organisation_name"] == "刘书文"
    assert INDIVIDUAL_ID not in response.text
    assert INDIVIDUAL_ID not in (await anonymous.get("/notices")).text


async def test_accepted_objection_is_stored_without_the_raw_address(anonymous: Client) -> None:
    listing_id = await listing_in(State.in_public_notice)
    body = await _lodge(anonymous, listing_id, contact="138 2000 1234")
    assert body["status"] == "pending" and body["listing_id"] == listing_id
    row = await Objection.select().where(Objection.id == body["id"]).first()
    assert row["name"] == "王晓东" and plain(row["contact"], CONTACT) == "13820001234"
    assert "13820001234" not in row["contact"]  # stored sealed
    assert row["facts"] == FACTS and row["status"] == "pending"
    assert len(row["client_hash"]) == 64 and "127.0.0.1" not in row["client_hash"]
    event = await AuditEvent.select().where(AuditEvent.action == "objection.lodged").first()
    assert event["listing"] == listing_id
    assert "13820001234" not in str(event) and "王晓东" not in str(event)
    assert (await verify()).ok


async def test_an_organisation_may_object_in_its_own_name(anonymous: Client) -> None:
    listing_id = await listing_in(State.in_public_notice)
    body = await _lodge(
        anonymous, listing_id, name="", organisation_name="天津市和平区岳阳道小学家长委员会"
    )
    row = await Objection.select().where(Objection.id == body["id"]).first()
    assert row["organisation_name"] == row["name"] == "天津市和平区岳阳道小学家长委员会"


async def test_refusals_name_their_fields(anonymous: Client) -> None:
    listing_id = await listing_in(State.in_public_notice)
    cases = {
        "anonymous": ({"name": "匿名"}, "name", "匿名"),
        "no name at all": ({"name": "", "organisation_name": ""}, "name", "匿名"),
        "digits as a name": ({"name": "12345"}, "name", "真实姓名"),
        "no contact": ({"contact": ""}, "contact", "联系方式"),
        "bad contact": ({"contact": "12345"}, "contact", "手机号"),
        "facts too short": ({"facts": "收费太贵了"}, "facts", "具体事实"),
    }
    for label, (changes, field, words) in cases.items():
        response = await anonymous.post(_url(listing_id), json={**OBJECTION, **changes})
        assert response.status_code == 422, label
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == [field], label
        assert words in errors[0]["message"], label
    assert await Objection.count() == 0


async def test_objection_refused_after_the_notice_ended(anonymous: Client) -> None:
    listing_id = await listing_in(State.listed)
    response = await anonymous.post(_url(listing_id), json=OBJECTION)
    assert response.status_code == 422
    assert "不在公示期" in response.json()["detail"]
    assert (await anonymous.post(_url(999_999), json=OBJECTION)).status_code == 404


async def test_rate_limit_per_address_and_listing(anonymous: Client) -> None:
    listing_id = await listing_in(State.in_public_notice)
    for _ in range(PER_LISTING_PER_HOUR):
        await _lodge(anonymous, listing_id)
    response = await anonymous.post(_url(listing_id), json=OBJECTION)
    assert response.status_code == 429
    assert "频繁" in response.json()["detail"] and response.headers["retry-after"] == "3600"
    assert await Objection.count() == PER_LISTING_PER_HOUR


async def test_oversize_body_is_refused(anonymous: Client) -> None:
    listing_id = await listing_in(State.in_public_notice)
    huge = await anonymous.post(_url(listing_id), json={**OBJECTION, "facts": "事实" * 20_000})
    assert huge.status_code == 413
    long = await anonymous.post(_url(listing_id), json={**OBJECTION, "facts": "事" * 2001})
    assert long.status_code == 422 and long.json()["errors"][0]["field"] == "facts"


async def test_objections_visible_to_the_district_staff_only(
    anonymous: Client, login: Login
) -> None:
    listing_id = await listing_in(State.in_public_notice)
    await _lodge(anonymous, listing_id)
    url = f"/api/v1/listings/{listing_id}/objections"
    for staff in ("reviewer", "approver"):
        items = (await (await login(staff)).get(url)).json()["items"]
        # Masked: the full number is revealed on request only (personal-data/reveal).
        assert [i["contact"] for i in items] == ["138****1234"], staff
    for outsider in ("reviewer_binhai", "provider", "provider_other", "school"):
        assert (await (await login(outsider)).get(url)).status_code == 404, outsider
    assert (await anonymous.get(url)).status_code == 401


async def test_reviewer_upholds_and_the_application_is_rejected(
    anonymous: Client, login: Login
) -> None:
    listing_id = await listing_in(State.in_public_notice)
    objection = await _lodge(anonymous, listing_id)
    url = f"/api/v1/objections/{objection['id']}/uphold"
    assert (await (await login("reviewer_binhai")).post(url, json={})).status_code == 404
    assert (await (await login("approver")).post(url, json={})).status_code == 403
    response = await (await login("reviewer")).post(url, json={"message": "经查异议属实"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["listing_state"] == "rejected" and body["objection"]["status"] == "upheld"
    assert body["objection"]["decided_by"] == CAST.users["reviewer"]
    assert (await state_of(listing_id))[0] == State.rejected
    event = await (
        AuditEvent.select()
        .where(AuditEvent.action == "uphold_objection")
        .output(load_json=True)
        .first()
    )
    assert event["reason"] == FACTS and event["message"] == "经查异议属实"
    assert event["payload"]["params"] == {"objection": str(objection["id"])}
    again = await (await login("reviewer")).post(url, json={})
    assert again.status_code == 409
    assert (await verify()).ok


async def test_uphold_refused_by_the_engine_leaves_the_objection_pending(
    anonymous: Client, login: Login
) -> None:
    listing_id = await listing_in(State.in_public_notice)
    objection = await _lodge(anonymous, listing_id)
    # The listing leaves the notice another way first (revoked for false materials).
    await step(
        listing_id,
        "revoke",
        await actor("reviewer"),
        reason="材料造假",
        params={"exit_reason": "false_materials"},
        now=T0 + timedelta(days=3),
    )
    response = await (await login("reviewer")).post(
        f"/api/v1/objections/{objection['id']}/uphold", json={}
    )
    assert response.status_code == 422
    row = await Objection.select().where(Objection.id == objection["id"]).first()
    assert row["status"] == "pending" and row["decided_by"] is None
    assert (await state_of(listing_id))[0] == State.exited


async def test_dismiss_needs_a_reply(anonymous: Client, login: Login) -> None:
    listing_id = await listing_in(State.in_public_notice)
    objection = await _lodge(anonymous, listing_id)
    reviewer = await login("reviewer")
    url = f"/api/v1/objections/{objection['id']}/dismiss"
    empty = await reviewer.post(url, json={"reply": "  "})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "reply"
    assert (
        await (await login("reviewer_binhai")).post(url, json={"reply": "x"})
    ).status_code == 404
    reply = "经现场核查，该机构已于2025年取得消防验收合格意见书，异议不成立。"
    response = await reviewer.post(url, json={"reply": reply})
    assert response.status_code == 200, response.text
    assert response.json()["objection"]["status"] == "dismissed"
    assert response.json()["objection"]["reply"] == reply
    assert (await state_of(listing_id))[0] == State.in_public_notice
    event = await AuditEvent.select().where(AuditEvent.action == "objection.dismissed").first()
    assert event["reason"] == reply and event["actor_id"] == CAST.users["reviewer"]
    assert (await reviewer.post(url, json={"reply": reply})).status_code == 409
    assert (await verify()).ok


async def test_decisions_need_a_login_and_csrf(anonymous: Client, login: Login) -> None:
    listing_id = await listing_in(State.in_public_notice)
    objection = await _lodge(anonymous, listing_id)
    url = f"/api/v1/objections/{objection['id']}/dismiss"
    assert (await anonymous.post(url, json={"reply": "不成立"})).status_code in (401, 403)
    reviewer = await login("reviewer")
    del reviewer.headers["X-CSRFToken"]
    assert (await reviewer.post(url, json={"reply": "不成立"})).status_code == 403


async def test_daily_limit_across_listings(anonymous: Client) -> None:
    from registry.notices.objections import PER_DAY, client_hash

    listing_id = await listing_in(State.in_public_notice)
    earlier = timesource.now() - timedelta(hours=3)
    await Objection.insert(
        *[
            Objection(
                listing=listing_id,
                name="王晓东",
                contact="13820001234",
                facts=FACTS,
                submitted_at=earlier,
                client_hash=client_hash("127.0.0.1"),
            )
            for _ in range(PER_DAY)
        ]
    )
    response = await anonymous.post(_url(listing_id), json=OBJECTION)
    assert response.status_code == 429
