"""Liveness and what this instance runs on: the database answers a query, the data folder has
room. 200 when both hold, 503 naming the failing part otherwise (for load balancers and
monitoring)."""

from __future__ import annotations

import asyncio
import os
import shutil
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import msgspec
from litestar import Response, get
from piccolo.engine.sqlite import SQLiteEngine

from registry.settings import get_settings
from registry.tables import District
from schemas import SCHEMA_VERSION

DATABASE_TIMEOUT_S = 5.0
MB = 1024 * 1024


class CheckOut(msgspec.Struct):
    ok: bool
    detail: str


class DiskOut(msgspec.Struct):
    ok: bool
    detail: str
    free_mb: int
    min_free_mb: int


class HealthOut(msgspec.Struct):
    status: str
    engine: str
    schema_version: str
    version: str
    database: CheckOut
    disk: DiskOut
    failing: list[str]


@cache  # reading the installed metadata parses files: once per process, not per probe
def _package_version() -> str:
    try:
        return version("tj-whitelist-registry")
    except PackageNotFoundError:
        return "unknown"


# Written out: building the same count with Piccolo cost a probe more than running it.
_PROBE = "SELECT count(*) AS n FROM district"


async def database_check() -> CheckOut:
    """A real query, bounded in time (a hung connection must not hang the probe)."""
    try:
        await asyncio.wait_for(District.raw(_PROBE), DATABASE_TIMEOUT_S)
    except Exception as error:  # whatever the driver raises, the answer is "not available"
        return CheckOut(False, f"数据库无法访问（{type(error).__name__}）")
    return CheckOut(True, "数据库可用")


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _folders() -> list[Path]:
    folders = [get_settings().var_dir]
    engine = District._meta.db
    if isinstance(engine, SQLiteEngine):  # the database file may live elsewhere
        folders.append(Path(engine.path).parent)
    return [_existing(folder) for folder in folders]


def disk_check() -> DiskOut:
    """Free space of the data folder (uploads, keys) and of a SQLite database's folder,
    against the configured minimum: the fullest one counts."""
    minimum = get_settings().min_free_disk_mb
    folders = _folders()
    free_mb = min(shutil.disk_usage(folder).free // MB for folder in folders)
    # os.access reports a read-only file system even to root (who ignores permissions).
    if not all(os.access(folder, os.W_OK) for folder in folders):
        return DiskOut(False, "数据目录不可写", free_mb, minimum)
    if free_mb < minimum:
        return DiskOut(False, f"剩余空间{free_mb} MB，低于下限{minimum} MB", free_mb, minimum)
    return DiskOut(True, f"剩余空间{free_mb} MB", free_mb, minimum)


@get("/api/v1/health", operation_id="health", tags=["meta"])
async def health() -> Response[HealthOut]:
    """The database engine in use and the JSON Schema version; 503 if a part is failing."""
    database = await database_check()
    disk = disk_check()
    failing = [name for name, check in (("database", database), ("disk", disk)) if not check.ok]
    body = HealthOut(
        status="unavailable" if failing else "ok",
        engine=District._meta.db.engine_type,
        schema_version=SCHEMA_VERSION,
        version=_package_version(),
        database=database,
        disk=disk,
        failing=failing,
    )
    return Response(body, status_code=503 if failing else 200)
