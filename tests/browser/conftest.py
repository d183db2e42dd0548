"""A real server on the test's database, and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from piccolo.engine.base import Engine

from tests.cli_runner import database_url
from workflows import timesource

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def live_server(db: Engine) -> AsyncIterator[str]:
    """`registry serve` in a subprocess on the test database; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": database_url(db),
        "REGISTRY_CLOCK_INTERVAL": "0",  # tests fire the clock themselves
    }
    # The server reads the same frozen clock as the test (tests/conftest.py), not the machine's.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.frozen_cli", timesource.now().isoformat(),
        "serve", "--port", str(port),
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    if (await client.get(f"{base}/api/v1/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.returncode is not None:
                    raise RuntimeError("the server stopped during start-up")
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the server did not start within 10 s")
        yield base
    finally:
        process.terminate()
        await process.wait()


@pytest.fixture
async def chromium(live_server: str) -> AsyncIterator[Any]:
    """Headless Debian Chromium (Playwright, async API); skipped where it is not installed."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        # Chromium keeps the machine's real clock: under libfaketime (how the suite is checked
        # at other dates) its timers stall; the server under test reads the frozen clock anyway.
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and "FAKETIME" not in k}
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env
        )
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Any, base_url: str, width: int = 1280, height: int = 800) -> Any:
    """A page in a fresh context (its own cookies) of the given viewport."""
    context = await browser.new_context(
        base_url=base_url,
        locale="zh-CN",
        viewport={"width": width, "height": height},
        is_mobile=width < 600,
        has_touch=width < 600,
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
async def browser_page(chromium: Any, live_server: str) -> Any:
    """A desktop-sized Chromium page on the live server."""
    return await new_page(chromium, live_server)
