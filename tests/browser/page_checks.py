"""What every page of a journey must be, at a desk and on a phone.

- No sideways scrolling: the page is no wider than the window.
- axe-core's WCAG 2.1 A and AA rules find nothing (GB/T 37668-2019 follows WCAG 2.1 AA).
- Nothing went wrong in the browser: no script error, no failed request.

Each checked page is kept as a screenshot under var/screenshots/<width>/ for people to look at
(var/ is outside version control).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import axe_playwright_python

AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def watch(page: Any) -> list[str]:
    """Collect the page's script errors and failed requests from now on."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on(
        "requestfailed",
        lambda request: (
            problems.append(f"request failed: {request.url}")
            # A download the page itself started and handed to the browser is not a failure.
            if request.failure not in ("net::ERR_ABORTED",)
            else None
        ),
    )
    return problems


async def check_page(page: Any, name: str, problems: list[str] | None = None) -> None:
    """Assert the page fits, passes axe and had no error; keep its screenshot."""
    await page.wait_for_load_state()
    width = page.viewport_size["width"]
    scrolled = await page.evaluate("document.documentElement.scrollWidth")
    where = f"{page.url} at {width}px"
    assert scrolled <= width, f"{where} scrolls sideways: {scrolled}px wide"
    await page.evaluate(AXE)
    result = await page.evaluate(
        "rules => axe.run(document, {runOnly: {type: 'tag', values: rules}})", WCAG_AA
    )
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in result["violations"]
    ]
    assert not found, f"{where} fails WCAG 2.1 AA:\n" + "\n".join(found)
    assert not problems, f"{where}: " + "; ".join(problems)
    folder = SCREENSHOTS / str(width)
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "-", name)
    await page.screenshot(path=str(folder / f"{safe}.png"), full_page=True)
