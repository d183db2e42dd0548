"""The public certificate verification page: what a certificate's QR code says, now."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from registry.notices.certificates import STANDING_LABELS, certificate_of, listing_id_of
from registry.pages.common import maybe_actor, render
from workflows.engine import local_today

# The answer is about now: no cache (a browser's or a proxy's) may keep yesterday's.
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


@get("/verify/{code:str}", include_in_schema=False)
async def verify_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    """Valid, under rectification, suspended, exited or expired; 404 for an unknown code."""
    actor = await maybe_actor(request)
    listing_id = listing_id_of(code)
    certificate = await certificate_of(listing_id) if listing_id is not None else None
    if certificate is None:
        # A forged or mistyped code: a Chinese 404 page that says what to do.
        page = render("verify.html", actor, status_code=404, cert=None)
    else:
        today = local_today()
        standing = certificate.standing(today)
        page = render(
            "verify.html",
            actor,
            cert=certificate,
            standing=standing.value,
            standing_label=STANDING_LABELS[standing],
            today=today,
        )
    page.headers.update(NO_STORE)
    return page


ROUTES: list[Any] = [verify_page]
