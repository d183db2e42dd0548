"""The application form in storage: its resident IDs and phones sealed, its features intact.

An application is filled, saved and submitted through the API as a provider would; then the
database is read with plain SQL, as anyone holding a copy of it could: no staff resident ID or
phone number may be there in the clear. The reviewer still reads the form masked, the diff
still compares numbers, and the audited reveal still shows the number that was typed.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString
from piccolo.table import Table

from registry.access import personal_data as pd
from registry.access.masking import FORM_FIELDS
from registry.access.sealing import reseal_all, seal_plaintext_forms
from registry.keys import forget_cached, rotate
from registry.tables import AuditEvent, FormSnapshot, Listing
from tests.cast import HEPING, listing_in, listing_row
from tests.conftest import POSTGRES
from tests.factories import ASSISTANT_ID, COACH_ID, valid_application
from tests.privacy.conftest import Login
from workflows.states import State

MIGRATION = "registry.piccolo_migrations.registry_2026_12_07t12_50_00_000000"
PHONE, EMERGENCY = "13820001234", "022-23456789"
# The numbers the form holds, and the new staff member's, added before the submission.
NEW_STAFF_ID, NEW_STAFF_MASK = "120101199001011239", "1201************39"
NUMBERS = (COACH_ID, ASSISTANT_ID, NEW_STAFF_ID, PHONE, EMERGENCY, EMERGENCY.replace("-", ""))


def _tables() -> list[str]:
    """Every table of the app (Piccolo's registry of Table subclasses, as migrated)."""
    from piccolo.conf.apps import Finder

    tables: list[type[Table]] = Finder().get_table_classes()
    return sorted({t._meta.tablename for t in tables})


async def _database_text(engine: Engine[Any]) -> str:
    """Every row of every table as plain SQL returns it: what a copy of the database shows."""
    parts = []
    for table in _tables():
        rows = await engine.run_querystring(QueryString(f'SELECT * FROM "{table}"'))
        parts.append(json.dumps(rows, ensure_ascii=False, default=str))
    return "\n".join(parts)


def _sqlite_bytes(engine: Engine[Any]) -> bytes:
    """The SQLite database file and its logs, checkpointed (the file itself, as copied)."""
    path = Path(engine.path)  # type: ignore[attr-defined]
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def _raw_forms() -> list[str]:
    """The form columns as stored, read with SQL (JSON text on either engine)."""
    engine = Listing._meta.db
    rows = await engine.run_querystring(QueryString('SELECT "form" AS f FROM "listing"'))
    rows += await engine.run_querystring(QueryString('SELECT "form" AS f FROM "form_snapshot"'))
    return [r["f"] if isinstance(r["f"], str) else json.dumps(r["f"]) for r in rows]


async def _submitted_with_a_new_staff_member(login: Login) -> int:
    """A Heping application created, saved with a third staff member, and submitted."""
    provider = await login("provider")
    created = await provider.post(
        "/api/v1/listings", json={"district": HEPING, "form": valid_application()}
    )
    assert created.status_code == 201, created.text
    listing_id = int(created.json()["id"])
    url = f"/api/v1/listings/{listing_id}/form"
    current = (await provider.get(url)).json()
    form = current["form"]
    form["staff"].append(
        {
            "name": "孙教练",
            "resident_id": NEW_STAFF_ID,
            "role": "授课教师",
            "no_criminal_record_valid_until": "2030-12-31",
            "health_certificate_valid_until": "2030-12-31",
        }
    )
    body = {"form": form, "version": current["version"], "form_hash": current["form_hash"]}
    saved = await provider.put(url, json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["problems"] == []
    version = (await provider.get(url)).json()["version"]
    submitted = await provider.post(
        f"/api/v1/listings/{listing_id}/transitions", json={"action": "submit", "version": version}
    )
    assert submitted.status_code == 200, submitted.text
    return listing_id


async def test_a_submitted_form_holds_no_number_in_the_clear_and_still_works(
    login: Login, db: Engine[Any]
) -> None:
    listing_id = await _submitted_with_a_new_staff_member(login)
    assert await FormSnapshot.count().where(FormSnapshot.listing == listing_id) == 1

    # In storage: sealed leaves in both the listing and its snapshot, no number anywhere.
    forms = await _raw_forms()
    assert len(forms) == 2 and all(f.count('"pd1:') == 5 for f in forms)
    assert not [n for n in NUMBERS if any(n in f for f in forms)]
    assert not [n for n in NUMBERS if n in await _database_text(db)]
    if not POSTGRES:
        raw = _sqlite_bytes(db)
        assert not [n for n in NUMBERS if n.encode() in raw]
    # The public projection was built from the sealed form and never saw a number either.
    stored = json.loads(forms[0])
    assert stored["categories"] == ["sports"] and stored["staff"][2]["name"] == "孙教练"

    # Read by the app: the provider's own copy is gone from view once sent (masked) ...
    provider = await login("provider")
    own = (await provider.get(f"/api/v1/listings/{listing_id}/form")).json()["form"]
    assert own["staff"][2]["resident_id"] == NEW_STAFF_MASK
    # ... the reviewer reads it masked, on the API and on the bureau page ...
    reviewer = await login("reviewer")
    shown = (await reviewer.get(f"/api/v1/listings/{listing_id}")).json()["form"]
    assert shown["staff"][0]["resident_id"] == "1201************30"
    assert shown["staff"][2]["resident_id"] == NEW_STAFF_MASK
    assert shown["organisation"]["contact_phone"] == "138****1234"
    page = await reviewer.get(f"/bureau/listings/{listing_id}")
    assert page.status_code == 200 and NEW_STAFF_MASK in page.text
    assert not [n for n in NUMBERS if n in page.text]

    # ... and one full number on request, with a reason, audited without the number.
    reason = "核对新增教练身份证与无犯罪记录证明"
    revealed = await reviewer.post(
        f"/api/v1/listings/{listing_id}/personal-data/reveal",
        json={"field": "staff[2].resident_id", "reason": reason},
    )
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["value"] == NEW_STAFF_ID
    on_page = await reviewer.post(
        f"/bureau/listings/{listing_id}/personal-data/reveal",
        data={"field": "safety_plan.emergency_phone", "reason": "电话核实应急联系人"},
    )
    assert on_page.status_code == 200 and EMERGENCY in on_page.text
    events = await AuditEvent.select().where(AuditEvent.action == "personal_data.revealed")
    assert [(e["actor_name"], e["reason"]) for e in events] == [
        ("reviewer", reason),
        ("reviewer", "电话核实应急联系人"),
    ]
    assert not [n for n in NUMBERS if n in str(events)]


async def test_the_diff_compares_numbers_not_ciphertexts(login: Login) -> None:
    listing_id = await listing_in(State.needs_supplement)
    provider = await login("provider")
    url = f"/api/v1/listings/{listing_id}/form"
    current = (await provider.get(url)).json()
    current["form"]["organisation"]["contact_name"] = "张老师"
    saved = await provider.put(url, json={"form": current["form"], "version": current["version"]})
    assert saved.status_code == 200, saved.text
    diff = (await (await login("reviewer")).get(f"/api/v1/listings/{listing_id}/diff")).json()
    # Sealed again on the save (fresh nonces), the unchanged numbers are no change.
    assert [c["path"] for c in diff["changes"]] == ["organisation.contact_name"]


async def test_the_migration_seals_forms_stored_in_the_clear(db: Engine[Any]) -> None:
    # Written as before this change: a listing and its snapshot with every number in the clear.
    listing_id = await listing_in(State.in_review)
    plain = json.dumps(valid_application(), ensure_ascii=False)
    for table in ("listing", "form_snapshot"):
        column = "id" if table == "listing" else "listing"
        await db.run_querystring(
            QueryString(
                f'UPDATE "{table}" SET "form" = {{}} WHERE "{column}" = {{}}', plain, listing_id
            )
        )
    assert all(COACH_ID in f for f in await _raw_forms())

    manager = await importlib.import_module(MIGRATION).forwards()
    await manager.run()

    forms = await _raw_forms()
    assert not [n for n in NUMBERS if any(n in f for f in forms)]
    assert (await listing_row(listing_id))["form"] == valid_application()
    assert await seal_plaintext_forms(db) == 0  # run twice: nothing left to seal


async def test_after_a_rotation_forms_open_and_reseal_under_the_new_key(
    db: Engine[Any], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("REGISTRY_KEYS_DIR", str(tmp_path / "keys"))
    forget_cached()
    try:
        listing_id = await listing_in(State.in_review)
        assert all('"pd1:k1:' in f for f in await _raw_forms())
        assert rotate("field") == "k2"
        assert (await listing_row(listing_id))["form"] == valid_application()
        assert await reseal_all(db) == 2  # the listing and its snapshot
        forms = await _raw_forms()
        assert all('"pd1:k2:' in f and '"pd1:k1:' not in f for f in forms)
        assert (await listing_row(listing_id))["form"] == valid_application()
        assert await reseal_all(db) == 0
    finally:
        forget_cached()


def test_form_leaves_seal_exactly_what_was_typed_and_open_idempotently() -> None:
    assert set(pd.FORM_LEAVES) == set(FORM_FIELDS)  # sealed where masked, and the reverse
    form: dict[str, Any] = {
        "organisation": {"contact_phone": 13820001234, "resident_id": "", "name": "某机构"},
        "staff": [{"resident_id": "120101198003151230"}, {"resident_id": "pd1:k1:typed"}],
        "safety_plan": {"emergency_phone": None},
    }
    sealed = pd.seal_form(form)
    assert COACH_ID not in str(sealed) and "13820001234" not in str(sealed)
    assert (
        sealed["organisation"]["resident_id"] == "" and sealed["organisation"]["name"] == "某机构"
    )
    assert sealed["safety_plan"]["emergency_phone"] is None
    assert pd.seal_form(sealed) == sealed  # sealing twice changes nothing
    opened = pd.open_form(sealed)
    assert opened == form  # a number typed as a number stays one; odd text stays as typed
    assert pd.open_form(opened) == form
    # A form leaf does not open as a column value, nor one leaf kind as another.
    token = sealed["staff"][0]["resident_id"]
    assert pd.open_form({"contact_phone": token}) == {"contact_phone": token}
    assert pd.plain(pd.seal(COACH_ID, pd.RESIDENT_ID), pd.RESIDENT_ID) == COACH_ID
    assert pd.open_form({"resident_id": pd.seal(COACH_ID, pd.RESIDENT_ID)})["resident_id"] != (
        COACH_ID
    )
