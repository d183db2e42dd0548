"""The SQLite engine keeps connections between queries without changing what queries see."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from registry.db import write_transaction
from registry.sqlite_engine import PooledSQLiteEngine
from registry.tables import District
from tests.conftest import POSTGRES

pytestmark = pytest.mark.skipif(POSTGRES, reason="the SQLite engine's own connection pool")


def _opened(engine: Engine) -> int:
    assert isinstance(engine, PooledSQLiteEngine)
    return len(engine._opened)


async def test_queries_reuse_a_few_connections(db: Engine) -> None:
    for _ in range(50):
        assert await District.count() == 16
    await asyncio.gather(*(District.count() for _ in range(8)))
    # Eight at once need at most eight; fifty in a row needed one.
    assert 1 <= _opened(db) <= 8


async def test_a_failed_transaction_leaves_nothing_behind(db: Engine) -> None:
    with pytest.raises(RuntimeError):
        async with write_transaction(db):
            await District.update({District.name: "改名区"}).where(District.code == "120101")
            raise RuntimeError("the request failed half way")
    # The connection goes back clean: the next query sees no half-done write, and can write.
    names = await District.select(District.name).where(District.code == "120101").first()
    assert names == {"name": "和平区"}
    async with write_transaction(db):
        await District.update({District.name: "和平区"}).where(District.code == "120101")


async def test_concurrent_transactions_each_have_their_own_connection(db: Engine) -> None:
    async def rename(code: str, name: str) -> None:
        async with write_transaction(db):
            await District.update({District.name: name}).where(District.code == code)
            await asyncio.sleep(0)  # let the other transaction start meanwhile

    await asyncio.gather(rename("120101", "甲"), rename("120102", "乙"))
    rows = await District.select(District.code, District.name).where(
        District.code.is_in(["120101", "120102"])
    )
    assert {r["code"]: r["name"] for r in rows} == {"120101": "甲", "120102": "乙"}


async def test_a_replaced_database_file_is_read_not_the_old_one(db: Engine, tmp_path: Path) -> None:
    """A restore puts a new file in place: kept connections must not go on reading the old."""
    assert isinstance(db, PooledSQLiteEngine)
    assert await District.count() == 16  # a connection to the current file is now idle
    path = Path(db.path)
    copy = tmp_path / "copy.sqlite"
    source, target = sqlite3.connect(path), sqlite3.connect(copy)
    source.backup(target)
    target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, like a restore's
    target.execute("DELETE FROM district WHERE code = '120101'")
    target.commit()
    source.close()
    target.close()
    shutil.copyfile(copy, path.with_name(path.name + ".new"))
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.with_name(path.name + ".new").replace(path)
    assert await District.count() == 15


async def test_closing_the_pool_closes_idle_connections(db: Engine) -> None:
    assert isinstance(db, PooledSQLiteEngine)
    await District.count()
    await db.close_connection_pool()
    assert _opened(db) == 0
    assert await District.count() == 16  # and the engine opens a new one when asked
