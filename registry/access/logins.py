"""Signing in: password check, failure limits with lockout, and the audit of every attempt.

Failures are counted per account and per client address in the shared store (the database, or
Redis when REGISTRY_REDIS_URL is set: registry/shared), so the limits hold across workers and
restarts. An account locks after `login_failures_per_account` failures in
`login_lockout_minutes` (default 5 in 15 minutes) and unlocks that long after the last one; an
address gets a higher limit, since a school or a bureau sits behind one address. While locked,
even the right password is refused, so guessing cannot go on in the background.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from piccolo.apps.user.tables import BaseUser

from registry.db import write_transaction
from registry.settings import get_settings
from registry.shared import shared_store
from registry.tables import AuditEvent
from workflows import audit, timesource

ROLE = "auth"


@dataclass(frozen=True)
class LoginRefused(Exception):
    """A refused sign-in; `retry_after` (seconds) is set while locked out."""

    code: str
    message: str
    retry_after: int | None = None


def address_key(address: str) -> str:
    """The stored form of a client address: a salted hash (the address is personal data)."""
    salt = get_settings().secret_key
    return "addr:" + hashlib.sha256(f"login:{salt}:{address}".encode()).hexdigest()[:32]


def account_key(username: str) -> str:
    """The stored form of an account name tried at sign-in."""
    return "user:" + username.strip().lower()[:150]


def _window() -> timedelta:
    return timedelta(minutes=get_settings().login_lockout_minutes)


async def locked_until(key: str, limit: int, now: datetime) -> datetime | None:
    """When the key's lock ends, if `limit` failures fell within the window before `now`."""
    recent = await shared_store().events_since(key, now - _window())
    if len(recent) < limit:
        return None
    until = max(recent) + _window()
    return until if until > now else None


def _locked(until: datetime, now: datetime) -> LoginRefused:
    local = until.astimezone(ZoneInfo(get_settings().timezone))
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return LoginRefused(
        "locked",
        f"登录失败次数过多，已暂时锁定，请于{local:%H:%M}（约{minutes}分钟后）再试",
        retry_after=int((until - now).total_seconds()) + 1,
    )


async def _user_id(username: str) -> int | None:
    row = await BaseUser.select(BaseUser.id).where(BaseUser.username == username).first()
    return int(row["id"]) if row else None


async def _audit(action: str, username: str, user_id: int | None, **payload: object) -> None:
    # Unknown names are not echoed into the record: people type passwords into that field.
    name = username if user_id is not None else ""
    async with write_transaction(AuditEvent._meta.db):
        await audit.append(
            action=action, role=ROLE, actor_id=user_id, actor_name=name, payload=payload
        )


async def sign_in(username: str, password: str, address: str, now: datetime | None = None) -> int:
    """The user id for a right password; otherwise LoginRefused (and the failure counted)."""
    now = timesource.resolve(now)
    settings = get_settings()
    username = username.strip()
    keys = {
        account_key(username): settings.login_failures_per_account,
        address_key(address): settings.login_failures_per_address,
    }
    for key, limit in keys.items():
        until = await locked_until(key, limit, now)
        if until is not None:
            await _audit("auth.login_locked_out", username, await _user_id(username))
            raise _locked(until, now)
    user_id = await BaseUser.login(username=username, password=password) if username else None
    if user_id is not None:
        await shared_store().forget_events(account_key(username))
        await _audit("auth.login", username, int(user_id))
        return int(user_id)
    for key in keys:
        await shared_store().record_event(key, now, keep=_window())
    known = await _user_id(username)
    await _audit("auth.login_failed", username, known)
    for key, limit in keys.items():
        until = await locked_until(key, limit, now)
        if until is not None:
            await _audit("auth.locked", username, known, scope=key.split(":")[0])
            raise _locked(until, now)
    raise LoginRefused("invalid_credentials", "用户名或密码错误")


async def record_logout(user_id: int | None, username: str) -> None:
    """The audit event of a sign-out."""
    await _audit("auth.logout", username, user_id)
