"""HTML templates to PDF: one Jinja environment for documents, one WeasyPrint call at a time."""

from __future__ import annotations

import threading
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape

from registry.pages.filters import zh_date

TEMPLATES = Path(__file__).resolve().parent / "templates"
# WeasyPrint (Pango, fontconfig) makes no thread-safety promise: render in a worker thread so
# the event loop keeps serving, but one document at a time.
_RENDER_LOCK = threading.Lock()


def zh_date_short(value: date | None, since: date | None = None) -> str:
    """3月9日 when the year is that of `since` (the end of a period), else 2027年1月4日."""
    if value is not None and since is not None and value.year == since.year:
        return f"{value.month}月{value.day}日"
    return zh_date(value)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The documents' own Jinja environment (autoescaped: names come from the public)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",)))
    env.filters["zh_date"] = zh_date
    env.filters["zh_date_short"] = zh_date_short
    return env


def html_of(template: str, **context: Any) -> str:
    """The document's HTML (tests inspect it before rendering)."""
    return environment().get_template(template).render(**context)


def pdf_of(html: str) -> bytes:
    """Render HTML (with the templates folder as base for the stylesheets) to PDF bytes."""
    from weasyprint import HTML  # imported late: it loads Pango and fonts (about 0.3 s)

    with _RENDER_LOCK:
        return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()  # type: ignore[no-any-return]


async def pdf_in_thread(html: str) -> bytes:
    """`pdf_of` off the event loop."""
    return await anyio.to_thread.run_sync(pdf_of, html)


def attachment(filename: str, ascii_fallback: str) -> str:
    """A Content-Disposition header with a Chinese file name (RFC 6266 / RFC 5987).

    Clients that do not read `filename*` get the ASCII fallback.
    """
    return f"attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{quote(filename)}"
