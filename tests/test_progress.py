"""Long command-line jobs show how far they are: on a terminal a bar, piped nothing extra."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from piccolo.engine.base import Engine

from registry.importing import import_whitelist
from tests.cast import HEPING
from tests.cli_runner import database_url, registry
from tests.importing.test_import import CN_HEADER, GOOD_CN, csv_bytes
from workflows import timesource


async def test_an_import_reports_every_row_then_every_listing(db: Engine) -> None:
    heard: list[tuple[int, int | None]] = []
    report = await import_whitelist(
        csv_bytes([CN_HEADER, *GOOD_CN]),
        HEPING,
        "tester",
        progress=lambda d, t: heard.append((d, t)),
    )
    rows = len(GOOD_CN)
    assert heard[:rows] == [(n, rows) for n in range(1, rows + 1)]  # each row checked
    listed = len(report.imported)
    assert listed == rows and heard[-1] == (listed, listed)  # then each provider listed


def _on_a_terminal(engine: Engine, *args: str) -> str:
    """`registry ARGS` with its output on a pseudo-terminal, as a person at a console sees it."""
    main, child = pty.openpty()
    env = {**os.environ, "REGISTRY_DATABASE_URL": database_url(engine), "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    env.pop("CI", None)  # rich draws no live bar where it believes it runs in CI
    command = [sys.executable, "-m", "tests.frozen_cli", timesource.now().isoformat(), *args]
    process = subprocess.Popen(command, stdout=child, stderr=child, env=env)
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child has closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    # The child closed the terminal and is exiting: a blocking wait needs no timed sleep
    # (libfaketime, which the suite also runs under, breaks time.sleep).
    process.wait()
    os.close(main)
    return seen.decode(errors="replace")


async def test_the_cli_import_draws_a_bar_on_a_terminal_only(db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes([CN_HEADER, *GOOD_CN]))
    seen = _on_a_terminal(db, "import", "whitelist", "--district", HEPING, str(path))
    assert "导入白名单" in seen and "导入3家" in seen.replace(" ", "")
    piped = await registry(db, "import", "whitelist", "--district", HEPING, str(path))
    assert "导入白名单" not in piped.err  # a log gets the report, not the bar
