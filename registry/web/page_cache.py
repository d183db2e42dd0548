"""Public pages kept by each worker, as they were sent, until anything public changes.

A provider's page, a certificate's verify page and the search page read five to ten rows and
render a large template: about 10 ms of one worker's time, nearly all of it Python (building
Piccolo queries, Jinja), for pages that parents open all morning and that change a few times a
day. A page built for an anonymous visitor is the same for every anonymous visitor, so each
worker keeps recent ones, like a CDN in front of warehouse's project pages, and purges them the
way the search answers are purged: by the whitelist generation
(registry/public/search/generation.py), which the database moves in the transaction that changes
anything these pages show (a whitelist entry, a listing's state, an organisation's name, a
district). The generation is read before the page is built, so a page is never kept under a
generation newer than its data. The whitelist search's JSON (GET /api/v1/whitelist) is kept the
same way: its answers were cached already, yet validating the parameters and encoding the answer
again held a worker to half the rate of a kept page.

Only anonymous GETs of routes that opt in (`opt={PUBLIC_PAGE: True}`) are kept: a visitor with a
session cookie always gets a page built for them (it shows their name and a logout form with
their CSRF token). Cookies the page set (the CSRF cookie) are not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from registry.public.search import generation
from registry.public.search.cache import AnswerCache
from registry.web.security import session_token
from workflows.timesource import local_today

# The route opt that lets a page be kept.
PUBLIC_PAGE = "public_page"
# Pages are 10–40 KB: a few hundred cost a few megabytes per worker.
PAGES_KEPT = 256
# A provider that was never listed is a 404 page, the same for everyone until it is listed.
KEPT_STATUSES = frozenset({200, 404})


@dataclass(frozen=True)
class _Page:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


def _opted_in(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return bool(handler is not None and handler.opt.get(PUBLIC_PAGE))


def _has_session(scope: Scope) -> bool:
    # The cookie as the rest of the app reads it (litestar's lenient parser).
    return session_token(Request(scope)) is not None


class _Capture:
    """The answer as the route sends it, kept if it completes in one piece."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: tuple[tuple[bytes, bytes], ...] = ()
        self.chunks: list[bytes] = []
        self.complete = False

    def add(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            # Copied now: before_send hooks replace the message's list after this.
            self.headers = tuple(
                (name, value)
                for name, value in message.get("headers", [])
                if name.lower() != b"set-cookie"
            )
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            self.complete = not message.get("more_body", False)

    def page(self) -> _Page:
        return _Page(self.status, self.headers, b"".join(self.chunks))


def page_cache(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: answer an anonymous GET of a public page from this worker's copy."""
    pages: AnswerCache[_Page] = AnswerCache(PAGES_KEPT)

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not _opted_in(scope)
            or _has_session(scope)
        ):
            await app(scope, receive, send)
            return
        seen = await generation.current()
        if seen is None:  # no generation row: nothing could say when a page goes stale
            await app(scope, receive, send)
            return
        # Pages say what holds today (a certificate expires at midnight, Asia/Shanghai).
        key: tuple[str, bytes, date] = (scope["path"], scope["query_string"], local_today())
        page = pages.get(seen, key)
        if page is not None:
            await send(
                {"type": "http.response.start", "status": page.status, "headers": page.headers}
            )
            await send({"type": "http.response.body", "body": page.body})
            return
        capture = _Capture()

        async def keeping(message: Message) -> None:
            capture.add(message)
            await send(message)

        await app(scope, receive, keeping)
        if capture.complete and capture.status in KEPT_STATUSES:
            pages.put(seen, key, capture.page())

    return serve
