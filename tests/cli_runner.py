"""Run the real `registry` command against the test's database, in a subprocess."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from workflows import timesource


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def database_url(engine: Engine) -> str:
    """The URL of the engine a test is bound to."""
    if isinstance(engine, PostgresEngine):
        return str(engine.config["dsn"])
    return f"sqlite:///{engine.path}"  # type: ignore[attr-defined]


async def registry(engine: Engine, *args: str, stdin: str = "") -> Run:
    """`registry ARGS` on the test database, its clock frozen at the test's now."""
    env = {**os.environ, "REGISTRY_DATABASE_URL": database_url(engine)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.frozen_cli",
        timesource.now().isoformat(),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await process.communicate(stdin.encode())
    return Run(process.returncode or 0, out.decode(), err.decode())
