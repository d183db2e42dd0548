"""No page shows an internal code: every event, actor, state and message is in Chinese words.

The demo data (every state, evaluations, hearings, complaints) is seeded once; each demo role
and an anonymous visitor then walk the pages their links lead to, a few of each kind, and any
visible text that looks like a code (`application.created`, `in_review`, `clock`, `None`) fails.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import httpx
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser

from registry.access.accounts import actor_for
from registry.demo import DEMO_PASSWORD, demo_logins, seed_demo_data
from registry.pages.auth import home_of
from registry.tables import Membership, Organisation, School
from tests.conftest import http_client
from workflows.states import Role

# Enough providers for every state and an evaluation, small enough to seed in a few seconds.
ORGANISATIONS = 24
# Pages per role, and pages per kind of page (the path with its numbers taken out): a few
# listings in different states, not all of them.
MAX_PAGES = 120
PER_KIND = 6
MUST_SEE = {
    "/providers/N",
    "/provider/applications/N",
    "/bureau/listings/N",
    "/bureau/evaluation/N",
    "/school",
    "/notices",
}
SKIP_PATHS = ("/api/", "/admin", "/static/", "/logout", "/schema")
SKIP_SUFFIXES = (".pdf", ".csv", ".xlsx", ".json", ".png", ".svg", ".ico")

CODE_PATTERNS = {
    "dotted code": re.compile(r"\b[a-z]+(?:_[a-z0-9]+)*\.[a-z_]+\b"),
    "snake_case": re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b"),
    "Python or JSON value": re.compile(r"\b(?:None|null|True|False|undefined|NaN)\b"),
    # A lower-case English word in a Chinese page is a code (clock, public, listed, manual…).
    "English word": re.compile(r"(?<![A-Za-z0-9_.@/-])[a-z]{3,}(?![A-Za-z0-9_@/-])"),
}
# Words a Chinese page may show in Latin letters (units, formats, product names).
ALLOWED = {"pdf", "xlsx", "csv", "json", "http", "https", "www", "lanqiu"}
# Text that is data, not a code: file names, e-mail addresses, web addresses.
DATA_TEXT = re.compile(
    r"\S+\.(?:pdf|png|jpe?g|docx?|xlsx?|csv|json|zip)\b"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|https?://\S+",
    re.IGNORECASE,
)


# Elements whose text is not the page's words: scripts and styles, and what is marked as code
# or typed by the user (a rubric's item keys, its JSON editor, a file's column headers).
UNSHOWN = ("script", "style", "template", "code", "textarea")


class _Text(HTMLParser):
    """The visible text of a page (no script, style, code or attribute values) and its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in UNSHOWN:
            self._hidden += 1
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in UNSHOWN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.text.append(data.strip())


def codes_in(text: str) -> Iterator[tuple[str, str]]:
    """(kind, match) for each piece of text that looks like an internal code."""
    text = DATA_TEXT.sub(" ", text)
    for kind, pattern in CODE_PATTERNS.items():
        for match in pattern.finditer(text):
            if match.group(0).lower() not in ALLOWED:
                yield kind, match.group(0)


def _kind_of(path: str) -> str:
    # /verify/12-K1AB3… and /providers/12 alike: a segment with a number in it is a key.
    return re.sub(r"[^/]*\d[^/]*", "N", path)


async def _walk(
    client: httpx.AsyncClient, start: list[str], kinds: set[str]
) -> dict[str, list[str]]:
    """Visit the pages reachable from `start`; {page: [problems]} for pages showing codes.

    Adds the kind of every page shown to `kinds`.
    """
    problems: dict[str, list[str]] = defaultdict(list)
    queue, seen = list(start), set(start)
    per_kind: dict[str, int] = defaultdict(int)
    visited = 0
    while queue and visited < MAX_PAGES:
        path = queue.pop(0)
        response = await client.get(path)
        visited += 1
        assert response.status_code < 500, f"{path} answered {response.status_code}"
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        kinds.add(_kind_of(urlsplit(path).path))
        page = _Text()
        page.feed(response.text)
        for line in page.text:
            for kind, found in codes_in(line):
                problems[path].append(f"{kind} {found!r} in {line[:80]!r}")
        for href in page.links:
            target = urldefrag(href).url
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not target.startswith("/"):
                continue
            if target.startswith(SKIP_PATHS) or parts.path.endswith(SKIP_SUFFIXES):
                continue
            kind = _kind_of(parts.path)
            if target in seen or per_kind[kind] >= PER_KIND:
                continue
            seen.add(target)
            per_kind[kind] += 1
            queue.append(target)
    return problems


async def _sign_in(client: httpx.AsyncClient, username: str) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text


async def _demo_only() -> None:
    """The demo data set on a database with only districts and categories (no test cast)."""
    await Membership.delete(force=True)
    await BaseUser.delete(force=True)
    await School.delete(force=True)
    await Organisation.delete(force=True)
    await seed_demo_data(seed=7, organisations=ORGANISATIONS)


async def test_no_page_shows_an_internal_code(db: object, app: Litestar) -> None:
    await _demo_only()
    logins = await demo_logins()
    organisations = await Organisation.select(Organisation.id).order_by(Organisation.id)
    public_pages = ["/", "/notices", *(f"/providers/{o['id']}" for o in organisations[:12])]
    report: dict[str, list[str]] = {}
    kinds: set[str] = set()
    async with http_client(app) as anonymous:
        for page, found in (await _walk(anonymous, public_pages, kinds)).items():
            report[f"anonymous {page}"] = found
    roles = (Role.provider, Role.reviewer, Role.approver, Role.school, Role.city)
    for role in roles:
        # Two people of each role (different districts, schools, providers) see different rows.
        for login in [x for x in logins if x.role == role][:2]:
            async with http_client(app) as client:
                await _sign_in(client, login.username)
                me = (await client.get("/api/v1/auth/me")).json()
                start = ["/", home_of(await actor_for(me["id"]))]
                for page, found in (await _walk(client, start, kinds)).items():
                    report[f"{login.username} {page}"] = found
    # The walk reached the pages with histories, decisions and names (not only the lists).
    assert kinds >= MUST_SEE, sorted(MUST_SEE - kinds)
    # Each code once, with the first page that showed it.
    first: dict[str, str] = {}
    for page, found in report.items():
        for problem in found:
            first.setdefault(problem.split(" in ")[0], f"{page}: {problem}")
    assert not first, f"{len(first)} internal codes shown:\n" + "\n".join(first.values())
