"""Test databases: a migrated template built once per session, copied for every test.

SQLite by default; PostgreSQL when REGISTRY_DATABASE_URL is a postgresql:// URL (each test then
gets `CREATE DATABASE … TEMPLATE` of it). No mocks: every test talks to a real database.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from itertools import count
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="registry-tests-"))
os.environ["REGISTRY_VAR_DIR"] = str(_TMP / "var")
_BASE_URL = os.environ.get("REGISTRY_DATABASE_URL", "")
POSTGRES = _BASE_URL.startswith(("postgres://", "postgresql://"))
if not POSTGRES:
    os.environ["REGISTRY_DATABASE_URL"] = f"sqlite:///{_TMP / 'template.sqlite'}"

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from litestar import Litestar  # noqa: E402
from piccolo.apps.user.tables import BaseUser  # noqa: E402
from piccolo.conf.apps import Finder  # noqa: E402
from piccolo.engine.base import Engine  # noqa: E402

import registry.piccolo_conf  # noqa: E402
from registry.app import create_app  # noqa: E402
from registry.db import make_engine, sqlite_path  # noqa: E402
from registry.settings import get_settings  # noqa: E402
from tests.cast import NOW, build_cast  # noqa: E402
from workflows import timesource  # noqa: E402

# Passwords are hashed with Piccolo's PBKDF2 (600,000 rounds: ~0.3 s a user); tests create
# many users, and what they test is not the hash strength.
BaseUser._pbkdf2_iteration_count = 1_000

_numbers = count(1)


@pytest.fixture(scope="session", autouse=True)
def _app_clock() -> Iterator[None]:
    """The app's clock reads NOW for the whole session: no test depends on the real date."""
    with timesource.frozen(NOW):
        yield


@pytest.fixture(autouse=True)
def _audit_anchor_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's database gets its own audit anchor file: anchors name one chain's events."""
    monkeypatch.setenv("REGISTRY_AUDIT_ANCHOR_FILE", str(tmp_path / "audit-anchor.log"))


@pytest.fixture
def now() -> Iterator[datetime]:
    """The test's own moment (NOW unless the test freezes another one)."""
    yield timesource.now()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def bind(engine: Engine) -> None:
    """Point every table (and Piccolo's conf) at one engine."""
    registry.piccolo_conf.DB = engine
    for table in Finder().get_table_classes():
        table._meta.db = engine


def _with_database(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{name}"))


async def _admin_execute(sql: str) -> None:
    connection = await asyncpg.connect(_with_database(_BASE_URL, "postgres"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def app() -> Litestar:
    """Built once: the app holds no database handle (tables are bound per test)."""
    return create_app()


def http_client(app: Litestar) -> httpx.AsyncClient:
    """A client running the app in the test's own event loop, next to the database."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def anonymous(db: Engine, app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as client:
        yield client


@pytest.fixture(scope="session")
def template_url() -> Iterator[str]:
    """A migrated database with reference data and the test cast, built once."""
    url = get_settings().database_url
    bind(make_engine(url))
    asyncio.run(build_cast())
    if not POSTGRES:
        with sqlite3.connect(sqlite_path(url)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield url
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture
async def db(template_url: str) -> AsyncIterator[Engine]:
    """A fresh copy of the template database for one test."""
    number = next(_numbers)
    if POSTGRES:
        template = urlparse(template_url).path.lstrip("/")
        name = f"{template}_t{os.getpid()}_{number}"
        await _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        engine = make_engine(_with_database(template_url, name))
        bind(engine)
        await engine.start_connection_pool(min_size=1, max_size=24)
        try:
            yield engine
        finally:
            await engine.close_connection_pool()
            await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = _TMP / f"test_{number}.sqlite"
        shutil.copyfile(sqlite_path(template_url), path)
        engine = make_engine(f"sqlite:///{path}")
        bind(engine)
        yield engine
        await engine.close_connection_pool()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
