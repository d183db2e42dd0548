"""Liveness and what this instance runs on."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import msgspec
from litestar import get

from registry.tables import District
from schemas import SCHEMA_VERSION


class HealthOut(msgspec.Struct):
    status: str
    engine: str
    schema_version: str
    version: str


def _package_version() -> str:
    try:
        return version("tj-whitelist-registry")
    except PackageNotFoundError:
        return "unknown"


@get("/api/v1/health", operation_id="health", tags=["meta"])
async def health() -> HealthOut:
    """The database engine in use and the JSON Schema version."""
    await District.count()  # proves the database answers
    return HealthOut(
        status="ok",
        engine=District._meta.db.engine_type,
        schema_version=SCHEMA_VERSION,
        version=_package_version(),
    )
