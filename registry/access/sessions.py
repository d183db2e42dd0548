"""Server-side sessions: revocable, with an idle timeout and an absolute lifetime.

The cookie carries a random token; the table keeps its SHA-256, the user and two moments. Every
worker reads the same table, so logging out, changing a password or disabling a user ends the
sessions everywhere at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from registry.db import write_transaction
from registry.settings import get_settings
from registry.tables import UserSession
from workflows import timesource

COOKIE = "session"
# Longer is not one of ours (start() makes 43 characters): not worth hashing.
TOKEN_MAX_LENGTH = 128
# Writing last_seen_at on every request would make each page view a write; a minute of slack
# on a 30-minute idle limit costs nothing.
_TOUCH_EVERY = timedelta(seconds=60)


def digest(token: str) -> str:
    """What the table keeps of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    settings = get_settings()
    return (
        timedelta(minutes=settings.session_idle_minutes),
        timedelta(hours=settings.session_max_hours),
    )


def max_age_seconds() -> int:
    """How long a browser should keep the cookie: the absolute lifetime."""
    return int(_limits()[1].total_seconds())


async def start(user_id: int, now: datetime | None = None) -> str:
    """A new session for the user; returns the token for the cookie."""
    now = timesource.resolve(now)
    idle, lifetime = _limits()
    token = secrets.token_urlsafe(32)
    async with write_transaction(UserSession._meta.db):
        # Expired sessions are removed here rather than by a job: sign-ins are frequent enough.
        await UserSession.delete().where(
            (UserSession.last_seen_at < now - idle) | (UserSession.created_at < now - lifetime)
        )
        await UserSession.insert(
            UserSession(token_hash=digest(token), user_id=user_id, created_at=now, last_seen_at=now)
        )
    return token


async def still_valid(row: Mapping[str, Any], token: str, now: datetime | None = None) -> bool:
    """Whether a looked-up session (id, created_at, last_seen_at) is alive; ends it if not.

    Touches last_seen_at at most once a minute, so most signed-in requests write nothing.
    """
    now = timesource.resolve(now)
    idle, lifetime = _limits()
    if now - row["last_seen_at"] > idle or now - row["created_at"] > lifetime:
        await end(token)
        return False
    if now - row["last_seen_at"] > _TOUCH_EVERY:
        async with write_transaction(UserSession._meta.db):
            await UserSession.update({UserSession.last_seen_at: now}).where(
                UserSession.id == row["id"]
            )
    return True


async def end(token: str | None) -> int | None:
    """End one session (logout); returns its user, if it existed."""
    if not token:
        return None
    async with write_transaction(UserSession._meta.db):
        rows = (
            await UserSession.delete()
            .where(UserSession.token_hash == digest(token))
            .returning(UserSession.user_id)
        )
    return int(rows[0]["user_id"]) if rows else None


async def end_all(user_id: int) -> int:
    """End every session of a user (password changed, account disabled); returns how many."""
    async with write_transaction(UserSession._meta.db):
        rows = (
            await UserSession.delete()
            .where(UserSession.user_id == user_id)
            .returning(UserSession.id)
        )
    return len(rows)
