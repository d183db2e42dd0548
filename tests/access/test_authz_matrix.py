"""Every route of the app, called by every actor, answers as tests/access/authz_matrix.py says.

The routes are read from the app at test time (Litestar's routes, and piccolo-admin's mounted
under /admin), so a new route without a row fails here, as does a row for a route that is gone.
Records come from one world per module (tests/access/world.py, plus the extras of
tests/access/authz_world.py); every answer is checked against its row, no answer may be a 5xx,
and a refused write must leave every table as it was. A write meant to succeed meets the world
as it was built, and the world is put back after it.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import ASGIRoute, HTTPRoute

from admin import create_admin_app, table_configs
from tests.access.authz_matrix import (
    ACTORS,
    ADMIN_ROUTES,
    ADMIN_TABLES,
    LOGIN,
    OK,
    ROUTES,
    WRITE_METHODS,
    Expect,
    Row,
)
from tests.access.authz_world import MatrixWorld, build_matrix_world

# Litestar answers OPTIONS on every path by itself (CORS preflight); it reads nothing.
IGNORED_METHODS = frozenset({"OPTIONS"})
PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, path) of every Litestar route handler."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    if method not in IGNORED_METHODS:
                        found.add((method, route.path))
        elif isinstance(route, ASGIRoute):
            found.add(("MOUNT", route.path))
    return found


def _unwrap(app: Any) -> Any:
    # Middleware (rate limits, CSRF, our gate) wraps the routers: follow `.app` to one.
    for _ in range(10):
        if hasattr(app, "routes") or not hasattr(app, "app"):
            return app
        app = app.app
    return app


def _walk(app: Any, prefix: str, found: set[tuple[str, str]]) -> None:
    for route in getattr(app, "routes", []):
        path = prefix + route.path
        inner = _unwrap(getattr(route, "app", None))
        if type(route).__name__ == "Mount":
            if hasattr(inner, "routes"):
                _walk(inner, path, found)
            else:
                found.add(("MOUNT", path))
            continue
        methods = set(getattr(route, "methods", None) or {"GET"})
        if "GET" in methods:
            methods.discard("HEAD")  # Starlette adds HEAD to every GET route
        found.update((method, path) for method in methods)


def admin_routes() -> set[tuple[str, str]]:
    """(method, path) of piccolo-admin's routes under /admin ("MOUNT" for a mounted app)."""
    found: set[tuple[str, str]] = set()
    _walk(_unwrap(create_admin_app()), "/admin", found)
    return found


def test_every_admin_table_has_rows() -> None:
    shown = {config.table_class._meta.tablename for config in table_configs()}
    assert shown == set(ADMIN_TABLES), (
        f"add to ADMIN_TABLES in tests/access/authz_matrix.py: {sorted(shown - set(ADMIN_TABLES))}"
        f"; remove: {sorted(set(ADMIN_TABLES) - shown)}"
    )


def _row_text(method: str, path: str) -> str:
    names = PARAMETER.findall(path)
    params = ", ".join(f'"{n}": "@…"' for n in names)
    return (
        f'route("{method}", "{path}", ok="…", refused=404'
        + (f", params={{{params}}}" if params else "")
        + ("" if method in ("GET", "HEAD") else ", json={…}")
        + "),"
    )


def test_every_route_has_a_row_and_every_row_a_route(app: Litestar) -> None:
    present = app_routes(app)
    assert ("MOUNT", "/admin") in present, "piccolo-admin is no longer mounted at /admin"
    present.discard(("MOUNT", "/admin"))
    present |= admin_routes()
    listed = [row.key for row in (*ROUTES, *ADMIN_ROUTES)]
    twice = {key for key in listed if listed.count(key) > 1}
    assert not twice, f"routes with more than one row: {sorted(twice)}"
    # A mounted app (static assets, piccolo's login) is covered by the rows under it.
    mounts = {path for method, path in present if method == "MOUNT"}
    covered = {("MOUNT", m) for m in mounts for _, path in listed if path.startswith(m + "/")}
    missing = sorted(present - set(listed) - covered)
    gone = sorted(
        key for key in set(listed) - present if not any(key[1].startswith(m + "/") for m in mounts)
    )
    messages = [
        f"{method} {path} has no row: add to ROUTES in tests/access/authz_matrix.py\n    "
        + _row_text(method, path)
        for method, path in missing
    ] + [
        f"{method} {path} is no longer a route of the app: remove its row" for method, path in gone
    ]
    assert not messages, "\n".join(messages)


# --- calling a route ------------------------------------------------------------------------


def _resolve(value: Any, refs: Mapping[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        return refs[value[1:]]
    if isinstance(value, Mapping):
        return {k: _resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    return value


def _url(row: Row, refs: Mapping[str, Any]) -> str:
    params = _resolve(row.params, refs)
    return PARAMETER.sub(lambda m: str(params[m.group(1)]), row.path)


async def call(world: MatrixWorld, app: Litestar, row: Row, actor: str) -> httpx.Response:
    """The row's request, sent as the actor (their cookies, their CSRF header)."""
    refs = world.refs_for(actor)
    transport = httpx.ASGITransport(app=app, client=(world.address_of(actor), 40000))
    admin = row.path.startswith("/admin")
    headers = {"X-CSRFToken": world.csrf_of(actor, admin)}
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        cookies=world.cookies_of(actor),
        headers=headers,
    ) as client:
        options: dict[str, Any] = {"params": _resolve(row.query, refs)}
        if row.json is not None:
            options["json"] = _resolve(row.json, refs)
        if row.form is not None:
            options["data"] = {k: str(v) for k, v in _resolve(row.form, refs).items()}
        if row.files is not None:
            options["files"] = row.files
        return await client.request(row.method, _url(row, refs), **options)


# Whole numbers as a person would recognise them: 18-character IDs and 11-digit mobiles.
WHOLE_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
WHOLE_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def personal_data(response: httpx.Response) -> list[str]:
    """Whole ID or mobile numbers in an admin answer (admin/privacy.py masks them)."""
    text = response.text
    with_json = text
    if "json" in response.headers.get("content-type", ""):
        with_json += json.dumps(response.json(), ensure_ascii=False)
    return [
        f"serves a whole {what}: {found.group()}"
        for what, pattern in (("ID number", WHOLE_ID), ("mobile number", WHOLE_MOBILE))
        if (found := pattern.search(with_json))
    ]


def judge(expected: Expect, response: httpx.Response) -> bool:
    """Whether the answer is the expected one (see tests/access/authz_matrix.py)."""
    status = response.status_code
    # A page's "please sign in" redirect (after a password change, /login?changed=1 is a success).
    location = response.headers.get("location", "")
    to_login = 300 <= status < 400 and location.startswith("/login?next=")
    if expected == OK:
        return 200 <= status < 400 and not to_login
    if expected == LOGIN:
        return status == 303 and to_login
    return status == expected


def _shown(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    location = response.headers.get("location")
    return f"{response.status_code}" + (f" → {location}" if location else "") + f" {text[:160]}"


async def check(world: MatrixWorld, app: Litestar, row: Row) -> dict[str, list[str]]:
    """Every actor's answer to the row: the problems found, per actor."""
    problems: dict[str, list[str]] = {}
    for actor in ACTORS:
        expected = row.expect[actor]
        write = row.method in WRITE_METHODS
        found: list[str] = []
        if write and expected == OK:
            async with world.fresh_copy():
                response = await call(world, app, row, actor)
        else:
            before = await world.fingerprint() if write else {}
            response = await call(world, app, row, actor)
            if write:
                after = await world.fingerprint()
                changed = sorted(
                    t for t in after if after[t] != before.get(t) and t not in row.refused_writes
                )
                if changed:
                    found.append(f"a refused write changed {', '.join(changed)}")
                if after != before:
                    await world.restore_shared()
        if response.status_code >= 500:
            found.insert(0, f"a server error: {_shown(response)}")
        elif not judge(expected, response):
            found.insert(0, f"expected {expected}, got {_shown(response)}")
        if row.path.startswith("/admin/api/") and response.status_code == 200:
            found += personal_data(response)
        if found:
            problems[actor] = found
    return problems


async def assert_row(world: MatrixWorld, app: Litestar, row: Row) -> None:
    """Fail on any problem, except the row's known bugs (then xfail, until they are fixed)."""
    problems = await check(world, app, row)
    lines = [f"{actor}: {p}" for actor, found in problems.items() for p in found]
    unexpected = [a for a in problems if a not in row.known]
    fixed = [a for a in row.known if a not in problems]
    assert not unexpected, f"{row.method} {row.path}\n" + "\n".join(lines)
    assert not fixed, f"{row.method} {row.path}: fixed, remove from `known`: {fixed}"
    if problems:
        reasons = "; ".join(sorted(set(row.known.values())))
        pytest.xfail(f"known: {reasons}\n" + "\n".join(lines))


@pytest.fixture(scope="module")
async def _matrix_world(template_url: str, app: Litestar) -> AsyncIterator[MatrixWorld]:
    async with build_matrix_world(template_url, app) as built:
        yield built


@pytest.fixture
async def world(_matrix_world: MatrixWorld) -> AsyncIterator[MatrixWorld]:
    """The module's world, its shared copy bound again (other modules bind their own)."""
    async with _matrix_world.bound():
        yield _matrix_world


def _id(row: Row) -> str:
    return f"{row.method} {row.path}"


@pytest.mark.parametrize("row", ROUTES, ids=_id)
async def test_route(world: MatrixWorld, app: Litestar, row: Row) -> None:
    await assert_row(world, app, row)


@pytest.mark.parametrize("row", ADMIN_ROUTES, ids=_id)
async def test_admin_route(world: MatrixWorld, app: Litestar, row: Row) -> None:
    await assert_row(world, app, row)


async def test_rows_name_known_records(world: MatrixWorld) -> None:
    """A typo in a row's reference fails here, not as a puzzling 404."""
    for row in (*ROUTES, *ADMIN_ROUTES):
        text = json.dumps([row.params, row.query, row.json, row.form], ensure_ascii=False)
        for ref in re.findall(r'"@([^"]+)"', text):
            assert ref in world.refs or ref.startswith("me."), f"{_id(row)}: @{ref}"
