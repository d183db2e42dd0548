"""When a stored document file may go: after its row is deleted, and strays found on disk.

A file stays while
- a Document row of any listing has its hash (identical content is stored once), or
- it was handed to the bureau: uploaded to a listing that was then submitted, resubmitted or
  appealed. The bureau's decisions rest on what it was sent; if the provider later removes the
  document while supplementing, a review or a complaint must still be able to see those bytes.
  The audit trail's upload event names the hash, which leads to the file.

Every upload's audit event carries the hash, so "an audit payload refers to it" cannot be the
rule on its own: nothing would ever be removed. The hash in the trail is a fingerprint (the
chain verifies without the bytes); a document nobody at the bureau saw is the provider's to
take back. Form snapshots hold forms only (no document hashes), and no other table stores one.

Removal sets the file aside, asks again, then unlinks: an upload of the same bytes that commits
in between is honoured by putting the file back (and the upload re-stores its bytes if they
vanished before its row was written). Files younger than an hour are never pruned: an upload
writes its file before its row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.query import Max

from registry.applications import storage
from registry.tables import AuditEvent, Document

log = logging.getLogger(__name__)

UPLOADED = "document.uploaded"
HANDED_IN = ("submit", "resubmit", "appeal")
GRACE_SECONDS = 3600
_BATCH = 500


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


async def _in_rows(shas: set[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(shas)):
        rows = await Document.select(Document.sha256).where(Document.sha256.is_in(chunk))
        found |= {r["sha256"] for r in rows}
    return found


async def _upload_events(only: str | None) -> list[dict[str, Any]]:
    query = AuditEvent.select(AuditEvent.id, AuditEvent.listing, AuditEvent.payload).where(
        AuditEvent.action == UPLOADED
    )
    if only is not None:
        # A text match narrows one hash's events on both engines (JSON has no common operator);
        # the payload is then read properly below.
        query = query.where(WhereRaw("CAST(payload AS TEXT) LIKE {}", f"%{only}%"))
    return await query.output(load_json=True)


async def handed_in(shas: set[str]) -> set[str]:
    """Those of `shas` uploaded to a listing that was handed to the bureau afterwards."""
    if not shas:
        return set()
    events = await _upload_events(next(iter(shas)) if len(shas) == 1 else None)
    uploads: list[tuple[int, int, str]] = []
    for event in events:
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        sha = payload.get("sha256")
        if sha in shas and event["listing"] is not None:
            uploads.append((event["listing"], event["id"], sha))
    listings = sorted({listing for listing, _, _ in uploads})
    last_handed_in: dict[int, int] = {}
    for start in range(0, len(listings), _BATCH):
        rows = await (
            AuditEvent.select(AuditEvent.listing, Max(AuditEvent.id).as_alias("last"))
            .where(
                AuditEvent.listing.is_in(listings[start : start + _BATCH])
                & AuditEvent.action.is_in(list(HANDED_IN))
            )
            .group_by(AuditEvent.listing)
        )
        last_handed_in.update({r["listing"]: r["last"] for r in rows})
    # Audit ids only grow, so they order an upload and a submission without any clock.
    return {sha for listing, event_id, sha in uploads if last_handed_in.get(listing, 0) > event_id}


async def still_needed(shas: set[str]) -> set[str]:
    """Those of `shas` whose file must stay (a row has it, or the bureau was sent it)."""
    in_rows = await _in_rows(shas)
    return in_rows | await handed_in(shas - in_rows)


async def release(sha: str) -> bool:
    """After a Document row is deleted (and committed): remove its file if nothing needs it."""
    try:
        if await still_needed({sha}):
            return False
        aside = storage.set_aside(sha)
        if aside is None:
            return False
        if await still_needed({sha}):  # the same bytes were uploaded meanwhile
            storage.put_back(aside, sha)
            return False
        aside.unlink(missing_ok=True)
        return True
    except Exception:
        # Best effort: the row is gone (or was never written) either way, and
        # `registry documents prune` removes the file later.
        log.exception("could not remove the stored file %s", sha)
        return False


@dataclass
class PruneReport:
    """What `registry documents prune` found and did (sizes in bytes)."""

    dry_run: bool
    stored: int = 0
    stored_bytes: int = 0
    in_use: int = 0
    handed_in: int = 0
    young: int = 0
    removed: int = 0
    removed_bytes: int = 0
    work_removed: int = 0
    work_removed_bytes: int = 0
    restored: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as the command prints it."""
        verb = "would remove" if self.dry_run else "removed"
        lines = [
            f"stored files: {self.stored} ({_bytes(self.stored_bytes)})",
            f"referenced by a document: {self.in_use}",
            f"kept as sent to the bureau: {self.handed_in}",
            f"younger than an hour (left alone): {self.young}",
            f"{verb} files without a document: {self.removed} ({_bytes(self.removed_bytes)})",
            f"{verb} leftover work files: {self.work_removed} ({_bytes(self.work_removed_bytes)})",
        ]
        if self.restored:
            lines.append(f"put back files still needed: {len(self.restored)}")
        return lines


def _bytes(size: int) -> str:
    return f"{size} bytes, {size / (1024 * 1024):.1f} MB"


async def prune(dry_run: bool = False) -> PruneReport:
    """Remove stored files no row needs (crashes leave some), sparing files under an hour old."""
    report = PruneReport(dry_run=dry_run)
    # File ages are read on the file system's own clock (the app's clock may be frozen or
    # moved; mtimes are not).
    cutoff = storage.file_clock() - GRACE_SECONDS
    old: dict[str, storage.OnDisk] = {}
    for found in storage.stored_files():
        report.stored += 1
        report.stored_bytes += found.size
        if found.modified > cutoff:
            report.young += 1
        elif found.sha256 is not None:
            old[found.sha256] = found
    in_rows = await _in_rows(set(old))
    kept = await handed_in(set(old) - in_rows)
    report.in_use, report.handed_in = len(in_rows), len(kept)
    orphans = sorted(set(old) - in_rows - kept)
    for chunk in _chunks(orphans):
        aside = {} if dry_run else {sha: storage.set_aside(sha) for sha in chunk}
        back = set() if dry_run else await still_needed(set(chunk))
        for sha in chunk:
            moved = aside.get(sha)
            if sha in back and moved is not None:
                storage.put_back(moved, sha)
                continue
            if not dry_run and moved is None:
                continue  # gone meanwhile
            report.removed += 1
            report.removed_bytes += old[sha].size
            if moved is not None:
                moved.unlink(missing_ok=True)
    await _prune_work_files(report, cutoff)
    return report


async def _prune_work_files(report: PruneReport, cutoff: float) -> None:
    leftovers = [f for f in storage.work_files() if f.modified <= cutoff]
    aside = {f.sha256 for f in leftovers if f.sha256}
    needed = await still_needed(aside) if aside else set()
    for found in leftovers:
        sha = found.sha256
        if sha is not None and sha in needed and not storage.path_of(sha).exists():
            # Set aside by a removal that stopped half way: the file is still wanted.
            report.restored.append(sha)
            if not report.dry_run:
                storage.put_back(found.path, sha)
            continue
        report.work_removed += 1
        report.work_removed_bytes += found.size
        if not report.dry_run:
            found.path.unlink(missing_ok=True)
