"""Sign-in limits: wrong passwords lock the account for a while, across workers, audited."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from registry.access import logins
from registry.tables import AuditEvent, LoginFailure
from tests.cast import NOW, PASSWORD
from workflows import timesource
from workflows.audit import verify

LOGIN = "/api/v1/auth/login"


async def _attempt(client: httpx.AsyncClient, password: str, user: str = "reviewer") -> int:
    response = await client.post(LOGIN, json={"username": user, "password": password})
    return response.status_code


async def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    anonymous: httpx.AsyncClient,
) -> None:
    codes = [await _attempt(anonymous, f"wrong-{n}") for n in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    locked = await anonymous.post(LOGIN, json={"username": "reviewer", "password": PASSWORD})
    assert locked.status_code == 429
    body = locked.json()
    assert "已暂时锁定" in body["detail"] and "10:15" in body["detail"]  # NOW is 10:00 Beijing
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60 + 1
    # Another account behind the same address is not held back by one user's typos.
    assert await _attempt(anonymous, PASSWORD, user="approver") == 200


async def test_the_lock_ends_after_fifteen_minutes(anonymous: httpx.AsyncClient) -> None:
    for n in range(5):
        await _attempt(anonymous, f"wrong-{n}")
    with timesource.frozen(NOW + timedelta(minutes=14)):
        assert await _attempt(anonymous, PASSWORD) == 429
    with timesource.frozen(NOW + timedelta(minutes=15, seconds=1)):
        assert await _attempt(anonymous, PASSWORD) == 200
        # A success clears the account's count: one more typo does not lock it again.
        assert await _attempt(anonymous, "wrong-again") == 401
        assert await _attempt(anonymous, PASSWORD) == 200


async def test_failures_are_counted_in_the_database_not_in_one_process(db: object) -> None:
    for n in range(4):
        with pytest.raises(logins.LoginRefused):
            await logins.sign_in("reviewer", f"wrong-{n}", "203.0.113.7")
    # A second worker (nothing shared but the database) sees the same count.
    assert await LoginFailure.count().where(LoginFailure.key == logins.account_key("reviewer")) == 4
    with pytest.raises(logins.LoginRefused) as fifth:
        await logins.sign_in("reviewer", "wrong-5", "198.51.100.9")
    assert fifth.value.code == "locked"
    # The address is stored only as a salted hash.
    keys = [row["key"] for row in await LoginFailure.select(LoginFailure.key)]
    assert not any("203.0.113.7" in key for key in keys)


async def test_one_address_guessing_many_accounts_is_locked_out(db: object) -> None:
    from registry.settings import get_settings

    limit = get_settings().login_failures_per_address
    for n in range(limit):
        with pytest.raises(logins.LoginRefused):
            await logins.sign_in(f"nobody{n}", "wrong-password", "203.0.113.8")
    with pytest.raises(logins.LoginRefused) as refused:
        await logins.sign_in("reviewer", PASSWORD, "203.0.113.8")
    assert refused.value.code == "locked"
    assert await logins.sign_in("reviewer", PASSWORD, "203.0.113.9")


async def test_every_attempt_and_lockout_is_an_audit_event(anonymous: httpx.AsyncClient) -> None:
    before = await AuditEvent.count()
    await _attempt(anonymous, PASSWORD)
    for n in range(5):
        await _attempt(anonymous, f"wrong-{n}")
    await _attempt(anonymous, PASSWORD)
    rows = await AuditEvent.select(AuditEvent.action, AuditEvent.actor_name).where(
        AuditEvent.id > before
    )
    actions = [r["action"] for r in rows]
    assert actions == [
        "auth.login",
        *["auth.login_failed"] * 5,
        "auth.locked",
        "auth.login_locked_out",
    ]
    assert {r["actor_name"] for r in rows} == {"reviewer"}
    assert (await verify()).ok


async def test_a_name_that_is_no_account_is_not_written_to_the_record(
    anonymous: httpx.AsyncClient,
) -> None:
    before = await AuditEvent.count()
    await _attempt(anonymous, "whatever", user="Xy7#kq2Lmn-typed-in-the-wrong-box")
    row = await AuditEvent.select().where(AuditEvent.id > before).first()
    assert row["action"] == "auth.login_failed" and row["actor_name"] == ""
    assert row["actor_id"] is None
