"""Walk a running registry as each demo role and report pages that fail a person.

    .venv/bin/python scripts/audit_pages.py [--base URL] [--width 375] [--limit 40]

For each role (anonymous, then the demo logins) it follows the links of the pages it reaches,
breadth first (at most two pages of each shape, e.g. /bureau/listings/N), and prints every page
that scrolls sideways at the width, fails axe-core's WCAG 2.1 AA rules, answers an error or
raises a script error. The browser tests check the same on each role's journey; this walks the
whole demo data. Needs the test extras (Playwright, axe-playwright-python) and Debian Chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.page_checks import AXE, WCAG_AA  # noqa: E402

DEMO_PASSWORD = "Demo-2026-tj"
ROLES = (None, "provider_1", "provider_4", "reviewer_120101", "approver_120101", "school_1", "city")
SKIPPED = re.compile(r"^/(api|admin|static|schema)\b|^/logout$|\.(pdf|xlsx|csv|json)$")


def _local(href: str, host: str) -> str | None:
    """A page to visit (path and query), or None for files, the API and other hosts."""
    url = urlparse(href)
    if (url.netloc and url.netloc != host) or SKIPPED.search(url.path):
        return None
    return url.path + (f"?{url.query}" if url.query and "page=" not in url.query else "")


async def _walk(browser: Any, base: str, user: str | None, width: int, limit: int) -> int:
    context = await browser.new_context(
        base_url=base, locale="zh-CN", viewport={"width": width, "height": 800}
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    if user:
        await page.goto("/login")
        await page.fill("input[name=username]", user)
        await page.fill("input[name=password]", DEMO_PASSWORD)
        await page.click("main button[type=submit]")
        await page.wait_for_load_state()
    host = urlparse(base).netloc
    queue = [urlparse(page.url).path if user else "/"]
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    failures = 0
    while queue and len(seen) < limit:
        path = queue.pop(0)
        shape = re.sub(r"\d+", "N", path.split("?")[0])
        if path in seen or shapes.get(shape, 0) >= 2:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        seen.add(path)
        response = await page.goto(path)
        if response is None or response.status >= 400:
            print(f"{user or '公众'} {path}: HTTP {response.status if response else '—'}")
            failures += 1
            continue
        wide = await page.evaluate("document.documentElement.scrollWidth")
        await page.evaluate(AXE)
        found = await page.evaluate(
            "rules => axe.run(document, {runOnly: {type: 'tag', values: rules}})", WCAG_AA
        )
        violations = [(v["id"], len(v["nodes"])) for v in found["violations"]]
        if violations or wide > width or errors:
            failures += 1
            print(f"{user or '公众'} {path}: 宽 {wide}px, axe {violations}, 脚本错误 {errors[:2]}")
        errors.clear()
        for href in await page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            local = _local(href, host)
            if local and local not in seen:
                queue.append(local)
    print(f"-- {user or '公众'}: {len(seen)} 页，{failures} 页有问题")
    await context.close()
    return failures


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--width", type=int, default=375)
    parser.add_argument("--limit", type=int, default=40, help="pages per role")
    args = parser.parse_args()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        failures = 0
        for user in ROLES:
            failures += await _walk(browser, args.base, user, args.width, args.limit)
        await browser.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
