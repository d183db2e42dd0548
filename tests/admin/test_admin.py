"""piccolo-admin at /admin: city-only login, audited reference edits, read-only workflows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser
from piccolo_api.session_auth.tables import SessionsBase
from starlette.exceptions import HTTPException

import admin.audit
from admin import rules
from registry.tables import AuditEvent, Category, District, Listing, Rubric
from tests.cast import CAST, HEPING, PASSWORD, listing_in
from tests.conftest import http_client
from tests.factories import state_of
from workflows.audit import verify
from workflows.states import State

Client = httpx.AsyncClient
AdminLogin = Callable[[str], Awaitable[Client]]
API = "/admin/api/tables"


async def _login(client: Client, username: str, password: str = PASSWORD) -> httpx.Response:
    """piccolo-admin's own flow: a GET sets its `csrftoken` cookie, the login POST echoes it."""
    await client.get("/admin/")
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return await client.post(
        "/admin/public/login/", json={"username": username, "password": password}
    )


@pytest.fixture
async def admin_login(db: object, app: Litestar) -> AsyncIterator[AdminLogin]:
    """Log a cast member in to the admin; the client sends the CSRF header on every write."""
    clients: list[Client] = []

    async def login(username: str) -> Client:
        client = http_client(app)
        clients.append(client)
        response = await _login(client, username)
        assert response.status_code == 200, response.text
        return client

    yield login
    for client in clients:
        await client.aclose()


async def _district(code: str = HEPING) -> dict[str, Any]:
    row = await District.select().where(District.code == code).output(load_json=True).first()
    assert row is not None
    return row


async def _events(action: str) -> list[dict[str, Any]]:
    return (
        await AuditEvent.select()
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )


# --- the page and the login ---------------------------------------------------------------------


async def test_admin_redirects_to_trailing_slash_and_serves_html(anonymous: Client) -> None:
    response = await anonymous.get("/admin")
    assert response.status_code in (301, 302, 303, 307, 308)
    assert response.url.join(response.headers["location"]).path == "/admin/"
    page = await anonymous.get("/admin/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()


async def test_site_name_and_chinese_translation(anonymous: Client) -> None:
    meta = (await anonymous.get("/admin/public/meta/")).json()
    assert meta["site_name"] == "白名单管理后台"
    translations = (await anonymous.get("/admin/public/translations/")).json()
    assert translations["default_language_code"] == "zh-CN"


async def test_provider_cannot_log_in(anonymous: Client) -> None:
    response = await _login(anonymous, "provider")
    assert response.status_code == 403
    assert response.json()["detail"] == "该账号无权登录管理后台"
    assert "id" not in anonymous.cookies
    assert await SessionsBase.count() == 0
    assert (await anonymous.get("/admin/api/user/")).status_code == 401
    assert (await anonymous.get(f"{API}/district/")).status_code == 401


async def test_wrong_password_is_refused(anonymous: Client) -> None:
    response = await _login(anonymous, "city", password="wrong-password")
    assert response.status_code == 401
    assert (await anonymous.get("/admin/api/user/")).status_code == 401


async def test_sidebar_groups(admin_login: AdminLogin) -> None:
    client = await admin_login("city")
    grouped = (await client.get(f"{API}/grouped/")).json()["grouped"]
    assert set(grouped) == {"参考数据", "账户", "审批记录（只读）", "合作与评估（只读）"}
    assert set(grouped["审批记录（只读）"]) == {
        "listing",
        "audit_event",
        "document",
        "whitelist_entry",
        "issued_number",
    }
    assert {"district", "category", "school"} <= set(grouped["参考数据"])
    assert {"rubric", "evaluation_result", "complaint", "incident"} <= set(
        grouped["合作与评估（只读）"]
    )


# --- reference data: edits are audited ----------------------------------------------------------


async def test_city_patches_district_and_the_change_is_audited(admin_login: AdminLogin) -> None:
    client = await admin_login("city")
    listing = (await client.get(f"{API}/district/", params={"__page_size": 50})).json()
    heping = await _district()
    assert heping["id"] in {row["id"] for row in listing["rows"]}

    policy = {"fee_caps": {"after_school": 150}, "notice_working_days": 7}
    response = await client.patch(
        f"{API}/district/{heping['id']}/",
        json={"name": "和平区（测试）", "policy": json.dumps(policy)},
    )
    assert response.status_code == 200, response.text

    stored = await _district()
    assert stored["name"] == "和平区（测试）"
    assert stored["policy"] == policy
    [event] = await _events("admin.district.update")
    assert event["role"] == "admin"
    assert event["actor_id"] == CAST.users["city"] and event["actor_name"] == "city"
    assert event["listing"] is None
    assert event["payload"]["id"] == heping["id"]
    assert event["payload"]["changes"] == {"name": "和平区（测试）", "policy": policy}
    assert event["payload"]["previous"]["name"] == heping["name"]
    assert (await verify()).ok


async def test_invalid_policy_is_refused_naming_the_field(admin_login: AdminLogin) -> None:
    client = await admin_login("city")
    before = await _district()
    response = await client.patch(
        f"{API}/district/{before['id']}/",
        json={"policy": json.dumps({"fee_caps": {"after_school": -5}})},
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["policy", "fee_caps.after_school"]
    assert "fee_caps.after_school" in error["msg"] and "课后服务收费上限" in error["msg"]
    assert await _district() == before
    assert await _events("admin.district.update") == []


async def test_unknown_policy_key_is_refused(admin_login: AdminLogin) -> None:
    client = await admin_login("city")
    before = await _district()
    response = await client.patch(
        f"{API}/district/{before['id']}/", json={"policy": json.dumps({"fee_cap": 1})}
    )
    assert response.status_code == 422
    assert "fee_cap" in response.json()["detail"][0]["msg"]
    assert await _district() == before


async def test_create_and_delete_are_audited(admin_login: AdminLogin) -> None:
    client = await admin_login("city")
    created = await client.post(
        f"{API}/category/", json={"code": "chess", "name": "棋类", "position": 9}
    )
    assert created.status_code == 201, created.text
    category_id = created.json()[0]["id"]
    [create] = await _events("admin.category.create")
    assert create["payload"] == {
        "id": category_id,
        "values": {"id": category_id, "code": "chess", "name": "棋类", "position": 9},
    }

    assert (await client.delete(f"{API}/category/{category_id}/")).status_code == 204
    assert not await Category.exists().where(Category.id == category_id)
    [delete] = await _events("admin.category.delete")
    assert delete["payload"]["values"]["code"] == "chess"
    assert (await verify()).ok


async def test_failed_write_leaves_no_event(admin_login: AdminLogin) -> None:
    client = await admin_login("city")
    existing = await Category.select(Category.code).first()
    assert existing is not None
    before = await AuditEvent.count()
    response = await client.post(
        f"{API}/category/", json={"code": existing["code"], "name": "重复", "position": 1}
    )
    assert response.status_code == 422  # piccolo_api's unique-violation answer
    assert await AuditEvent.count() == before
    assert (await verify()).ok


async def test_change_is_undone_when_the_audit_write_fails(
    admin_login: AdminLogin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change and its audit event share one transaction: no event, no change."""

    async def broken_append(**kwargs: Any) -> int:
        raise RuntimeError("audit chain unavailable")

    client = await admin_login("city")
    before = await _district()
    monkeypatch.setattr(admin.audit.audit, "append", broken_append)
    response = await client.patch(f"{API}/district/{before['id']}/", json={"name": "不应保存"})
    assert response.status_code == 500
    assert await _district() == before


async def test_put_is_refused(admin_login: AdminLogin) -> None:
    client = await admin_login("city")
    heping = await _district()
    response = await client.put(
        f"{API}/district/{heping['id']}/",
        json={"code": HEPING, "name": "x", "inner_six": True, "policy": "{}"},
    )
    assert response.status_code == 405
    assert await _district() == heping


async def test_district_staff_neither_read_nor_edit(anonymous: Client) -> None:
    """District staff work in the bureau's pages; the admin refuses them at the door."""
    heping = await _district()
    for username in ("reviewer", "approver"):
        response = await _login(anonymous, username)
        assert response.status_code == 403
        assert response.json()["detail"] == "该账号无权登录管理后台"
        assert (await anonymous.get(f"{API}/district/")).status_code == 401
        changed = await anonymous.patch(f"{API}/district/{heping['id']}/", json={"name": "改名"})
        assert changed.status_code in (401, 403)
    assert await _district() == heping


async def test_user_edits_need_a_superuser_and_never_log_the_password(
    admin_login: AdminLogin,
) -> None:
    city = await admin_login("city")
    provider_id = CAST.users["provider"]
    refused = await city.patch(f"{API}/piccolo_user/{provider_id}/", json={"admin": True})
    assert refused.status_code == 405  # piccolo-admin's own superuser rule

    await BaseUser.update({BaseUser.superuser: True}).where(BaseUser.id == CAST.users["city"])
    response = await city.patch(
        f"{API}/piccolo_user/{provider_id}/",
        json={"password": "new-secret-password-42", "first_name": "晓梅"},
    )
    assert response.status_code == 200, response.text
    [event] = await _events("admin.piccolo_user.update")
    assert event["payload"]["changes"] == {"password": "<redacted>", "first_name": "晓梅"}
    assert "new-secret-password-42" not in json.dumps(event, ensure_ascii=False, default=str)
    assert await BaseUser.login("provider", "new-secret-password-42") == provider_id


# --- workflow records are read-only -------------------------------------------------------------


async def test_listing_cannot_be_changed_created_or_deleted(admin_login: AdminLogin) -> None:
    listing_id = await listing_in(State.submitted)
    before = await state_of(listing_id)
    client = await admin_login("city")  # the sign-in is audited too
    listings = await Listing.count()
    events = await AuditEvent.count()
    assert (await client.get(f"{API}/listing/{listing_id}/")).status_code == 200

    patched = await client.patch(f"{API}/listing/{listing_id}/", json={"state": "listed"})
    assert patched.status_code == 405
    assert patched.json()["detail"] == "申请记录只能通过审批流程变更"
    version_bump = await client.patch(f"{API}/listing/{listing_id}/", json={"version": 99})
    assert version_bump.status_code == 405
    assert (await client.delete(f"{API}/listing/{listing_id}/")).status_code == 405
    created = await client.post(
        f"{API}/listing/",
        json={
            "organisation": CAST.organisations["feiyue"],
            "district": CAST.districts[HEPING],
            "state": "listed",
        },
    )
    assert created.status_code == 405

    assert await state_of(listing_id) == before == ("submitted", 2)
    assert await Listing.count() == listings
    assert await AuditEvent.count() == events


async def test_audit_events_are_read_only(admin_login: AdminLogin) -> None:
    await listing_in(State.submitted)
    event = await AuditEvent.select().first()
    assert event is not None
    client = await admin_login("city")
    response = await client.patch(f"{API}/audit_event/{event['id']}/", json={"reason": "改写"})
    assert response.status_code == 405
    assert (await client.delete(f"{API}/audit_event/{event['id']}/")).status_code == 405
    assert (await verify()).ok


async def test_a_rubric_cannot_be_written_past_its_validation(admin_login: AdminLogin) -> None:
    client = await admin_login("city")
    created = await client.post(f"{API}/rubric/", json={"scope": "120101", "body": "{}"})
    assert created.status_code == 405 and "评估细则" in created.json()["detail"]
    assert await Rubric.count() == 0


def test_listing_hooks_refuse_state_and_version() -> None:
    """Defence in depth behind the validators: the hooks alone refuse too."""
    request: Any = None
    for column in (Listing.state, Listing.version):
        with pytest.raises(HTTPException) as refused:
            rules.refuse_listing_state_patch(1, {column: "listed"}, request)
        assert refused.value.status_code == 405
    values = {Listing.provider_message: "请补充材料"}
    assert rules.refuse_listing_state_patch(1, values, request) is values
    with pytest.raises(HTTPException):
        rules.refuse_listing_save(Listing(), request)
