"""The shared store in Redis (REGISTRY_REDIS_URL): sorted sets, SET NX PX leases, INCR.

Window membership is computed from the moments callers pass in (scores are microseconds since
the epoch), so frozen test time works as with the database; Redis's own clock only expires
keys nobody needs any more.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis

# Prunes events that fell out of what is kept, reads the window, and records one more only if
# the window holds fewer than the limit: in one script, so two workers cannot both get in.
_RECORD_WITHIN_LIMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])
local found = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
if #found < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
return found
"""

# Renews a lease only for the holder that has it (a plain PEXPIRE would extend anyone's).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _us(moment: datetime) -> int:
    # Microseconds: the database's precision, and exact in a sorted set's double score.
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _moment(member: bytes | str) -> datetime:
    text = member.decode() if isinstance(member, bytes) else member
    us = int(text.split(":", 1)[0])
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def _ms(span: timedelta) -> int:
    return max(1, int(span.total_seconds() * 1000))


class RedisStore:
    """SharedStore on one Redis database; every key starts with `prefix`."""

    def __init__(self, client: aioredis.Redis, prefix: str = "registry:") -> None:
        self.client = client
        self.prefix = prefix
        self._record_within_limit = client.register_script(_RECORD_WITHIN_LIMIT)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, prefix: str = "registry:") -> RedisStore:
        # A Redis that is down should fail a request in seconds, not hang it.
        client = aioredis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5)
        return cls(client, prefix)

    def _events(self, key: str) -> str:
        return f"{self.prefix}events:{key}"

    @staticmethod
    def _member(at: datetime) -> str:
        # Members must differ for two events at the same moment; the moment leads for reading.
        return f"{_us(at)}:{secrets.token_hex(6)}"

    async def record_event(self, key: str, at: datetime, keep: timedelta) -> None:
        name = self._events(key)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", _us(at - keep))
            pipe.zadd(name, {self._member(at): _us(at)})
            pipe.pexpire(name, _ms(keep))
            await pipe.execute()

    async def events_since(self, key: str, since: datetime) -> list[datetime]:
        members: list[Any] = await self.client.zrangebyscore(
            self._events(key), f"({_us(since)}", "+inf"
        )
        return [_moment(m) for m in members]

    async def count_events(self, key: str, since: datetime) -> int:
        return int(await self.client.zcount(self._events(key), f"({_us(since)}", "+inf"))

    async def record_event_within_limit(
        self, key: str, at: datetime, since: datetime, limit: int, keep: timedelta
    ) -> list[datetime]:
        found: list[Any] = await self._record_within_limit(
            keys=[self._events(key)],
            args=[_us(since), _us(at), self._member(at), limit, _us(at - keep), _ms(keep)],
        )
        return sorted(_moment(m) for m in found)

    async def forget_events(self, key: str) -> None:
        await self.client.delete(self._events(key))

    def _lease(self, name: str) -> str:
        return f"{self.prefix}lease:{name}"

    async def acquire(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        # Expiry is Redis's: a holder that stops renewing loses the lease after `ttl` of real
        # time, whatever moment the caller reads (`now` matters to the database backend).
        key = self._lease(name)
        if await self.client.set(key, holder, nx=True, px=_ms(ttl)):
            return True
        return bool(await self._renew(keys=[key], args=[holder, _ms(ttl)]))

    async def release(self, name: str, holder: str) -> None:
        await self._release(keys=[self._lease(name)], args=[holder])

    async def close(self) -> None:
        await self.client.aclose()
