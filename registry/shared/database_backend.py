"""The shared store in the database (the default): every worker reaches the same tables.

Events are rows of LoginFailure (its `key` column was already the keyed counter of failed
logins and sign-ups), so without Redis nothing changes for those. A lease is one row per
name, written by single upserts that decide atomically on either engine.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from registry.db import write_transaction
from registry.tables import LoginFailure, SharedLease

# Serialises one key's count-then-insert on PostgreSQL (complaints use 7_426_003; this was the
# sign-up limit's namespace before the limit moved here).
_EVENT_LOCK_NAMESPACE = 7_426_004


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _lock_id(key: str) -> int:
    # pg_advisory_xact_lock(int, int): 28 bits of the key's hash stay inside a signed int.
    return int(hashlib.sha256(key.encode()).hexdigest()[:7], 16)


class DatabaseStore:
    """SharedStore on the tables' bound engine; joins the caller's transaction if one is open."""

    @property
    def _engine(self) -> Any:
        return LoginFailure._meta.db

    async def record_event(self, key: str, at: datetime, keep: timedelta) -> None:
        # `keep` is not needed: rows stay, as failed logins always have (the window reads them).
        async with write_transaction(self._engine):
            await LoginFailure.insert(LoginFailure(key=key, failed_at=at))

    async def events_since(self, key: str, since: datetime) -> list[datetime]:
        rows = await LoginFailure.select(LoginFailure.failed_at).where(
            (LoginFailure.key == key) & (LoginFailure.failed_at > since)
        )
        return sorted(row["failed_at"].astimezone(UTC) for row in rows)

    async def count_events(self, key: str, since: datetime) -> int:
        count: int = await LoginFailure.count().where(
            (LoginFailure.key == key) & (LoginFailure.failed_at > since)
        )
        return count

    async def record_event_within_limit(
        self, key: str, at: datetime, since: datetime, limit: int, keep: timedelta
    ) -> list[datetime]:
        # SQLite's write transaction takes the lock at BEGIN; PostgreSQL's needs the advisory
        # lock, or two transactions could count the same rows and both insert.
        async with write_transaction(self._engine):
            if isinstance(self._engine, PostgresEngine):
                await LoginFailure.raw(
                    "SELECT pg_advisory_xact_lock({}, {})", _EVENT_LOCK_NAMESPACE, _lock_id(key)
                )
            found = await self.events_since(key, since)
            if len(found) < limit:
                await LoginFailure.insert(LoginFailure(key=key, failed_at=at))
        return found

    async def forget_events(self, key: str) -> None:
        async with write_transaction(self._engine):
            await LoginFailure.delete().where(LoginFailure.key == key)

    async def acquire(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        # One statement: insert the lease, or take it over only if it is ours or has expired;
        # the unique name makes two first inserts collide into the conditional update.
        async with write_transaction(self._engine):
            rows = await SharedLease.raw(
                "INSERT INTO shared_lease (name, holder, expires_ms) VALUES ({}, {}, {}) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "expires_ms = excluded.expires_ms "
                "WHERE shared_lease.holder = excluded.holder OR shared_lease.expires_ms <= {} "
                "RETURNING holder",
                name,
                holder,
                _ms(now + ttl),
                _ms(now),
            )
        return bool(rows)

    async def release(self, name: str, holder: str) -> None:
        async with write_transaction(self._engine):
            await SharedLease.delete().where(
                (SharedLease.name == name) & (SharedLease.holder == holder)
            )

    async def close(self) -> None:
        """Nothing to release: the engine belongs to the application."""
