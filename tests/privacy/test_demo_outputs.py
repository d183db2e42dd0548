"""Every output of a demo registry, read as each role: no full resident ID or mobile number.

A small demo is seeded (real providers, staff, complaints, objections, evaluation); then the
public, each kind of user and the city in the admin fetch every page, JSON route, export and
PDF the app serves, with the ids the demo holds. The only full numbers anyone may see are a
provider's own, in its own draft while it edits it (DESIGN §3a; registry.access.masking).
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from openpyxl import load_workbook
from piccolo.apps.user.tables import BaseUser
from pypdf import PdfReader

from registry.access.personal_data import open_form
from registry.applications.forms import EDITABLE_STATES
from registry.demo import DEMO_PASSWORD, demo_logins, seed_demo_data
from registry.notices.certificates import verify_code
from registry.tables import (
    Complaint,
    Engagement,
    EvaluationCycle,
    Hearing,
    Incident,
    Listing,
    Membership,
    Organisation,
    School,
)
from tests.conftest import http_client
from workflows.identity import resident_id_check
from workflows.states import Role, State

pytestmark = pytest.mark.slow

RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
ROLES = (Role.provider, Role.reviewer, Role.approver, Role.school, Role.city)
# Served as files or forms to fill, not data: nothing personal can be in them.
SKIPPED = ("/schema", "/static", "/admin", "/login", "/signup", "/account/")


def full_numbers(text: str) -> set[str]:
    """Whole resident IDs (GB 11643 check digit right) and mainland mobile numbers in a text."""
    ids = {m for m in RESIDENT_ID.findall(text) if resident_id_check(m[:17]) == m[17]}
    return ids | set(MOBILE.findall(text))


def readable(response: httpx.Response) -> str:
    """What a reader of the answer sees: the text of a page, JSON, CSV, workbook or PDF."""
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/pdf"):
        reader = PdfReader(io.BytesIO(response.content))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    if "spreadsheetml" in kind:
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        cells = (
            str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
            for v in row if v is not None
        )  # fmt: skip
        return "\n".join(cells)
    return response.text


async def _as_after_migrate() -> None:
    """Remove the test cast, leaving what `registry migrate` creates (as tests/demo does)."""
    await Membership.delete(force=True)
    await BaseUser.delete(force=True)
    await School.delete(force=True)
    await Organisation.delete(force=True)


async def _ids() -> dict[str, list[Any]]:
    """Values for each path parameter: a listing of every state, every other record kind."""
    listings = await Listing.select(Listing.id, Listing.state).order_by(Listing.id)
    by_state: dict[str, int] = {}
    for row in listings:
        by_state.setdefault(row["state"], row["id"])
    public = [r["id"] for r in listings if r["state"] in (State.listed, State.under_rectification)]
    organisations = await Listing.select(Listing.organisation).where(Listing.id.is_in(public[:3]))
    return {
        "listing_id": sorted(by_state.values()),
        "complaint_id": [r["id"] for r in await Complaint.select(Complaint.id)],
        "incident_id": [r["id"] for r in await Incident.select(Incident.id)],
        "engagement_id": [r["id"] for r in await Engagement.select(Engagement.id).limit(3)],
        "cycle_id": await _cycles(by_state[State.listed]),
        "organisation_id": [r["organisation"] for r in organisations],
        "code": [verify_code(i) for i in public[:2]] + ["120101", "120116"],
        "document_id": [],
        "hearing_id": [r["id"] for r in await Hearing.select(Hearing.id).limit(3)],
        "notice_district": [await _district_code(by_state[State.in_public_notice])],
    }


async def _district_code(listing_id: int) -> str:
    row = await Listing.select(Listing.district.code).where(Listing.id == listing_id).first()
    assert row is not None
    return str(row["district.code"])


async def _cycles(listing_id: int) -> list[int]:
    """The evaluation cycles of one listed provider's district (a closed one and an open one).

    Every district has its own cycles, alike in what they hold: one district's stand for all,
    and keep the cycle x listing routes to a few hundred requests.
    """
    district = await Listing.select(Listing.district).where(Listing.id == listing_id).first()
    assert district is not None
    rows = await EvaluationCycle.select(EvaluationCycle.id).where(
        EvaluationCycle.district == district["district"]
    )
    return [r["id"] for r in rows]


def _urls(app: Litestar, ids: dict[str, list[Any]]) -> Iterator[str]:
    """Every GET route of the app with the demo's ids in its path."""
    for route in app.routes:
        if "GET" not in (getattr(route, "methods", None) or ()) or route.path.startswith(SKIPPED):
            continue
        names = re.findall(r"\{(\w+):\w+\}", route.path)
        for values in itertools.product(*(ids[name] for name in names)):
            path = route.path
            for name, value in zip(names, values, strict=True):
                path = re.sub(r"\{" + name + r":\w+\}", str(value), path)
            yield path
    # The list routes at their widest, and every export format.
    yield "/api/v1/listings?page_size=200"
    yield "/api/v1/review/listings?state=all&page_size=200"
    yield "/bureau?state=all"
    yield "/api/v1/whitelist?page_size=100"
    yield f"/api/v1/notices.pdf?district={ids['notice_district'][0]}"
    for fmt in ("csv", "xlsx", "json", "pdf"):
        yield f"/api/v1/whitelist/export?district=120101&format={fmt}"


async def _client(app: Litestar, username: str | None) -> httpx.AsyncClient:
    client = http_client(app)
    await client.__aenter__()
    if username is not None:
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, response.text
    return client


async def _provider_and_own_numbers() -> tuple[str, dict[str, set[str]]]:
    """A demo provider with a draft it edits, and the numbers in that draft by where shown."""
    logins = [login for login in await demo_logins() if login.role == Role.provider]
    editable = [s.value for s in EDITABLE_STATES]
    for login in logins:
        membership = await Membership.select(Membership.organisation).where(
            Membership.user.username == login.username
        )
        drafts = await (
            Listing.select(Listing.id, Listing.form)
            .where(
                (Listing.organisation == membership[0]["organisation"])
                & Listing.state.is_in(editable)
            )
            .output(load_json=True)
        )
        if drafts:
            own: dict[str, set[str]] = {}
            for draft in drafts:
                numbers = full_numbers(str(open_form(draft["form"])))  # stored sealed
                own[f"/api/v1/listings/{draft['id']}/form"] = numbers
                own[f"/provider/applications/{draft['id']}"] = numbers
            return login.username, own
    return logins[0].username, {}


async def test_no_output_shows_a_full_number_its_reader_may_not_see(
    db: object, app: Litestar
) -> None:
    await _as_after_migrate()
    await seed_demo_data(seed=5, organisations=24)  # complaints with phones
    ids = await _ids()
    urls = list(_urls(app, ids))
    provider, own = await _provider_and_own_numbers()
    logins = {login.role: login.username for login in reversed(await demo_logins())}
    readers: dict[str, str | None] = {"anonymous": None, **{r.value: logins[r] for r in ROLES}}
    readers["provider"] = provider
    leaks: list[str] = []
    seen_own = 0
    for name, username in readers.items():
        client = await _client(app, username)
        try:
            for url in urls:
                response = await client.get(url)
                allowed = own.get(url, set()) if name == "provider" else set()
                found = full_numbers(readable(response))
                seen_own += len(found & allowed)
                leaks += [f"{name} {url}: {n}" for n in sorted(found - allowed)]
        finally:
            await client.aclose()
    leaks += await _admin_leaks(app, logins[Role.city])
    assert not leaks, "\n".join(leaks[:20])
    # The exception is real: the provider does see its own draft's numbers in full.
    assert not own or seen_own


async def _admin_leaks(app: Litestar, city: str) -> list[str]:
    """The admin's table API as the city: every table's rows and one row of each."""
    async with http_client(app) as client:
        await client.get("/admin/")
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
        login = await client.post(
            "/admin/public/login/", json={"username": city, "password": DEMO_PASSWORD}
        )
        assert login.status_code == 200, login.text
        tables = (await client.get("/admin/api/tables/")).json()
        assert "organisation" in tables
        leaks = []
        for table in tables:
            listing = await client.get(f"/admin/api/tables/{table}/?__page_size=100")
            assert listing.status_code == 200, (table, listing.text)
            urls = [f"/admin/api/tables/{table}/?__page_size=100"]
            rows = listing.json().get("rows") or []
            urls += [f"/admin/api/tables/{table}/{r['id']}/" for r in rows[:5] if "id" in r]
            for url in urls:
                text = (await client.get(url)).text
                leaks += [f"city admin {url}: {n}" for n in sorted(full_numbers(text))]
        return leaks
