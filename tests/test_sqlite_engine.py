"""The SQLite engine keeps connections between queries without changing what queries see."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
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


async def test_a_read_on_the_spot_sees_each_commit_and_a_replaced_file(
    db: Engine, tmp_path: Path
) -> None:
    assert isinstance(db, PooledSQLiteEngine)
    count = "SELECT count(*) AS n FROM district"
    assert db.read_now(count) == [{"n": 16}]
    # Another process's commit is seen by the next read, with no wait.
    other = sqlite3.connect(db.path)
    other.execute("DELETE FROM district WHERE code = '120119'")
    other.commit()
    assert db.read_now(count) == [{"n": 15}]
    # A writer holding its transaction open does not make the read wait, nor see its rows.
    other.execute("BEGIN IMMEDIATE")
    other.execute("DELETE FROM district WHERE code = '120118'")
    assert db.read_now(count) == [{"n": 15}]
    other.rollback()
    other.close()
    copy = tmp_path / "copy.sqlite"
    source, target = sqlite3.connect(db.path), sqlite3.connect(copy)
    source.backup(target)
    target.execute("PRAGMA journal_mode=DELETE")
    target.execute("DELETE FROM district WHERE code = '120101'")
    target.commit()
    source.close()
    target.close()
    path = Path(db.path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(copy, path.with_name(path.name + ".new"))
    path.with_name(path.name + ".new").replace(path)
    assert db.read_now(count) == [{"n": 14}]
    # It never writes.
    assert db.read_now("DELETE FROM district") is None


async def test_closing_the_pool_closes_idle_connections(db: Engine) -> None:
    assert isinstance(db, PooledSQLiteEngine)
    await District.count()
    await db.close_connection_pool()
    assert _opened(db) == 0
    assert await District.count() == 16  # and the engine opens a new one when asked


_BUSY_WRITER = """
import asyncio, sys, time
from registry.db import make_engine, write_transaction
from registry.tables import District

async def main() -> None:
    engine = make_engine(sys.argv[1])
    District._meta.db = engine
    print("ready", flush=True)
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:  # back to back, each holding the lock for 20 ms
        async with write_transaction(engine):
            await District.raw("UPDATE district SET name = name WHERE code = '120116'")
            await asyncio.sleep(0.02)

asyncio.run(main())
"""


async def test_a_writer_gets_its_turn_while_another_process_writes_back_to_back(
    db: Engine, tmp_path: Path
) -> None:
    """Another worker's writers keep the lock busy; ours must not starve into 'locked'.

    SQLite's own busy handler sleeps up to 100 ms between tries and, against writers that hand
    the lock on within microseconds, gives up at its timeout; taking turns through the lock
    file gets each of ours in within one of theirs.
    """
    assert isinstance(db, PooledSQLiteEngine)
    script = tmp_path / "busy_writer.py"
    script.write_text(_BUSY_WRITER)
    other = await asyncio.create_subprocess_exec(
        sys.executable, str(script), f"sqlite:///{db.path}", "3",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )  # fmt: skip
    try:
        assert other.stdout is not None
        assert (await other.stdout.readline()).strip() == b"ready"
        await asyncio.sleep(0.3)  # its loop is running
        db.connection_kwargs["timeout"] = 1.0
        for number in range(5):
            async with write_transaction(db):
                await District.update({District.name: f"和平区{number}"}).where(
                    District.code == "120101"
                )
    finally:
        await other.wait()
    assert other.returncode == 0
    assert await District.select(District.name).where(District.code == "120101").first() == {
        "name": "和平区4"
    }
