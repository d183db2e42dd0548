"""Resident ID and phone numbers in storage: sealed, found by their keyed hash, migrated."""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from registry.access import personal_data as pd
from registry.access.reveal import reveal
from registry.access.sealing import reseal_all, seal_plaintext
from registry.applications.signup import SignupIn, signup_problems
from registry.keys import forget_cached, rotate
from registry.notices import objections
from registry.oversight import complaints
from registry.tables import Complaint, Objection, Organisation
from tests.cast import T0, actor, listing_in
from tests.conftest import POSTGRES
from tests.factories import INDIVIDUAL_ID
from workflows.states import State

SEALING = "registry.piccolo_migrations.registry_2026_12_07t04_31_41_000000"
# Numbers no application form in this test holds (forms are sealed by a migration of their own).
PHONE, OBJECTOR = "15902212345", "13700007777"
PLAINTEXT = (INDIVIDUAL_ID, PHONE, OBJECTOR)


async def _plaintext_rows() -> dict[str, int]:
    """Rows as written before encryption: the numbers in the clear (raw inserts)."""
    organisation = await Organisation.raw(
        "INSERT INTO organisation (kind, name, resident_id, contact_phone, legal_representative,"
        " contact_name, contact_email, address, description, created_at)"
        " VALUES ('individual', '刘书文', {}, {}, '', '刘书文', '', '', '', {}) RETURNING id",
        INDIVIDUAL_ID,
        PHONE,
        T0,
    )
    noticed = await listing_in(State.in_public_notice)
    objection = await Objection.insert(
        Objection(listing=noticed, name="王晓东", contact=OBJECTOR, facts="场地面积与申报不符。")
    ).returning(Objection.id)
    listed = await listing_in(State.listed, organisation="other")
    complaint = await Complaint.insert(
        Complaint(listing=listed, content="老师经常迟到半小时。", contact=PHONE)
    ).returning(Complaint.id)
    return {
        "organisation": organisation[0]["id"],
        "objection": objection[0]["id"],
        "complaint": complaint[0]["id"],
        "noticed": noticed,
        "listed": listed,
    }


async def _stored_text() -> str:
    """Every sealed column as the database holds it (what a copy of it would show)."""
    rows = []
    for table, column in (
        ("organisation", "resident_id"),
        ("organisation", "contact_phone"),
        ("complaint", "contact"),
        ("objection", "contact"),
    ):
        rows += await Organisation.raw(f'SELECT "{column}" AS v FROM "{table}"')
    return " ".join(str(r["v"]) for r in rows)


def _checkpoint(engine: Engine) -> Path:
    """Move the write-ahead log into the SQLite file; the file's path."""
    path = Path(engine.path)  # type: ignore[attr-defined]
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


async def test_the_migration_seals_what_was_stored_in_the_clear(db: Engine) -> None:
    engine = db
    ids = await _plaintext_rows()
    before = await _stored_text()
    assert all(number in before for number in PLAINTEXT)
    if not POSTGRES:
        _checkpoint(engine)  # the plaintext is in the database file itself, as in a real one

    manager = await importlib.import_module(SEALING).forwards()
    await manager.run()

    stored = await _stored_text()
    assert not any(number in stored for number in PLAINTEXT)
    row = await Organisation.select().where(Organisation.id == ids["organisation"]).first()
    assert (
        row is not None and pd.is_sealed(row["resident_id"]) and pd.is_sealed(row["contact_phone"])
    )
    assert row["resident_id_hash"] in pd.lookup_hashes(INDIVIDUAL_ID, pd.RESIDENT_ID)
    if not POSTGRES:
        # Nothing left in the file either (freed cells are overwritten, the log checkpointed).
        path = _checkpoint(engine)
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert not any(number.encode() in raw for number in PLAINTEXT)

    # The app reads them back: the owner's values, the duplicate check, masks, the reveal.
    opened = pd.organisation_plain(row)
    assert (opened["resident_id"], opened["contact_phone"]) == (INDIVIDUAL_ID, PHONE)
    duplicate = SignupIn(kind="individual", name="刘书文", resident_id=INDIVIDUAL_ID)
    assert "taken" in {p.code for p in await signup_problems(duplicate)}
    reviewer = await actor("reviewer")
    assert (await complaints.get(reviewer, ids["complaint"]))["contact"] == "159****2345"
    [shown] = await objections.objections_for(ids["noticed"])
    assert shown["contact"] == "137****7777"
    field = f"objections.{ids['objection']}.contact"
    revealed = await reveal(ids["noticed"], reviewer, field, "电话联系异议人核实")
    assert revealed.value == OBJECTOR

    assert await seal_plaintext(engine) == 0  # run twice: nothing left to seal


def test_a_sealed_value_opens_only_as_its_own_kind_and_untouched() -> None:
    sealed = pd.seal(INDIVIDUAL_ID, pd.RESIDENT_ID)
    assert sealed.startswith("pd1:") and INDIVIDUAL_ID not in sealed
    assert sealed != pd.seal(INDIVIDUAL_ID, pd.RESIDENT_ID)  # a fresh nonce each time
    assert pd.unseal(sealed, pd.RESIDENT_ID) == INDIVIDUAL_ID
    with pytest.raises(pd.PersonalDataError):
        pd.unseal(sealed, pd.PHONE)  # copied into a phone column: does not open
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(pd.PersonalDataError):
        pd.unseal(tampered, pd.RESIDENT_ID)
    # The hash is stable per key, and does not reveal the number.
    assert pd.lookup_hash(INDIVIDUAL_ID, pd.RESIDENT_ID) == pd.lookup_hash(
        INDIVIDUAL_ID.lower(), pd.RESIDENT_ID
    )
    assert INDIVIDUAL_ID not in pd.lookup_hash(INDIVIDUAL_ID, pd.RESIDENT_ID)


async def test_after_a_rotation_old_values_open_and_reseal_under_the_new_key(
    db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_KEYS_DIR", str(tmp_path / "keys"))
    forget_cached()
    try:
        values = pd.organisation_values(INDIVIDUAL_ID, PHONE)
        rows = await Organisation.insert(
            Organisation(name="刘书文", kind="individual", **values)
        ).returning(Organisation.id)
        assert rotate("field") == "k2"
        row = await Organisation.select().where(Organisation.id == rows[0]["id"]).first()
        assert row is not None and row["resident_id"].startswith("pd1:k1:")
        assert pd.organisation_plain(row)["resident_id"] == INDIVIDUAL_ID
        duplicate = SignupIn(kind="individual", name="刘书文", resident_id=INDIVIDUAL_ID)
        assert "taken" in {p.code for p in await signup_problems(duplicate)}
        assert await reseal_all(db) == 2
        row = await Organisation.select().where(Organisation.id == rows[0]["id"]).first()
        assert row is not None and row["resident_id"].startswith("pd1:k2:")
        assert row["resident_id_hash"].startswith("k2:")
        assert pd.organisation_plain(row)["contact_phone"] == PHONE
    finally:
        forget_cached()
