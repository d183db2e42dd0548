"""Sessions live on the server: logout, a password change and disabling a user end them."""

from __future__ import annotations

from datetime import timedelta

import httpx
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser

from registry.access import sessions
from registry.tables import AuditEvent, UserSession
from tests.cast import NOW, PASSWORD
from tests.conftest import http_client
from workflows import timesource

ME = "/api/v1/auth/me"


async def _signed_in(app: Litestar, username: str = "reviewer") -> httpx.AsyncClient:
    client = http_client(app)
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    await client.get("/api/v1/health")
    client.headers["X-CSRFToken"] = client.cookies["registry_csrf"]
    return client


def _copy(client: httpx.AsyncClient, app: Litestar) -> httpx.AsyncClient:
    """Another browser holding a copy of the cookie."""
    thief = http_client(app)
    thief.cookies.set(sessions.COOKIE, client.cookies[sessions.COOKIE])
    return thief


async def test_the_cookie_names_a_server_row_not_the_user(db: object, app: Litestar) -> None:
    client = await _signed_in(app)
    token = client.cookies[sessions.COOKIE]
    assert "reviewer" not in token
    row = await UserSession.select().first()
    assert row["token_hash"] != token and len(row["token_hash"]) == 64
    assert (await client.get(ME)).json()["username"] == "reviewer"


async def test_a_copied_cookie_stops_working_after_logout(db: object, app: Litestar) -> None:
    client = await _signed_in(app)
    thief = _copy(client, app)
    assert (await thief.get(ME)).status_code == 200
    assert (await client.post("/api/v1/auth/logout")).status_code == 200
    assert (await thief.get(ME)).status_code == 401
    assert (await client.get(ME)).status_code == 401
    logout = await AuditEvent.select().where(AuditEvent.action == "auth.logout").first()
    assert logout["actor_name"] == "reviewer"


async def test_idle_sessions_expire_after_thirty_minutes(db: object, app: Litestar) -> None:
    client = await _signed_in(app)
    with timesource.frozen(NOW + timedelta(minutes=29)):
        assert (await client.get(ME)).status_code == 200  # and this use counts as activity
    with timesource.frozen(NOW + timedelta(minutes=58)):
        assert (await client.get(ME)).status_code == 200
    with timesource.frozen(NOW + timedelta(minutes=89)):
        assert (await client.get(ME)).status_code == 401


async def test_no_session_outlives_twelve_hours_however_busy(db: object, app: Litestar) -> None:
    client = await _signed_in(app)
    for minutes in range(20, 12 * 60, 20):
        with timesource.frozen(NOW + timedelta(minutes=minutes)):
            assert (await client.get(ME)).status_code == 200, minutes
    with timesource.frozen(NOW + timedelta(hours=12, minutes=1)):
        assert (await client.get(ME)).status_code == 401


async def test_a_password_change_ends_every_session_of_the_user(db: object, app: Litestar) -> None:
    laptop, phone = await _signed_in(app), await _signed_in(app)
    other = await _signed_in(app, "approver")
    new = "Kq7#lanqiu-2027"
    weak = await laptop.post(
        "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "abc123"}
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
    wrong = await laptop.post(
        "/api/v1/auth/password", json={"current_password": "nope", "new_password": new}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    assert (await phone.get(ME)).status_code == 200  # refusals end nothing
    changed = await laptop.post(
        "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": new}
    )
    assert changed.status_code == 200
    assert (await phone.get(ME)).status_code == 401
    assert (await laptop.get(ME)).status_code == 401
    assert (await other.get(ME)).status_code == 200
    assert await BaseUser.login("reviewer", new) is not None
    assert await AuditEvent.exists().where(AuditEvent.action == "auth.password_changed")


async def test_disabling_a_user_ends_their_sessions(db: object, app: Litestar) -> None:
    client = await _signed_in(app)
    await BaseUser.update({BaseUser.active: False}).where(BaseUser.username == "reviewer")
    assert (await client.get(ME)).status_code == 401


async def test_the_password_page_changes_it_and_signs_out(db: object, app: Litestar) -> None:
    client = await _signed_in(app)
    page = await client.get("/account/password")
    assert page.status_code == 200 and "修改密码" in page.text
    token = client.cookies["registry_csrf"]

    async def post(new: str, again: str) -> httpx.Response:
        fields = {"current_password": PASSWORD, "new_password": new, "new_password_again": again}
        return await client.post("/account/password", data={"_csrf_token": token, **fields})

    mismatch = await post("Kq7#lanqiu-2027", "Kq7#lanqiu-2028")
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text
    common = await post("P@ssw0rd2026!", "P@ssw0rd2026!")
    assert common.status_code == 422 and "过于常见" in common.text
    done = await post("Kq7#lanqiu-2027", "Kq7#lanqiu-2027")
    assert done.status_code == 303 and done.headers["location"] == "/login?changed=1"
    assert "密码已修改" in (await client.get("/login?changed=1")).text
    assert (await client.get(ME)).status_code == 401
