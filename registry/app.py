"""create_app(): the one composition root (API, pages, admin mount)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from litestar import Litestar, asgi
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import Receive, Scope, Send
from piccolo.engine.postgres import PostgresEngine
from swagger_ui_bundle import swagger_ui_path

from admin import create_admin_app
from registry.api import (
    applications,
    certificates,
    complaints,
    documents,
    engagements,
    evaluation,
    evaluation_documents,
    incidents,
    notices,
    organisations,
    public,
    review,
    supplements,
    whitelist,
)
from registry.api.auth import AuthController
from registry.api.health import health
from registry.api.listings import ListingController
from registry.db import DatabaseUnreachable, serve_requests, unreachable_message
from registry.oversight.reminders import remind
from registry.pages import auth as auth_pages
from registry.pages import bureau, bureau_actions, provider, verify
from registry.pages import city as city_pages
from registry.pages import complaints as complaint_pages
from registry.pages import dashboard as dashboard_pages
from registry.pages import downloads as download_pages
from registry.pages import evaluation_inputs as evaluation_input_pages
from registry.pages import hearings as hearing_pages
from registry.pages import imports as import_pages
from registry.pages import incidents as incident_pages
from registry.pages import notices as notice_pages
from registry.pages import providers as provider_pages
from registry.pages import schools as school_pages
from registry.pages import search as search_pages
from registry.pages.common import STATIC, template_config
from registry.pages.evaluation import confirm as evaluation_confirm_pages
from registry.pages.evaluation import cycles as evaluation_cycle_pages
from registry.pages.evaluation import results as evaluation_result_pages
from registry.pages.evaluation import rubric as rubric_pages
from registry.pages.evaluation import rubric_editor as rubric_editor_pages
from registry.settings import Settings, get_settings
from registry.shared import shared_store, worker_holder
from registry.sqlite_engine import PooledSQLiteEngine
from registry.tables import District
from registry.web.admission import admission
from registry.web.errors import EXCEPTION_HANDLERS
from registry.web.page_cache import page_cache
from registry.web.security import add_security_headers, csrf_config, origin_guard
from workflows import timesource
from workflows.audit import anchor_daily
from workflows.clock import tick
from workflows.timesource import local_today


def _admin_mount(settings: Settings) -> Any:
    admin_app = create_admin_app(settings)

    @asgi("/admin", is_mount=True, copy_scope=True)
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        # The mount strips its prefix from `path`; `raw_path` still tells /admin from /admin/.
        if scope["type"] == "http" and scope.get("raw_path") == b"/admin":
            # piccolo-admin's asset links are relative: the bare /admin must gain its slash.
            await send(
                {
                    "type": "http.response.start",
                    "status": 308,
                    "headers": [(b"location", b"/admin/")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await admin_app(scope, receive, send)

    return admin


SWAGGER_STATIC = "/static/swagger-ui"


def openapi_config() -> OpenAPIConfig:
    """OpenAPI at /schema: Swagger UI served from this app (no CDN), the JSON and YAML specs."""
    return OpenAPIConfig(
        title="课后服务机构白名单 API",
        version="1",
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                path=["/", "/swagger"],
                js_url=f"{SWAGGER_STATIC}/swagger-ui-bundle.js",
                css_url=f"{SWAGGER_STATIC}/swagger-ui.css",
                standalone_preset_js_url=f"{SWAGGER_STATIC}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' href='{SWAGGER_STATIC}/favicon-32x32.png'>",
            ),
            JsonRenderPlugin(),
            YamlRenderPlugin(),
        ],
    )


async def open_database_pool() -> None:
    """One connection pool per worker (on SQLite, connections kept open between queries,
    which wait seconds rather than half a minute for a lock while serving requests).

    A database that cannot be reached stops start-up with one line saying so.
    """
    engine = District._meta.db
    serve_requests(engine)
    if isinstance(engine, PostgresEngine):
        dsn = str(engine.config.get("dsn", ""))
        try:
            await engine.start_connection_pool()
        except Exception as error:
            message = unreachable_message(dsn, error)
            if message is None:
                raise
            logging.getLogger("registry").error(message)
            raise DatabaseUnreachable(message) from None


async def close_database_pool() -> None:
    """Release the pool on shutdown."""
    engine = District._meta.db
    if isinstance(engine, PooledSQLiteEngine):
        await engine.close_connection_pool()
    # No pool when start-up failed: nothing to close (and no warning saying so).
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


CLOCK_LEASE = "clock"
# The lease outlives a few missed ticks, so a slow tick does not hand the clock over, while a
# worker that died is replaced within that many intervals.
CLOCK_LEASE_INTERVALS = 3


async def clock_turn(holder: str, interval_seconds: int) -> bool:
    """Take or renew the clock's lease and, if this worker holds it, tick; True if it ticked.

    Every worker calls this each interval, but only the lease's holder ticks: one clock for
    the whole deployment, and another worker takes over when the holder stops renewing.
    """
    log = logging.getLogger("registry.clock")
    ttl = timedelta(seconds=interval_seconds * CLOCK_LEASE_INTERVALS)
    if not await shared_store().acquire(CLOCK_LEASE, holder, ttl, timesource.now()):
        return False
    log.info("clock tick by %s", holder)
    fired = await tick()
    if fired:
        log.info("clock applied %s", dict(fired))
    given = await remind(local_today(), timesource.now())
    if given:
        log.info("reminders given %s", dict(given))
    # Once a day the chain's head goes to the anchor file (a no-op the rest of the day).
    if await anchor_daily():
        log.info("audit chain head anchored")
    return True


async def run_clock(interval_seconds: int, holder: str | None = None) -> None:
    """Tick the clock forever in whichever worker holds its lease (ticks stay idempotent, so a
    handover mid-tick does no harm); the lease is given up when the loop is stopped."""
    log = logging.getLogger("registry.clock")
    holder = holder or worker_holder()
    try:
        while True:
            try:
                await clock_turn(holder, interval_seconds)
            except Exception:  # the next turn retries; a bad tick must not stop the clock
                log.exception("clock tick failed")
            await asyncio.sleep(interval_seconds)
    finally:
        # A worker shutting down lets another take the clock now rather than at expiry.
        with contextlib.suppress(Exception):
            await asyncio.shield(shared_store().release(CLOCK_LEASE, holder))


def clock_lifespan(settings: Settings) -> Any:
    """Run the clock beside the server unless REGISTRY_CLOCK_INTERVAL is 0."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        task = (
            asyncio.create_task(run_clock(settings.clock_interval_seconds))
            if settings.clock_interval_seconds > 0
            else None
        )
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                # Wait for the lease's release before the database pool closes.
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the Litestar application."""
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO)
    return Litestar(
        route_handlers=[
            *auth_pages.ROUTES,
            *organisations.ROUTES,
            *applications.ROUTES,
            *documents.ROUTES,
            *supplements.ROUTES,
            *review.ROUTES,
            *notices.ROUTES,
            *certificates.ROUTES,
            *provider.ROUTES,
            *bureau.ROUTES,
            *dashboard_pages.ROUTES,
            *city_pages.ROUTES,
            *bureau_actions.ROUTES,
            *import_pages.ROUTES,
            *notice_pages.ROUTES,
            *verify.ROUTES,
            *whitelist.ROUTES,
            *search_pages.ROUTES,
            *download_pages.ROUTES,
            *engagements.ROUTES,
            *school_pages.ROUTES,
            *public.ROUTES,
            *provider_pages.ROUTES,
            *complaints.ROUTES,
            *incidents.ROUTES,
            *evaluation.ROUTES,
            *evaluation_documents.ROUTES,
            *complaint_pages.ROUTES,
            *incident_pages.ROUTES,
            *evaluation_cycle_pages.ROUTES,
            *evaluation_result_pages.ROUTES,
            *evaluation_confirm_pages.ROUTES,
            *rubric_pages.ROUTES,
            *rubric_editor_pages.ROUTES,
            *evaluation_input_pages.ROUTES,
            *hearing_pages.ROUTES,
            create_static_files_router(path="/static", directories=[STATIC]),
            create_static_files_router(path=SWAGGER_STATIC, directories=[swagger_ui_path]),
            health,
            AuthController,
            ListingController,
            _admin_mount(settings),
        ],
        middleware=[admission, origin_guard, page_cache],
        before_send=[add_security_headers],
        csrf_config=csrf_config(settings),
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=template_config(),
        openapi_config=openapi_config(),
        on_startup=[open_database_pool],
        lifespan=[clock_lifespan(settings)],
        on_shutdown=[close_database_pool],
        debug=settings.debug,
    )
