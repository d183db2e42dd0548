"""The public certificate verification page: what a certificate's QR code says, now."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from registry.notices.certificates import STANDING_LABELS, certificate_of, listing_id_of
from registry.pages.common import maybe_actor, render
from registry.web.page_cache import PUBLIC_PAGE
from workflows.engine import local_today

# The answer is about now: no cache (a browser's or a proxy's) may keep yesterday's.
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


@get("/verify", include_in_schema=False)
async def verify_form(
    request: Request[Any, Any, Any], code: Annotated[str, QueryParameter()] = ""
) -> Template | Redirect:
    """Type the code printed under a certificate's QR code (or paste its address)."""
    # A pasted address keeps only its last part; spaces typed from paper are dropped.
    typed = "".join(code.strip().rstrip("/").rsplit("/", 1)[-1].split()).upper()
    if typed:
        return Redirect(f"/verify/{quote(typed, safe='')}", status_code=303)
    return render("verify_form.html", await maybe_actor(request))


@get("/verify/{code:str}", include_in_schema=False, opt={PUBLIC_PAGE: True})
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


ROUTES: list[Any] = [verify_form, verify_page]
