"""Who gets into the admin (the city and superusers), and that no one gets personal data out.

piccolo-admin's table API answers every column of every row whatever the list view shows, so
each test asks that API directly, as a browser's script or a curl would.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from piccolo.apps.user.tables import BaseUser
from piccolo_api.session_auth.tables import SessionsBase

from admin import table_configs
from registry.access.accounts import revoke_admin_outside_city
from registry.access.personal_data import PHONE, plain
from registry.cli import migrate_database
from registry.oversight import complaints
from registry.pages.common import nav_links
from registry.tables import AuditEvent, Organisation
from tests.access.world import World, build_world
from tests.cast import CAST, PASSWORD, actor
from tests.factories import ASSISTANT_ID, COACH_ID, INDIVIDUAL_ID

Client = httpx.AsyncClient
Login = Callable[[str], Awaitable[Client]]
API = "/admin/api/tables"
_ADDRESSES = itertools.count()
TABLES = sorted(config.table_class._meta.tablename for config in table_configs())
OUTSIDERS = (
    "provider",
    "provider_other",
    "reviewer",
    "approver",
    "reviewer_binhai",
    "school",
    "school_binhai",
)
# Whole numbers as a person would recognise them: 18-character IDs and 11-digit mobiles.
WHOLE_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
WHOLE_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
KNOWN = (
    INDIVIDUAL_ID,
    COACH_ID,
    ASSISTANT_ID,
    "13820001234",  # the form's contact phone
    "15902212345",  # the individual's phone
    "13811112222",  # a complaint's contact
    "13900001111",  # a phone written into a complaint's text
    "友谊路28号",  # the individual's home address
)


async def _login(client: Client, username: str) -> httpx.Response:
    await client.get("/admin/")
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return await client.post(
        "/admin/public/login/", json={"username": username, "password": PASSWORD}
    )


@pytest.fixture
async def clients(db: object, app: Litestar) -> AsyncIterator[Callable[[], Client]]:
    opened: list[Client] = []

    def new() -> Client:
        # piccolo-admin limits logins per client address (20 in 5 minutes, for the whole
        # session's app): each client here comes from its own loopback address.
        number = next(_ADDRESSES)
        peer = (f"127.0.{number // 250 + 1}.{number % 250 + 1}", 40000 + number)
        transport = httpx.ASGITransport(app=app, client=peer)
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        opened.append(client)
        return client

    yield new
    for client in opened:
        await client.aclose()


@pytest.fixture
async def city(clients: Callable[[], Client]) -> Client:
    client = clients()
    assert (await _login(client, "city")).status_code == 200
    return client


async def _first_id(table: str) -> int:
    config = next(c for c in table_configs() if c.table_class._meta.tablename == table)
    row = await config.table_class.select(config.table_class._meta.primary_key).first()
    return int(next(iter(row.values()))) if row else 1


def _all_text(value: Any) -> str:
    """Every string in an answer, JSON held in strings opened up too."""
    if isinstance(value, dict):
        return " ".join(f"{k} {_all_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " ".join(_all_text(v) for v in value)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _all_text(json.loads(value))
        except json.JSONDecodeError:
            return value
    return str(value)


def _assert_no_personal_data(response: httpx.Response) -> None:
    for text in (response.text, _all_text(response.json())):
        assert not WHOLE_ID.search(text), (str(response.url), WHOLE_ID.search(text))
        assert not WHOLE_MOBILE.search(text), (str(response.url), WHOLE_MOBILE.search(text))
        for known in KNOWN:
            assert known not in text, (str(response.url), known)


async def _personal_world() -> World:
    world = await build_world()
    await complaints.lodge(
        world.listings["A"],
        "教练上课迟到，请联系我：13900001111，身份证号" + INDIVIDUAL_ID,
        "13811112222",
        "10.0.0.9",
    )
    return world


# --- who gets in -----------------------------------------------------------------------------


@pytest.mark.parametrize("username", OUTSIDERS)
async def test_everyone_but_the_city_is_refused(
    clients: Callable[[], Client], username: str
) -> None:
    await _personal_world()
    client = clients()
    response = await _login(client, username)
    assert response.status_code == 403
    assert response.json()["detail"] == "该账号无权登录管理后台"
    assert await SessionsBase.count() == 0
    for table in TABLES:
        for path in (f"{API}/{table}/", f"{API}/{table}/{await _first_id(table)}/"):
            answer = await client.get(path)
            assert answer.status_code == 401, (path, answer.text)
            assert "rows" not in answer.text


@pytest.mark.parametrize("username", OUTSIDERS)
async def test_a_session_from_before_is_refused_too(
    clients: Callable[[], Client], username: str
) -> None:
    """A database from before this rule still flags district staff `admin`: the gate refuses
    their sessions on every request, whatever the flag says."""
    await _personal_world()
    user_id = CAST.users[username]
    await BaseUser.update({BaseUser.admin: True}).where(BaseUser.id == user_id)
    session = await SessionsBase.create_session(user_id=user_id)
    client = clients()
    client.cookies.set("id", session.token)
    for table in TABLES:
        for path in (f"{API}/{table}/", f"{API}/{table}/{await _first_id(table)}/"):
            answer = await client.get(path)
            assert answer.status_code == 403, (path, answer.text)
            assert "市教委" in answer.json()["detail"]
    assert (await client.get("/admin/api/user/")).status_code == 403


async def test_migrate_clears_the_admin_flag_outside_the_city(db: object) -> None:
    everyone = [CAST.users[name] for name in (*OUTSIDERS, "city")]
    await BaseUser.update({BaseUser.admin: True}).where(BaseUser.id.is_in(everyone))
    operator = CAST.users["school"]
    await BaseUser.update({BaseUser.superuser: True}).where(BaseUser.id == operator)
    await migrate_database()
    flagged = await BaseUser.select(BaseUser.id).where(BaseUser.admin == True)  # noqa: E712
    assert {r["id"] for r in flagged} == {CAST.users["city"], operator}
    assert await revoke_admin_outside_city() == 0  # nothing left to do the second time


async def test_only_the_city_is_shown_the_admin_link(db: object) -> None:
    for name in (*OUTSIDERS, "city"):
        links = dict(nav_links(await actor(name)))
        assert ("/admin/" in links) == (name == "city"), name
    assert "/admin/" not in dict(nav_links(None))


# --- what the city gets out ------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
async def test_the_city_reads_every_table_without_whole_numbers(city: Client, table: str) -> None:
    await _personal_world()
    rows = await city.get(f"{API}/{table}/", params={"__page_size": 100})
    assert rows.status_code == 200, rows.text
    _assert_no_personal_data(rows)
    for row in rows.json()["rows"][:5]:
        one = await city.get(f"{API}/{table}/{row['id']}/")
        assert one.status_code == 200, one.text
        _assert_no_personal_data(one)
    for extra in ("new", "ids", "count", "schema"):
        answer = await city.get(f"{API}/{table}/{extra}/")
        assert answer.status_code == 200, (extra, answer.text)
        _assert_no_personal_data(answer)


async def test_personal_columns_are_masked_and_forms_dropped(city: Client) -> None:
    world = await _personal_world()
    individual = await Organisation.select().where(Organisation.kind == "individual").first()
    assert individual is not None
    row = (await city.get(f"{API}/organisation/{individual['id']}/")).json()
    assert row["resident_id"] == "1201************62"
    assert row["contact_phone"] == "159****2345"
    assert row["address"] == "天津市河西区******"
    assert row["name"] == "刘书文"  # the name is on the public whitelist anyway
    listing = (await city.get(f"{API}/listing/{world.listings['A']}/")).json()
    assert "form" not in listing and listing["state"] == "listed"
    complaint = (await city.get(f"{API}/complaint/{world.complaints['A']}/")).json()
    assert complaint["contact"] == "138****2222"
    assert "client_hash" not in complaint


@pytest.mark.parametrize(
    "query",
    [
        {"resident_id": INDIVIDUAL_ID},
        {"resident_id__operator": "is_null"},
        {"contact_phone": "1590221"},
        {"address": "友谊路"},
        {"__order": "-resident_id"},
        {"__visible_fields": "id,resident_id"},
    ],
    ids=str,
)
async def test_asking_by_a_personal_column_is_refused(city: Client, query: dict[str, str]) -> None:
    await _personal_world()
    for path in (f"{API}/organisation/", f"{API}/organisation/count/"):
        response = await city.get(path, params=query)
        assert response.status_code == 400, response.text
        assert "个人信息" in response.json()["detail"]
    # Other columns filter as before.
    by_name = {"name": "刘书文", "name__match": "exact"}
    found = await city.get(f"{API}/organisation/", params=by_name)
    assert [row["name"] for row in found.json()["rows"]] == ["刘书文"]


async def test_other_tables_refuse_their_personal_columns(city: Client) -> None:
    await _personal_world()
    for table, query in (
        ("listing", {"form": "{}"}),
        ("complaint", {"contact": "138"}),
        ("complaint", {"__order": "client_hash"}),
    ):
        response = await city.get(f"{API}/{table}/", params=query)
        assert response.status_code == 400, (table, response.text)


async def test_the_city_does_not_see_drafts_here_either(city: Client) -> None:
    world = await _personal_world()
    listed = {r["id"] for r in (await city.get(f"{API}/listing/")).json()["rows"]}
    assert listed == {world.listings[name] for name in "ABCE"}
    for draft in ("D", "G"):
        assert (await city.get(f"{API}/listing/{world.listings[draft]}/")).status_code == 404
        document = world.documents[draft]
        assert (await city.get(f"{API}/document/{document}/")).status_code == 404
    ids = (await city.get(f"{API}/listing/ids/")).json()
    assert {int(i) for i in ids} == listed


async def test_a_superuser_sees_every_row_masked(clients: Callable[[], Client]) -> None:
    world = await _personal_world()
    operator = CAST.users["reviewer"]
    await BaseUser.update({BaseUser.admin: True, BaseUser.superuser: True}).where(
        BaseUser.id == operator
    )
    client = clients()
    assert (await _login(client, "reviewer")).status_code == 200
    rows = await client.get(f"{API}/listing/")
    assert {r["id"] for r in rows.json()["rows"]} == set(world.listings.values())
    _assert_no_personal_data(rows)


async def test_saving_the_edit_form_keeps_the_stored_numbers(city: Client) -> None:
    """The edit form sends back the masked values it was shown: they must not overwrite."""
    await _personal_world()
    before = await Organisation.select().where(Organisation.kind == "individual").first()
    assert before is not None
    shown = (await city.get(f"{API}/organisation/{before['id']}/")).json()
    shown.pop("id")
    response = await city.patch(
        f"{API}/organisation/{before['id']}/", json={**shown, "name": "刘书文（书法）"}
    )
    assert response.status_code == 200, response.text
    _assert_no_personal_data(response)
    after = await Organisation.select().where(Organisation.id == before["id"]).first()
    assert after is not None
    assert after["name"] == "刘书文（书法）"
    assert (after["resident_id"], after["contact_phone"], after["address"]) == (
        before["resident_id"],
        before["contact_phone"],
        before["address"],
    )
    typed = await city.patch(
        f"{API}/organisation/{before['id']}/", json={"contact_phone": "13700001111"}
    )
    assert typed.status_code == 200, typed.text
    stored = await Organisation.select(Organisation.contact_phone).where(
        Organisation.id == before["id"]
    )
    # Typed anew: stored sealed, like every write of a phone number.
    assert stored[0]["contact_phone"] != "13700001111"
    assert plain(stored[0]["contact_phone"], PHONE) == "13700001111"
    [event] = (
        await AuditEvent.select()
        .where(AuditEvent.action == "admin.organisation.update")
        .order_by(AuditEvent.id, ascending=False)
        .limit(1)
        .output(load_json=True)
    )
    assert event["payload"]["changes"] == {"contact_phone": "<redacted>"}
    assert "13700001111" not in json.dumps(event, ensure_ascii=False, default=str)
