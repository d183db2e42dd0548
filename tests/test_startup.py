"""A database that cannot be reached stops start-up with one line saying so, not a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from registry.app import open_database_pool
from registry.db import DatabaseUnreachable
from tests.cli_runner import registry
from tests.conftest import bind

CLOSED = "postgresql://postgres@127.0.0.1:9/registry"  # the discard port: nobody listens
SAID = "cannot reach PostgreSQL at 127.0.0.1:9: connection refused"
# Piccolo warns on its own when an engine's first version check cannot connect.
pytestmark = pytest.mark.filterwarnings("ignore:.*Unable to connect")


@pytest.mark.parametrize(
    "command", [("migrate",), ("serve", "--port", "8799"), ("tick",), ("audit", "verify")]
)
async def test_commands_say_in_one_line_that_postgresql_is_down(command: tuple[str, ...]) -> None:
    run = await registry(PostgresEngine(config={"dsn": CLOSED}), *command)
    assert run.code == 1
    assert run.err.strip() == SAID
    assert "Traceback" not in run.out + run.err


@pytest.fixture
def closed_database(db: Engine) -> Iterator[None]:
    bind(PostgresEngine(config={"dsn": CLOSED}))
    yield
    bind(db)


async def test_app_start_up_fails_with_the_same_line(closed_database: None) -> None:
    with pytest.raises(DatabaseUnreachable) as failed:
        await open_database_pool()
    assert str(failed.value) == SAID
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
