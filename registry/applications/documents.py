"""Documents of an application: add one (type by content, size-capped), remove one, read them.

The adapters hand over plain values (`UploadIn`: the kind, the dates and the staff index as
typed, the file's name and a binary file object); every problem with them is reported at once.
Each organisation has a quota (number of documents and their total size); a removed document's
file goes once nothing needs it (registry.applications.retention).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO, Any

import anyio.to_thread
from piccolo.engine.postgres import PostgresEngine
from piccolo.query.functions.aggregate import Count, Sum

from registry.applications import retention, storage
from registry.applications.ownership import own_listing
from registry.db import write_transaction
from registry.evaluation.hearings import answer_upload_refusal
from registry.settings import get_settings
from registry.tables import Document, Listing, Organisation, SupplementItem
from workflows import audit
from workflows.actors import Actor
from workflows.checks import DOCUMENT_KINDS
from workflows.context import Refusal
from workflows.engine import NotFound, Refused
from workflows.states import Role, State
from workflows.timesource import local_today

APPEAL_KIND = "appeal"
# Evidence for a provider's statement and defence on a provisional evaluation result.
HEARING_KIND = "hearing_answer"
# Whatever else a supplement item asks for (a site safety report, a lease): only with an item.
SUPPLEMENT_KIND = "supplement"
UPLOAD_KINDS: dict[str, str] = {
    **DOCUMENT_KINDS,
    APPEAL_KIND: "复核申请材料",
    HEARING_KIND: "陈述申辩证明材料",
    SUPPLEMENT_KIND: "补正材料",
}
UPLOAD_STATES = frozenset({State.draft, State.needs_supplement})
READER_ROLES = frozenset({Role.provider, Role.reviewer, Role.approver, Role.city})


@dataclass(frozen=True)
class UploadIn:
    """One upload as the provider gave it: text fields as typed, the file if one was sent."""

    kind: str = ""
    valid_from: str = ""
    valid_until: str = ""
    staff_index: str = ""
    # The number of the open supplement item this document answers ("" for none).
    supplement_item: str = ""
    filename: str | None = None
    file: IO[bytes] | None = None


def _may_change(row: dict[str, Any], kind: str) -> Refusal | None:
    """Whether documents of `kind` may be added or removed in the listing's state now."""
    state = State(row["state"])
    if state in UPLOAD_STATES:
        return None
    if state == State.rejected and kind == APPEAL_KIND:
        due = row["appeal_due"]
        if not row["appealed"] and due is not None and local_today() <= due:
            return None
        return Refusal("state", "appeal_window_closed", "复核申请期限已过，不能再上传复核材料")
    if state == State.rejected:
        return Refusal("kind", "appeal_only", "申请未通过后只能上传复核申请材料")
    return Refusal("state", "not_editable", f"申请当前为「{state.label}」，不能增删材料")


def _day(text: str, field: str, label: str, problems: list[Refusal]) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Refusal(field, "format", f"{label}应为YYYY-MM-DD格式的日期"))
        return None


def _staff_index(text: str, problems: list[Refusal]) -> int | None:
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    problems.append(Refusal("staff_index", "type", "从业人员序号应为从0开始的整数"))
    return None


async def _supplement_item(
    listing: dict[str, Any], kind: str, text: str, problems: list[Refusal]
) -> int | None:
    """The id of the open supplement item numbered `text`, or None with the problem noted."""
    text = text.strip()
    if not text:
        if kind == SUPPLEMENT_KIND:
            problems.append(
                Refusal("supplement_item", "required", "补正材料须在对应的补正事项下上传")
            )
        return None
    if State(listing["state"]) != State.needs_supplement:
        problems.append(Refusal("supplement_item", "state", "申请当前不在补正期间"))
        return None
    row = None
    if text.isdigit():
        row = await (
            SupplementItem.select(SupplementItem.id)
            .where(
                (SupplementItem.listing == listing["id"])
                & SupplementItem.submitted_version.is_null()
                & (SupplementItem.number == int(text))
            )
            .first()
        )
    if row is None:
        problems.append(Refusal("supplement_item", "unknown", f"没有第 {text} 项补正事项"))
        return None
    return int(row["id"])


@dataclass(frozen=True)
class Usage:
    """An organisation's stored documents: how many, and their total size in bytes."""

    files: int
    size: int


async def usage_of(organisation_id: int) -> Usage:
    """What an organisation's documents (all its listings) take up now."""
    row = await (
        Document.select(Count().as_alias("files"), Sum(Document.size).as_alias("size"))
        .where(Document.listing.organisation == organisation_id)
        .first()
    )
    return Usage(int(row["files"] or 0) if row else 0, int(row["size"] or 0) if row else 0)


def quota_files_refusal(used: Usage) -> storage.UploadRefused:
    """The refusal when the organisation already keeps as many documents as it may."""
    limit = get_settings().upload_quota_files
    return storage.UploadRefused(
        f"材料数量已达上限：每个机构最多保存{limit}份材料，现已保存{used.files}份。"
        "请先删除不再需要的材料后再上传",
        "quota_files",
        413,
    )


def quota_bytes_refusal(used: Usage) -> storage.UploadRefused:
    """The refusal when the file does not fit in what is left of the organisation's space."""
    limit = get_settings().upload_quota_bytes
    left = max(0, limit - used.size)
    return storage.UploadRefused(
        f"材料存储空间已达上限：每个机构的材料合计不能超过{storage.human_size(limit)}，"
        f"现已使用{storage.human_size(used.size)}，剩余{storage.human_size(left)}，放不下这个文件。"
        "请先删除不再需要的材料后再上传",
        "quota_bytes",
        413,
    )


def _within_quota(used: Usage, adding: int) -> None:
    settings = get_settings()
    if used.files + 1 > settings.upload_quota_files:
        raise quota_files_refusal(used)
    if used.size + adding > settings.upload_quota_bytes:
        raise quota_bytes_refusal(used)


async def _lock_organisation(organisation_id: int) -> None:
    # PostgreSQL: two uploads of one organisation count its usage one after the other (SQLite's
    # immediate write transactions already run one at a time).
    if isinstance(Organisation._meta.db, PostgresEngine):
        await (
            Organisation.select(Organisation.id)
            .where(Organisation.id == organisation_id)
            .lock_rows()
        )


async def upload(listing_id: int, actor: Actor, data: UploadIn) -> dict[str, Any]:
    """Store the file for the listing and record it; Refused / UploadRefused say why not."""
    listing = await own_listing(listing_id, actor)
    problems: list[Refusal] = []
    kind = data.kind.strip()
    if kind not in UPLOAD_KINDS:
        choices = "、".join(UPLOAD_KINDS.values())
        problems.append(Refusal("kind", "enum", f"请选择材料类型：{choices}"))
    elif kind == HEARING_KIND:
        if refusal := await answer_upload_refusal(listing_id):
            raise Refused(refusal.message, [refusal])
    elif refusal := _may_change(listing, kind):
        raise Refused(refusal.message, [refusal])
    valid_from = _day(data.valid_from, "valid_from", "有效期起始日", problems)
    valid_until = _day(data.valid_until, "valid_until", "有效期截止日", problems)
    if valid_from and valid_until and valid_until < valid_from:
        problems.append(Refusal("valid_until", "minimum", "有效期截止日不能早于起始日"))
    staff_index = _staff_index(data.staff_index, problems)
    item = await _supplement_item(listing, kind, data.supplement_item, problems)
    name = ""
    if data.file is None:
        problems.append(Refusal("file", "required", "请选择要上传的文件"))
    else:
        try:
            name = storage.clean_filename(data.filename)
        except storage.UploadRefused as refused:
            problems.append(Refusal("file", refused.code, refused.message))
    if problems:
        raise Refused("上传的材料未通过校验", problems)
    assert data.file is not None
    organisation_id = int(listing["organisation"])
    used = await usage_of(organisation_id)
    _within_quota(used, 0)
    settings = get_settings()
    room = settings.upload_quota_bytes - used.size
    limit = min(settings.max_upload_bytes, room)
    # Past the room left, the quota is what the provider must hear about, not the file limit.
    over = (lambda: quota_bytes_refusal(used)) if room < settings.max_upload_bytes else None
    # Reading and hashing a spooled file is blocking I/O: keep it off the event loop.
    stored = await anyio.to_thread.run_sync(storage.store, data.file, limit, over)
    fields = {
        "kind": kind,
        "original_name": name,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "staff_index": staff_index,
        "supplement_item": item,
    }
    try:
        document_id = await _record(listing_id, actor, organisation_id, stored, fields)
    except Exception:
        # Refused or failed: nothing of this upload stays (unless other rows share the bytes).
        await retention.release(stored.sha256)
        raise
    await anyio.to_thread.run_sync(storage.ensure_stored, data.file, stored)
    return await Document.select().where(Document.id == document_id).first()


async def _record(
    listing_id: int,
    actor: Actor,
    organisation_id: int,
    stored: storage.StoredFile,
    fields: dict[str, Any],
) -> int:
    async with write_transaction(Document._meta.db):
        await _lock_organisation(organisation_id)
        # Counted again under the lock: simultaneous uploads must not pass the quota together.
        _within_quota(await usage_of(organisation_id), stored.size)
        rows = await Document.insert(
            Document(
                listing=listing_id,
                sha256=stored.sha256,
                mime_type=stored.mime_type,
                size=stored.size,
                uploaded_by=actor.user_id,
                **fields,
            )
        ).returning(Document.id)
        document_id = int(rows[0]["id"])
        await audit.record(
            actor,
            action="document.uploaded",
            role=Role.provider.value,
            listing=listing_id,
            # No file name: names often carry a person's name or ID number.
            payload={
                "document": document_id,
                "kind": fields["kind"],
                "sha256": stored.sha256,
                "supplement_item": fields["supplement_item"],
            },
        )
    return document_id


async def remove(document_id: int, actor: Actor) -> None:
    """Delete a document of the actor's organisation while the listing can still change."""
    row = await Document.select().where(Document.id == document_id).first()
    if row is None:
        raise NotFound("材料不存在")
    async with write_transaction(Document._meta.db):
        listing = await own_listing(row["listing"], actor, lock=True)
        if refusal := _may_change(listing, row["kind"]) or await _answered_before(row):
            raise Refused(refusal.message, [refusal])
        await Document.delete().where(Document.id == document_id)
        await audit.record(
            actor,
            action="document.deleted",
            role=Role.provider.value,
            listing=row["listing"],
            payload={"document": document_id, "kind": row["kind"], "sha256": row["sha256"]},
        )
    # Only after the commit: a rollback must not lose a file its row still names.
    await retention.release(row["sha256"])


async def _answered_before(document: dict[str, Any]) -> Refusal | None:
    """A document sent with an earlier supplement answer stays: the reviewer's record of it."""
    if document["supplement_item"] is None:
        return None
    sent = await SupplementItem.exists().where(
        (SupplementItem.id == document["supplement_item"])
        & SupplementItem.submitted_version.is_not_null()
    )
    if not sent:
        return None
    return Refusal("state", "submitted", "这份材料已随补正答复提交，不能删除")


def may_read(actor: Actor | None, listing: dict[str, Any]) -> bool:
    """The organisation's users and the district's staff (and the city); not schools."""
    if actor is None:
        return False
    state = State(listing["state"])
    grants = actor.grants_seeing(listing["organisation"], listing["district"], state)
    # A draft was never sent: only its own organisation reads it, the city included in the
    # "never" (registry/access/scope.py's rule for listings and documents).
    readers = {Role.provider} if state == State.draft else READER_ROLES
    return any(g.role in readers for g in grants)


async def documents_of(listing_id: int) -> list[dict[str, Any]]:
    """A listing's documents, oldest first."""
    return await Document.select().where(Document.listing == listing_id).order_by(Document.id)


async def readable_documents(actor: Actor | None, listing_id: int) -> list[dict[str, Any]]:
    """The documents of a listing the actor may read; NotFound otherwise."""
    listing = await Listing.select().where(Listing.id == listing_id).first()
    if listing is None or not may_read(actor, listing):
        raise NotFound("申请记录不存在")
    return await documents_of(listing_id)


async def readable_document(actor: Actor | None, document_id: int) -> dict[str, Any]:
    """One document row if the actor may read it; NotFound alike when missing or hidden."""
    row = await Document.select().where(Document.id == document_id).first()
    listing = row and await Listing.select().where(Listing.id == row["listing"]).first()
    if row is None or listing is None or not may_read(actor, listing):
        raise NotFound("材料不存在")
    return row
