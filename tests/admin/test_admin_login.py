"""Signing in to the admin and setting passwords there follow the registry's rules.

Failures lock the account for a while (not the client address until a restart, as piccolo's
own limiter did), every attempt is audited, and a password set in the admin must pass the same
rules as everywhere else.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser
from piccolo_api.session_auth.tables import SessionsBase

from registry.access import sessions
from registry.access.accounts import actor_of_session
from registry.access.passwords import RULE
from registry.tables import AuditEvent, UserSession
from tests.cast import CAST, NOW, PASSWORD
from workflows import timesource

Client = httpx.AsyncClient
API = "/admin/api/tables"
STRONG = "Shuxue-2027-Hexi"
_ADDRESSES = itertools.count(1)


@pytest.fixture
async def clients(db: object, app: Litestar) -> AsyncIterator[Callable[[str], Client]]:
    """Clients that call from a given address (behind one proxy, many share one)."""
    opened: list[Client] = []

    def new(address: str = "") -> Client:
        address = address or f"10.88.{next(_ADDRESSES) // 250}.{next(_ADDRESSES) % 250 + 1}"
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        opened.append(client)
        return client

    yield new
    for client in opened:
        await client.aclose()


async def _login(client: Client, username: str, password: str = PASSWORD) -> httpx.Response:
    await client.get("/admin/")
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return await client.post(
        "/admin/public/login/", json={"username": username, "password": password}
    )


async def _actions(user: str) -> list[str]:
    rows = await (
        AuditEvent.select(AuditEvent.action)
        .where(AuditEvent.actor_id == CAST.users[user])
        .order_by(AuditEvent.id)
    )
    return [r["action"] for r in rows]


# --- signing in ------------------------------------------------------------------------------


async def test_failures_lock_the_account_for_a_while(clients: Callable[[str], Client]) -> None:
    client = clients("10.88.1.1")
    answers = [(await _login(client, "city", "Wrong-pass-1")).status_code for _ in range(5)]
    assert answers == [401, 401, 401, 401, 429]
    locked = await _login(client, "city")  # even the right password, while locked
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.json()["detail"]
    assert int(locked.headers["retry-after"]) > 0
    assert await SessionsBase.count() == 0
    assert await _actions("city") == [
        *["auth.login_failed"] * 5,
        "auth.locked",
        "auth.login_locked_out",
    ]
    with timesource.frozen(NOW + timedelta(minutes=16)):
        assert (await _login(client, "city")).status_code == 200
    assert (await _actions("city"))[-1] == "auth.login"


async def test_a_wrong_password_says_so_in_chinese(clients: Callable[[str], Client]) -> None:
    refused = await _login(clients(""), "city", "Wrong-pass-1")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "用户名或密码错误"


async def test_others_behind_the_same_address_still_get_in(
    clients: Callable[[str], Client],
) -> None:
    """A school's proxy: one colleague's failures, and many sign-ins, lock no one else out."""
    proxy = "10.88.200.1"
    for _ in range(5):
        await _login(clients(proxy), "approver", "Wrong-pass-1")
    # piccolo's own limiter refused the 21st request from an address until a restart.
    answers = {(await _login(clients(proxy), "city")).status_code for _ in range(25)}
    assert answers == {200}


async def test_staff_with_the_right_password_get_no_admin_session(
    clients: Callable[[str], Client],
) -> None:
    refused = await _login(clients(""), "reviewer")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "该账号无权登录管理后台"
    assert await SessionsBase.count() == 0


# --- passwords set in the admin --------------------------------------------------------------


@pytest.fixture
async def superuser(clients: Callable[[str], Client]) -> Client:
    """The city, made a superuser (piccolo-admin lets only those edit users)."""
    await BaseUser.update({BaseUser.superuser: True}).where(BaseUser.id == CAST.users["city"])
    client = clients("")
    assert (await _login(client, "city")).status_code == 200
    return client


def _messages(response: httpx.Response) -> list[str]:
    detail: Any = response.json()["detail"]
    return [item["msg"] for item in detail] if isinstance(detail, list) else [detail]


async def test_a_new_user_needs_a_strong_password(superuser: Client) -> None:
    user = {"username": "newcomer", "email": "new@example.cn", "active": True, "admin": False}
    user |= {"superuser": False, "first_name": "", "last_name": ""}
    weak = await superuser.post(f"{API}/piccolo_user/", json={**user, "password": "password1"})
    assert weak.status_code == 422
    assert _messages(weak) == [f"{RULE}（现为9位）"]
    assert not await BaseUser.exists().where(BaseUser.username == "newcomer")
    strong = await superuser.post(f"{API}/piccolo_user/", json={**user, "password": STRONG})
    assert strong.status_code == 201, strong.text
    assert await BaseUser.login("newcomer", STRONG) is not None


async def test_a_changed_password_needs_to_be_strong(superuser: Client) -> None:
    provider = CAST.users["provider"]
    weak = await superuser.patch(f"{API}/piccolo_user/{provider}/", json={"password": "Abc-1"})
    assert weak.status_code == 422
    assert "密码至少10位" in _messages(weak)[0]
    named = await superuser.patch(
        f"{API}/piccolo_user/{provider}/", json={"password": "Provider-2027"}
    )
    assert _messages(named) == ["密码不能包含用户名"]
    assert await BaseUser.login("provider", PASSWORD) == provider  # unchanged


async def test_changing_ones_own_password_in_the_admin(
    superuser: Client, clients: Callable[[str], Client]
) -> None:
    registry_session = await sessions.start(CAST.users["city"])
    body = {"current_password": PASSWORD, "new_password": "city12345", "confirm_new_password": ""}
    body["confirm_new_password"] = body["new_password"]
    weak = await superuser.post("/admin/api/change-password/", json=body)
    assert weak.status_code == 422
    assert "密码至少10位" in weak.json()["detail"]
    assert await BaseUser.login("city", PASSWORD) == CAST.users["city"]

    body |= {"new_password": STRONG, "confirm_new_password": STRONG}
    changed = await superuser.post("/admin/api/change-password/", json=body)
    assert changed.status_code == 303, changed.text
    assert await BaseUser.login("city", STRONG) == CAST.users["city"]
    # Every session ends, the registry's included, and the change is audited.
    assert await actor_of_session(registry_session) is None
    assert await UserSession.count().where(UserSession.user_id == CAST.users["city"]) == 0
    assert (await _actions("city"))[-1] == "auth.password_changed"
