"""Failing parts (a locked or unreachable database, a full or read-only disk) answer 503 with
Retry-After and a Chinese message, never a 500; health says which part fails."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

import registry.db
from registry.applications import storage
from registry.db import make_engine, serve_requests
from registry.settings import get_settings
from registry.tables import Document
from tests.api.conftest import Client, Login, login  # noqa: F401  (the fixture)
from tests.cast import CAST, HEPING, PASSWORD
from tests.conftest import bind, http_client
from tests.factories import new_listing

BUSY = "系统繁忙"
NO_SPACE = "存储空间不足"
LOGIN = {"username": "provider", "password": PASSWORD}


def pdf(size: int = 4096) -> bytes:
    return b"%PDF-1.4\n" + os.urandom(size - 9)


async def upload(client: Client, content: bytes) -> httpx.Response:
    listing_id = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING])
    return await client.post(
        f"/api/v1/listings/{listing_id}/documents",
        data={"kind": "licence"},
        files={"file": ("licence.pdf", content, "application/pdf")},
    )


def assert_unavailable(response: httpx.Response, message: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    if response.headers["content-type"].startswith("application/json"):
        body = response.json()
        assert body["status_code"] == 503 and message in body["detail"]
    else:
        assert message in response.text and "Traceback" not in response.text


# --- the database ---------------------------------------------------------------------------


@pytest.fixture
def held_write_lock(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Another process's write transaction on the SQLite file; requests wait 1 s, not 5."""
    if not isinstance(db, SQLiteEngine):
        pytest.skip("SQLite's file lock")
    monkeypatch.setattr(registry.db, "SQLITE_REQUEST_BUSY_TIMEOUT_S", 1.0)
    serve_requests(db)
    holder = sqlite3.connect(db.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield
    holder.rollback()
    holder.close()


async def test_a_locked_database_answers_503_in_seconds(
    held_write_lock: None, app: Litestar
) -> None:
    async with http_client(app) as client:
        started = time.monotonic()
        response = await client.post("/api/v1/auth/login", json=LOGIN)
        elapsed = time.monotonic() - started
        assert_unavailable(response, BUSY)
        assert elapsed < 5  # the request timeout, not SQLite's 30 s for commands
        # The page answers the same, as a page.
        await client.get("/login")
        page = await client.post(
            "/login", data={**LOGIN, "_csrf_token": client.cookies["registry_csrf"]}
        )
        assert_unavailable(page, BUSY)


def test_requests_wait_seconds_for_a_lock_and_commands_longer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    if not isinstance(engine, SQLiteEngine):
        pytest.skip("SQLite only")
    assert engine.connection_kwargs["timeout"] == registry.db.SQLITE_BUSY_TIMEOUT_S == 30
    serve_requests(engine)
    assert engine.connection_kwargs["timeout"] == registry.db.SQLITE_REQUEST_BUSY_TIMEOUT_S == 5


@pytest.fixture
async def unreachable_database(db: Engine) -> AsyncIterator[None]:
    """Tables pointed at a PostgreSQL that is not there (a closed port), then back."""
    bind(PostgresEngine(config={"dsn": "postgresql://postgres@127.0.0.1:9/gone"}))
    yield
    bind(db)


@pytest.mark.filterwarnings("ignore:.*Unable to connect")
async def test_a_database_that_went_away_answers_503(
    unreachable_database: None, app: Litestar
) -> None:
    async with http_client(app) as client:
        assert_unavailable(await client.post("/api/v1/auth/login", json=LOGIN), BUSY)
        assert_unavailable(await client.get("/api/v1/whitelist"), BUSY)
        assert_unavailable(await client.get("/"), BUSY)
        health = await client.get("/api/v1/health")
    assert health.status_code == 503
    body = health.json()
    assert body["failing"] == ["database"] and body["database"]["ok"] is False
    assert body["engine"] == "postgres" and body["schema_version"]


# --- the documents folder -------------------------------------------------------------------


async def test_a_documents_folder_that_cannot_be_made_answers_503(
    login: Login,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A path under a regular file fails for root too (permissions would not).
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setattr(storage, "root", lambda: blocker / "documents")
    client = await login("provider")
    assert_unavailable(await upload(client, pdf()), NO_SPACE)
    assert not await Document.exists()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount a small tmpfs (root with CAP_SYS_ADMIN only): real ENOSPC and EROFS."""
    mounts: list[Path] = []

    def mount(size_kb: int, read_only: bool = False) -> Path:
        target = tmp_path / f"mnt{len(mounts)}"
        target.mkdir()
        options = f"size={size_kb}k" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip("mounting a tmpfs needs root")
        mounts.append(target)
        return target

    yield mount
    for target in mounts:
        subprocess.run(["umount", "-l", str(target)], check=False)


async def test_a_read_only_documents_folder_answers_503(
    login: Login,  # noqa: F811
    tmpfs: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mounted = tmpfs(64, read_only=True)
    monkeypatch.setattr(storage, "root", lambda: mounted / "documents")
    client = await login("provider")
    assert_unavailable(await upload(client, pdf()), NO_SPACE)
    assert not await Document.exists()


async def test_a_full_documents_disk_answers_503_and_leaves_no_part_file(
    login: Login,  # noqa: F811
    tmpfs: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mounted = tmpfs(64)
    monkeypatch.setattr(storage, "root", lambda: mounted / "documents")
    client = await login("provider")
    assert_unavailable(await upload(client, pdf(200 * 1024)), NO_SPACE)
    assert not await Document.exists()
    assert list(storage.work_dir().iterdir()) == []


async def test_a_full_disk_under_sqlite_answers_503_for_login(
    db: Engine, app: Litestar, tmpfs: Callable[..., Path]
) -> None:
    if not isinstance(db, SQLiteEngine):
        pytest.skip("SQLite's own file")
    size = Path(db.path).stat().st_size
    mounted = tmpfs(size // 1024 + 256)
    copy = mounted / "full.sqlite"
    shutil.copyfile(db.path, copy)
    engine = make_engine(f"sqlite:///{copy}")
    filler = os.open(mounted / "filler", os.O_WRONLY | os.O_CREAT)
    try:  # take every byte that is left
        while True:
            os.write(filler, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(filler)
    bind(engine)
    try:
        async with http_client(app) as client:
            assert_unavailable(await client.post("/api/v1/auth/login", json=LOGIN), NO_SPACE)
    finally:
        bind(db)


# --- health ---------------------------------------------------------------------------------


async def test_health_reports_each_part(anonymous: Client) -> None:
    response = await anonymous.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert body["database"]["ok"] and body["disk"]["ok"]
    assert body["disk"]["min_free_mb"] == 200 and body["disk"]["free_mb"] > 0


@pytest.fixture
def no_room(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A free-space minimum no disk meets: the disk counts as full."""
    monkeypatch.setenv("REGISTRY_MIN_FREE_DISK_MB", str(10**12))
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("REGISTRY_MIN_FREE_DISK_MB")
    get_settings.cache_clear()


async def test_health_answers_503_when_the_disk_is_nearly_full(
    anonymous: Client, no_room: None
) -> None:
    response = await anonymous.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["failing"] == ["disk"]
    assert body["database"]["ok"] is True
    assert "低于下限" in body["disk"]["detail"]
    assert body["engine"] in ("sqlite", "postgres") and body["schema_version"]


async def test_other_errors_stay_500(anonymous: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # Not every OSError or OperationalError is a failing part: a bug is still a bug.
    from registry.web.errors import unavailable

    assert unavailable(sqlite3.OperationalError("no such table: nothing")) is None
    assert unavailable(FileNotFoundError(2, "No such file or directory")) is None
    assert unavailable(OSError(28, "No space left on device")) is not None
    assert unavailable(io.UnsupportedOperation()) is None


async def test_health_sees_a_full_disk_under_the_sqlite_database(
    db: Engine, anonymous: Client, tmpfs: Callable[..., Path]
) -> None:
    if not isinstance(db, SQLiteEngine):
        pytest.skip("SQLite's own file")
    mounted = tmpfs(Path(db.path).stat().st_size // 1024 + 256)
    shutil.copyfile(db.path, mounted / "registry.sqlite")
    bind(make_engine(f"sqlite:///{mounted / 'registry.sqlite'}"))
    try:
        response = await anonymous.get("/api/v1/health")
    finally:
        bind(db)
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["disk"] and body["disk"]["free_mb"] == 0
