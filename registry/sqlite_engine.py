"""SQLite through Piccolo with connections kept open between queries.

Piccolo's SQLiteEngine opens a new connection, and a new thread, for every query and every
transaction, and sends `PRAGMA foreign_keys` before each statement in a transaction. Opening
one costs more than the query itself on a small table (it reads the whole schema): on the
100,000-provider benchmark database that made `GET /api/v1/health` 6 ms through one
connection. This engine keeps idle connections (each with its aiosqlite thread) and hands
them out again, one query or one transaction at a time, and runs a statement and its fetch
in one thread hop.

A connection is reused only while it still points at the file the engine names: a restore
or a test replacing the file (a new inode) retires the old connections instead of letting
them read a deleted file.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

# Idle connections kept per process: enough for the concurrent requests of one worker.
# Beyond it a connection is closed after use rather than kept.
POOL_SIZE = 16

_FileId = tuple[int, int]


def _file_id(path: str) -> _FileId | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


class _Pooled:
    """An idle connection and what it was opened with."""

    __slots__ = ("connection", "file_id", "settings")

    def __init__(self, connection: aiosqlite.Connection, file_id: _FileId | None, settings: str):
        self.connection = connection
        self.file_id = file_id
        self.settings = settings


class PooledSQLiteEngine(SQLiteEngine):
    """SQLiteEngine whose connections outlive a query (see the module docstring)."""

    def __init__(self, path: str, pool_size: int = POOL_SIZE, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self.pool_size = pool_size
        self._idle: list[_Pooled] = []
        self._opened: dict[int, _Pooled] = {}  # id(connection) -> how it was opened

    def _settings(self) -> str:
        # The busy timeout is changed once a server starts (registry.db.serve_requests):
        # connections opened before keep the old one, so they are not reused after.
        return repr(sorted(self.connection_kwargs.items()))

    async def acquire(self) -> aiosqlite.Connection:
        """A connection for one query or one transaction; give it back with `release`."""
        settings, file_id = self._settings(), _file_id(self.path)
        while self._idle:
            pooled = self._idle.pop()
            if pooled.settings == settings and pooled.file_id == file_id:
                return pooled.connection
            self._retire(pooled.connection)
        connection = await self._open()
        self._opened[id(connection)] = _Pooled(connection, file_id, settings)
        return connection

    async def _open(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        # An idle connection's thread must not keep a finished command's process alive.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory
        await connection.execute_fetchall("PRAGMA foreign_keys = 1")
        await connection.execute_fetchall("PRAGMA synchronous = NORMAL")
        return connection

    async def release(self, connection: aiosqlite.Connection) -> None:
        """Keep a connection for the next query, unless it is left mid-transaction."""
        pooled = self._opened.get(id(connection))
        if pooled is None or pooled.connection is not connection:
            return
        try:
            if connection.in_transaction:  # a failed COMMIT or ROLLBACK: start clean
                await connection.execute_fetchall("ROLLBACK")
        except (sqlite3.Error, ValueError):
            self._retire(connection)
            return
        if len(self._idle) < self.pool_size:
            self._idle.append(pooled)
        else:
            self._retire(connection)

    def _retire(self, connection: aiosqlite.Connection) -> None:
        self._opened.pop(id(connection), None)
        connection.stop()  # closes the sqlite3 connection in its thread, which then ends

    async def start_connection_pool(self, **_: Any) -> None:
        """Nothing to open in advance (named like PostgresEngine's for one start-up path)."""

    async def close_connection_pool(self) -> None:
        """Close every idle connection (end of a test, or of a server)."""
        idle, self._idle = self._idle, []
        for pooled in idle:
            self._opened.pop(id(pooled.connection), None)
            await pooled.connection.close()

    async def get_connection(self) -> aiosqlite.Connection:
        # Piccolo closes what this returns (batch reads): a connection of its own, not pooled.
        return await self._open()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        # SQLite here is 3.35 or newer: inserts return their keys with RETURNING.
        connection = await self.acquire()
        try:
            return list(await connection.execute_fetchall(query, args or []))  # type: ignore[arg-type]
        finally:
            await self.release(connection)

    async def _run_in_existing_connection(
        self,
        connection: aiosqlite.Connection,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        # foreign_keys was switched on when the connection opened.
        return list(await connection.execute_fetchall(query, args or []))  # type: ignore[arg-type]

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _PooledTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


class _PooledTransaction(SQLiteTransaction):
    """A transaction that gives its connection back to the pool instead of closing it."""

    engine: PooledSQLiteEngine

    async def get_connection(self) -> aiosqlite.Connection:
        return await self.engine.acquire()

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            await self.engine.release(self.connection)
        return exception is None
