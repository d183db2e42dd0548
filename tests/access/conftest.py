"""One world per module: the scope matrix only reads it, so it is built once, not per case."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from piccolo.engine.base import Engine

from registry.db import make_engine, sqlite_path
from tests.access.world import World, build_world
from tests.conftest import POSTGRES, _admin_execute, _with_database, bind


@pytest.fixture(scope="module")
async def _world_database(template_url: str) -> AsyncIterator[tuple[Engine, World]]:
    """A copy of the template database holding the world, for every test of one module."""
    module = f"world_{os.getpid()}_{id(object())}"
    if POSTGRES:
        template = urlparse(template_url).path.lstrip("/")
        name = f"{template}_{module}"
        await _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        engine = make_engine(_with_database(template_url, name))
        try:
            bind(engine)
            yield engine, await build_world()
        finally:
            await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        source = Path(sqlite_path(template_url))
        path = source.with_name(f"{module}.sqlite")
        shutil.copyfile(source, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            bind(engine)
            yield engine, await build_world()
        finally:
            await engine.close_connection_pool()  # type: ignore[attr-defined]
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def world(_world_database: tuple[Engine, World]) -> World:
    """The module's world, its database bound again (other tests bind their own)."""
    engine, built = _world_database
    bind(engine)
    return built
