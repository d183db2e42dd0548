"""Where the workflow reaches the database: the only module in workflows/ that imports registry.

Small named queries, no decisions: the engine, the clock and the audit trail decide what to
read and write, and when; this module knows how the rows are stored. Every write here runs
inside the caller's transaction (`transaction()`), so a state, its audit event and the public
projection still commit together.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from piccolo.columns import Column
from piccolo.engine.postgres import PostgresEngine

from registry import keys
from registry.access.personal_data import seal_form, with_open_form
from registry.db import write_transaction
from registry.prepared import json_decoded
from registry.public import projection
from registry.settings import get_settings
from registry.tables import (
    AuditEvent,
    District,
    Document,
    Engagement,
    ExpertScore,
    FormSnapshot,
    Listing,
    Objection,
    ObjectionStatus,
    SupplementItem,
)
from workflows.states import State

Row = dict[str, Any]

# Serialises audit appends on PostgreSQL (SQLite's immediate transaction already holds the
# write lock).
_CHAIN_LOCK_KEY = 7_426_001
ANCHOR_FILE = "audit-anchor.log"


# The queries every transition runs, written out: Piccolo builds a query's SQL anew at each
# call, and for these small statements building cost more than running them (the transitions
# benchmark). `{}` is Piccolo's placeholder on both engines.
_LISTING = "SELECT * FROM listing WHERE id = {}"
_LISTING_LOCKED = f"{_LISTING} FOR UPDATE"
_OTHERS = "FROM listing WHERE organisation = {} AND district = {} AND id <> {}"
_OTHER_LISTINGS = f"SELECT id {_OTHERS}"
_BAN_ENDS = f"SELECT banned_until {_OTHERS} AND banned_until IS NOT NULL"
_POLICY = "SELECT policy FROM district WHERE id = {}"
_PENDING_OBJECTIONS = "SELECT count(*) AS n FROM objection WHERE listing = {} AND status = {}"
_LAST_HASH = "SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1"


def timezone_name() -> str:
    """The registry's time zone (an IANA name), from the settings."""
    return get_settings().timezone


def transaction() -> AbstractAsyncContextManager[object]:
    """A write transaction for read-then-write work (immediate on SQLite)."""
    opened: AbstractAsyncContextManager[object] = write_transaction(Listing._meta.db)
    return opened


# --- listings -------------------------------------------------------------------------------


async def load_listing(listing_id: int, *, lock: bool = False) -> Row | None:
    """One listing row with its JSON decoded and its form opened (the guards check the numbers
    in it); `lock` holds the row until commit on PostgreSQL."""
    # Hold the row until commit on PostgreSQL, so a form save cannot slip between the guards
    # (which checked this form) and the state write. SQLite's immediate transaction already
    # excludes every other writer.
    locking = lock and isinstance(Listing._meta.db, PostgresEngine)
    rows = await Listing.raw(_LISTING_LOCKED if locking else _LISTING, listing_id)
    return with_open_form(json_decoded(Listing, rows[0])) if rows else None


async def ban_ends(organisation_id: int, district_id: int, *, other_than: int) -> list[date]:
    """The end dates of bans on the provider's other listings in the district."""
    rows = await Listing.raw(_BAN_ENDS, organisation_id, district_id, other_than)
    return [row["banned_until"] for row in rows]


async def has_listing_in(
    organisation_id: int, district_id: int, states: Iterable[State], *, other_than: int
) -> bool:
    """Whether the provider has another listing in the district in one of `states`."""
    values = [state.value for state in states]
    if not values:
        return False
    marks = ", ".join("{}" for _ in values)
    rows = await Listing.raw(
        f"{_OTHER_LISTINGS} AND state IN ({marks}) LIMIT 1",
        organisation_id,
        district_id,
        other_than,
        *values,
    )
    return bool(rows)


async def write_listing(listing_id: int, expected_version: int, updates: Mapping[str, Any]) -> bool:
    """Write `updates` if the listing is still at `expected_version`; False when it moved on."""
    values: dict[Column | str, Any] = {name: value for name, value in updates.items()}
    written = (
        await Listing.update(values)
        .where((Listing.id == listing_id) & (Listing.version == expected_version))
        .returning(Listing.id)
    )
    return bool(written)


async def listings_with_due(
    states: Iterable[State],
    due_column: str,
    last_day: date,
    *,
    districts: Collection[int] | None = None,
) -> list[Row]:
    """Listings in one of `states` whose date column `due_column` is on or before `last_day`:
    id, district, state, organisation, organisation_name and the day as `due`, by id."""
    column = Listing._meta.get_column_by_name(due_column)
    where = Listing.state.is_in([state.value for state in states]) & (column <= last_day)
    if districts is not None:
        where &= Listing.district.is_in(list(districts) or [-1])
    rows: list[Row] = await (
        Listing.select(
            Listing.id,
            Listing.district,
            Listing.state,
            Listing.organisation,
            Listing.organisation.name.as_alias("organisation_name"),
            column.as_alias("due"),
        )
        .where(where)
        .order_by(Listing.id)
    )
    return rows


async def snapshot_form(
    listing_id: int, version: int, form: Any, form_schema: str, submitted_at: datetime
) -> None:
    """Keep the form exactly as submitted, and the list of its documents, under the new version."""
    documents = (
        await Document.select(
            Document.id,
            Document.kind,
            Document.staff_index,
            Document.original_name,
            Document.sha256,
            Document.supplement_item,
        )
        .where(Document.listing == listing_id)
        .order_by(Document.id)
    )
    await FormSnapshot.insert(
        FormSnapshot(
            listing=listing_id,
            version=version,
            form=seal_form(form),  # its ID and phone numbers sealed, as in the listing
            form_schema=form_schema,
            submitted_at=submitted_at,
            documents=documents,
        )
    )


# --- supplement requests ---------------------------------------------------------------------


async def open_supplement_round(
    listing_id: int, version: int, items: Iterable[str], requested_at: datetime
) -> None:
    """Store a supplement request's items, numbered from 1, as the round of `version`."""
    rows = [
        SupplementItem(
            listing=listing_id,
            requested_version=version,
            number=number,
            text=text,
            requested_at=requested_at,
        )
        for number, text in enumerate(items, start=1)
    ]
    if rows:
        await SupplementItem.insert(*rows)


async def open_supplement_items(listing_id: int) -> list[Row]:
    """The items not yet sent back, with their answer and how many documents answer each."""
    items = await (
        SupplementItem.select(
            SupplementItem.id, SupplementItem.number, SupplementItem.text, SupplementItem.answer
        )
        .where((SupplementItem.listing == listing_id) & SupplementItem.submitted_version.is_null())
        .order_by(SupplementItem.number)
    )
    ids = [item["id"] for item in items]
    answered = (
        await Document.select(Document.supplement_item).where(Document.supplement_item.is_in(ids))
        if ids
        else []
    )
    for item in items:
        item["documents"] = sum(1 for d in answered if d["supplement_item"] == item["id"])
    return items


async def submit_supplement_round(listing_id: int, version: int) -> None:
    """The open round's answers were sent with the resubmission of `version`."""
    await SupplementItem.update({SupplementItem.submitted_version: version}).where(
        (SupplementItem.listing == listing_id) & SupplementItem.submitted_version.is_null()
    )


async def refresh_projection(listing_id: int) -> None:
    """Make the listing's public whitelist row match its state."""
    await projection.refresh(listing_id)


# --- what a listing's guards read -----------------------------------------------------------


async def documents_of(listing_id: int) -> list[Row]:
    """The listing's uploaded documents."""
    return await Document.select().where(Document.listing == listing_id)


async def district_of(district_id: int) -> Row | None:
    """A district's code, name and inner six digits."""
    return (
        await District.select(District.code, District.name, District.inner_six)
        .where(District.id == district_id)
        .first()
    )


async def policy_overrides(district_id: int) -> dict[str, Any] | None:
    """A district's own policy overrides (None when it has none or does not exist)."""
    rows = await District.raw(_POLICY, district_id)
    return json_decoded(District, rows[0])["policy"] if rows else None


async def expert_scores_of(listing_id: int) -> list[Row]:
    """The listing's expert scores (reviewer, moderator, total), in the order given."""
    return await (
        ExpertScore.select(ExpertScore.reviewer, ExpertScore.moderator, ExpertScore.total)
        .where(ExpertScore.listing == listing_id)
        .order_by(ExpertScore.id)
    )


async def pending_objection_count(listing_id: int) -> int:
    """How many objections to the listing await a decision."""
    rows = await Objection.raw(_PENDING_OBJECTIONS, listing_id, ObjectionStatus.pending.value)
    return int(rows[0]["n"])


# --- engagements ----------------------------------------------------------------------------


async def mark_engagements_exited(listing_id: int, day: date) -> None:
    """Running engagements of the listing (not yet marked exited) show `day` as its exit."""
    await Engagement.update({Engagement.provider_exited_on: day}).where(
        (Engagement.listing == listing_id) & Engagement.provider_exited_on.is_null()
    )


async def mark_engagements_suspended(listing_id: int, day: date | None) -> None:
    """Running engagements of the listing show `day` as its suspension (None clears it)."""
    await Engagement.update({Engagement.provider_suspended_on: day}).where(
        (Engagement.listing == listing_id) & Engagement.provider_exited_on.is_null()
    )


# --- the audit chain ------------------------------------------------------------------------


def audit_signing_key() -> tuple[str, bytes]:
    """The id and bytes of the audit key new events are keyed with (kept outside the database)."""
    ring = keys.keyring("audit")
    return ring.current_id, ring.current


def audit_key(key_id: str) -> bytes | None:
    """An audit key by id, current or rotated out (old events still verify), or None."""
    key = keys.keyring("audit").get(key_id)
    if key is None:
        # Another process may have rotated the ring since this one read it.
        keys.forget_cached()
        key = keys.keyring("audit").get(key_id)
    return key


async def lock_audit_chain() -> None:
    """Hold the chain's end until commit, so two appends cannot both follow the same event."""
    if isinstance(AuditEvent._meta.db, PostgresEngine):
        await AuditEvent.raw("SELECT pg_advisory_xact_lock({})", _CHAIN_LOCK_KEY)


async def last_audit_hash() -> str | None:
    """The hash of the chain's newest event (None while the chain is empty)."""
    rows = await AuditEvent.raw(_LAST_HASH)
    return str(rows[0]["hash"]) if rows else None


async def audit_head() -> Row | None:
    """The newest event's id and hash with the number of events (None while the chain is empty)."""
    last = await (
        AuditEvent.select(AuditEvent.id, AuditEvent.hash)
        .order_by(AuditEvent.id, ascending=False)
        .first()
    )
    if last is None:
        return None
    # Counted up to that event, not "now": an append in between must not skew the anchor.
    count = await AuditEvent.count().where(AuditEvent.id <= last["id"])
    return {"event": last["id"], "hash": last["hash"], "count": count}


async def insert_audit_event(event: Mapping[str, Any], *, prev_hash: str, digest: str) -> int:
    """Store one audit event with its chain links; return its id."""
    rows = await AuditEvent.insert(AuditEvent(**event, prev_hash=prev_hash, hash=digest)).returning(
        AuditEvent.id
    )
    return int(rows[0]["id"])


async def audit_events_after(last_id: int, limit: int) -> list[Row]:
    """Up to `limit` audit events after `last_id`, in chain order, JSON decoded."""
    return await (
        AuditEvent.select()
        .where(AuditEvent.id > last_id)
        .order_by(AuditEvent.id)
        .limit(limit)
        .output(load_json=True)
    )


async def first_state_mismatch(initial_state: str) -> Row | None:
    """The first listing whose state is not the `to_state` of its last state-changing event.

    A listing with no such event must still be in `initial_state` (drafts are created, never
    transitioned into). Returns {"listing", "state", "expected"} or None.
    """
    events = AuditEvent._meta.tablename
    listings = Listing._meta.tablename
    rows = await Listing.raw(
        f"""
        SELECT l.id AS listing, l.state AS state, COALESCE(e.to_state, {{}}) AS expected
        FROM "{listings}" l
        LEFT JOIN (
            SELECT listing, MAX(id) AS last_id FROM "{events}"
            WHERE to_state IS NOT NULL AND listing IS NOT NULL GROUP BY listing
        ) lastev ON lastev.listing = l.id
        LEFT JOIN "{events}" e ON e.id = lastev.last_id
        WHERE l.state <> COALESCE(e.to_state, {{}})
        ORDER BY l.id
        LIMIT 1
        """,
        initial_state,
        initial_state,
    )
    return rows[0] if rows else None


# --- the audit anchor: the chain's head, written outside the database ------------------------


def anchor_path() -> Path:
    """The append-only anchor file: REGISTRY_AUDIT_ANCHOR_FILE, else `<var dir>/audit-anchor.log`.

    Read at call time (as the keys folder is) so a restore or a test can point it elsewhere.
    """
    configured = os.environ.get("REGISTRY_AUDIT_ANCHOR_FILE", "").strip()
    return Path(configured).resolve() if configured else get_settings().var_dir / ANCHOR_FILE


def read_anchors() -> list[str]:
    """Every line of the anchor file, in order (none when there is no file yet)."""
    path = anchor_path()
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8").splitlines()


def last_anchor_line() -> str | None:
    """The anchor file's last line, read from its tail (the clock asks every few minutes)."""
    path = anchor_path()
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return _last_line(handle)


def _last_line(handle: IO[bytes]) -> str | None:
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - 4096))
    lines = handle.read().decode("utf-8", errors="replace").splitlines()
    return lines[-1] if lines else None


def append_anchor(line: str, *, unless_last: Callable[[str | None], bool] | None = None) -> bool:
    """Append one line to the anchor file, synced to disk; False when `unless_last` declined.

    `unless_last` sees the last line under an exclusive lock, so two workers checking "already
    anchored today?" at once write one anchor, not two.
    """
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if unless_last is not None and unless_last(_last_line(handle)):
                return False
            handle.seek(0, os.SEEK_END)
            handle.write(line.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            return True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
