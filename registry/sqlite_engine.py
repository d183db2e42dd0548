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

Writers take turns. SQLite has one write lock per file, and its busy handler lets a waiting
writer sleep up to 100 ms between tries, so under load a writer that waited long keeps losing
the lock to newcomers and gives up after its timeout (the mixed-load benchmark saw 157 of 191
writes refused with "database is locked"). Here the write transactions of one process queue
in order for an asyncio lock, and the one at the head of the queue waits, in a thread, for an
exclusive flock on a file beside the database: the kernel wakes it the moment the holder in
another process lets go, so between workers the lock changes hands in turn, not by luck.
Every process that writes through this engine (servers, commands, the clock) takes part.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

# Idle connections kept per process: enough for the concurrent requests of one worker.
# Beyond it a connection is closed after use rather than kept.
POOL_SIZE = 16
# The lock file's name beside the database (registry.sqlite -> registry.sqlite-writers).
WRITERS_SUFFIX = "-writers"
# One thread waits for the lock file per process; searches keep the default executor.
_lock_waiter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writers")

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
        self._writers: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._lock_fd: int | None = None
        # read_now's connections, one per thread that asked: thread id -> (connection, file).
        self._direct: dict[int, tuple[sqlite3.Connection, _FileId | None]] = {}
        self._lock_path = ""
        self._seen_kwargs: dict[str, Any] = {}
        self._seen_settings = ""

    def writers(self) -> asyncio.Lock:
        """The queue of this event loop's write transactions (one holds the file's lock)."""
        loop = asyncio.get_running_loop()
        lock = self._writers.get(loop)
        if lock is None:
            # Tests and commands run one loop after another: forget the finished ones.
            self._writers = {k: v for k, v in self._writers.items() if not k.is_closed()}
            lock = self._writers[loop] = asyncio.Lock()
        return lock

    def busy_timeout_s(self) -> float:
        """How long a writer waits for its turn before 'database is locked'."""
        return float(self.connection_kwargs.get("timeout", 5.0))

    def _lock_descriptor(self) -> int:
        path = f"{self.path}{WRITERS_SUFFIX}"
        if self._lock_fd is None or self._lock_path != path:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
            self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            self._lock_path = path
        return self._lock_fd

    async def take_turn(self) -> int:
        """Wait for the writers' lock file; returns the descriptor to `end_turn` with."""
        descriptor = self._lock_descriptor()
        abandoned = threading.Event()

        def wait() -> bool:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if abandoned.is_set():  # the request gave up meanwhile: pass the turn on
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                return False
            return True

        waiting = asyncio.get_running_loop().run_in_executor(_lock_waiter, wait)
        try:
            await asyncio.wait_for(asyncio.shield(waiting), self.busy_timeout_s())
        except (TimeoutError, asyncio.CancelledError) as error:
            abandoned.set()
            # Granted just before giving up: the callback lets go of it.
            waiting.add_done_callback(
                lambda done: done.result() and fcntl.flock(descriptor, fcntl.LOCK_UN)
            )
            if isinstance(error, TimeoutError):
                raise sqlite3.OperationalError("database is locked") from None
            raise
        return descriptor

    @staticmethod
    def end_turn(descriptor: int) -> None:
        """Let the next writer (of any process) have the lock file."""
        fcntl.flock(descriptor, fcntl.LOCK_UN)

    def _settings(self) -> str:
        # The busy timeout is changed once a server starts (registry.db.serve_requests):
        # connections opened before keep the old one, so they are not reused after.
        if self.connection_kwargs != self._seen_kwargs:  # a few items: cheaper than repr
            self._seen_kwargs = dict(self.connection_kwargs)
            self._seen_settings = repr(sorted(self._seen_kwargs.items()))
        return self._seen_settings

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

    def read_now(self, sql: str) -> list[dict[str, Any]] | None:
        """A one-row read on the calling thread, without the pool's hop to a connection thread
        (which costs more than the read); None when the file is busy: ask the pool then.

        For reads on the hot path of every request (the whitelist's generation): in WAL mode a
        reader does not wait for writers, and each statement sees what is committed when it
        starts, as a pooled read would.
        """
        file_id = _file_id(self.path)
        thread = threading.get_ident()
        found = self._direct.get(thread)
        if found is None or found[1] != file_id:
            if found is not None:
                found[0].close()
            # timeout=0: never hold the event loop waiting for a lock.
            connection = sqlite3.connect(
                self.path, timeout=0, isolation_level=None, check_same_thread=False
            )
            connection.row_factory = dict_factory
            connection.execute("PRAGMA query_only = 1")
            found = self._direct[thread] = (connection, file_id)
        try:
            return list(found[0].execute(sql))
        except sqlite3.OperationalError:
            return None

    async def close_connection_pool(self) -> None:
        """Close every idle connection (end of a test, or of a server)."""
        direct, self._direct = self._direct, {}
        for connection, _ in direct.values():
            connection.close()
        idle, self._idle = self._idle, []
        for pooled in idle:
            self._opened.pop(id(pooled.connection), None)
            await pooled.connection.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

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
    """A transaction that gives its connection back to the pool instead of closing it, and
    whose writes wait their turn (see the module docstring)."""

    engine: PooledSQLiteEngine
    _queued: asyncio.Lock | None = None
    _turn: int | None = None

    async def get_connection(self) -> aiosqlite.Connection:
        return await self.engine.acquire()

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        try:
            if self.transaction_type is TransactionType.immediate:
                self._queued = self.engine.writers()
                await self._queued.acquire()
                self._turn = await self.engine.take_turn()
            self.connection = await self.get_connection()
            try:
                await self.begin()
            except BaseException:  # a lock never granted: the connection goes back clean
                await self.engine.release(self.connection)
                raise
        except BaseException:
            self._leave_queue()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    def _leave_queue(self) -> None:
        if self._turn is not None:
            self.engine.end_turn(self._turn)
            self._turn = None
        if self._queued is not None:
            self._queued.release()
            self._queued = None

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
            self._leave_queue()
        return exception is None
