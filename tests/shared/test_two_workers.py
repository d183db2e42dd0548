"""`registry serve --workers 2` as a real subprocess: what one worker learns, the other knows.

The server runs on the test's own database (a migrated copy with the test cast), sharing
through it or through Redis, and on the real clock: nothing here depends on the date, only on
what the workers share. Every request opens a new connection, so the kernel hands requests to
either worker.
"""

from __future__ import annotations

import asyncio
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from piccolo.engine.base import Engine

from tests.cast import PASSWORD
from tests.cli_runner import database_url
from tests.shared.conftest import REDIS_URL, redis_wanted, unique_prefix

STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """The server's address and its log (both workers write to one file)."""

    def __init__(self, base_url: str, log: Path) -> None:
        self.base_url = base_url
        self.log = log
        self.ready_at = 0.0  # when both workers had started (time.monotonic)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def holders(self) -> list[str]:
        """The holder named by each clock tick, in order."""
        return re.findall(r"clock tick by (\S+)", self.text())

    def worker_pids(self) -> set[str]:
        return set(re.findall(r"Started server process \[(\d+)\]", self.text()))


def pause(seconds: float) -> None:
    """Wait without time.sleep, which fails under libfaketime (the suite runs under it too)."""
    select.select([], [], [], seconds)


@pytest.fixture(params=["database", "redis"])
def two_workers(request: pytest.FixtureRequest, db: Engine, tmp_path: Path) -> Iterator[Server]:
    """The server on the test's database, sharing through it or through Redis."""
    port = free_port()
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": database_url(db),
        "REGISTRY_CLOCK_INTERVAL": "1",
        "PYTHONUNBUFFERED": "1",
    }
    prefix = unique_prefix()
    if request.param == "redis":
        redis_wanted()
        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            pytest.fail(f"Redis at {REDIS_URL} is unreachable ({error})", pytrace=False)
        env |= {"REGISTRY_REDIS_URL": REDIS_URL, "REGISTRY_REDIS_PREFIX": prefix}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "registry", "serve", "--workers", "2", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = Server(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while server.text().count("Application startup complete") < 2:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start two workers:\n{server.text()}")
            pause(0.1)
        server.ready_at = time.monotonic()
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 15
        while process.poll() is None and time.monotonic() < deadline:
            pause(0.1)
        if process.poll() is None:
            process.kill()
            process.wait()
        if request.param == "redis":
            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)
            client.close()


async def _fresh(
    server: Server,
    method: str,
    path: str,
    json: object = None,
    cookies: dict[str, str] | None = None,
) -> httpx.Response:
    # A client per request: no kept-alive connection ties the requests to one worker.
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10, cookies=cookies) as client:
        return await client.request(method, path, json=json)


async def test_two_workers_share_sessions_lockouts_and_one_clock(two_workers: Server) -> None:
    server = two_workers
    assert len(server.worker_pids()) == 2

    # (1) One login, then many requests on new connections: every worker knows the session.
    login = await _fresh(
        server, "POST", "/api/v1/auth/login", json={"username": "reviewer", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    cookies = dict(login.cookies)
    answers = [await _fresh(server, "GET", "/api/v1/auth/me", cookies=cookies) for _ in range(20)]
    assert [a.status_code for a in answers] == [200] * 20
    assert {a.json()["username"] for a in answers} == {"reviewer"}

    # (2) Five wrong passwords spread over the workers lock the account on all of them.
    codes = [
        (
            await _fresh(
                server,
                "POST",
                "/api/v1/auth/login",
                json={"username": "approver", "password": f"wrong-{n}"},
            )
        ).status_code
        for n in range(5)
    ]
    assert codes == [401, 401, 401, 401, 429]
    for _ in range(4):
        right = await _fresh(
            server,
            "POST",
            "/api/v1/auth/login",
            json={"username": "approver", "password": PASSWORD},
        )
        assert right.status_code == 429
        assert "已暂时锁定" in right.json()["detail"]

    # (3) Over a few seconds with a 1 s interval, the clock ticks in exactly one worker.
    while len(server.holders()) < 3 or time.monotonic() - server.ready_at < 3:
        assert time.monotonic() - server.ready_at < 20, server.text()
        await asyncio.sleep(0.2)
    holders = server.holders()
    assert len(set(holders)) == 1, holders
    pid = holders[0].split(":")[1]
    assert pid in server.worker_pids()
    # Two clocks ticking would log about twice as many ticks as seconds went by.
    elapsed = time.monotonic() - server.ready_at
    assert len(holders) <= elapsed + 3, (len(holders), elapsed)
