"""Documents of an application: upload (type by content, size-capped), list, download, delete."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import anyio.to_thread
import msgspec
from litestar import Request, delete, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath, FromQuery
from litestar.response import File, Response

from registry.api.applications import own_listing
from registry.applications import storage
from registry.db import write_transaction
from registry.settings import get_settings
from registry.tables import Document, Listing
from registry.web.errors import error_response
from registry.web.security import optional_actor, provide_actor
from workflows import audit
from workflows.actors import Actor
from workflows.checks import DOCUMENT_KINDS
from workflows.context import Refusal
from workflows.engine import NotFound, Refused, local_today
from workflows.states import Role, State

log = logging.getLogger(__name__)

APPEAL_KIND = "appeal"
UPLOAD_KINDS: dict[str, str] = {**DOCUMENT_KINDS, APPEAL_KIND: "复核申请材料"}
UPLOAD_STATES = frozenset({State.draft, State.needs_supplement})
# Litestar refuses a body over the handler's limit before our code runs; let it through up to
# the configured file limit plus room for the other form fields, and judge the file ourselves.
MULTIPART_SLACK = 256 * 1024
UPLOAD_BODY_CEILING = get_settings().max_upload_bytes + MULTIPART_SLACK
READER_ROLES = frozenset({Role.provider, Role.reviewer, Role.approver, Role.city})


class DocumentOut(msgspec.Struct):
    id: int
    listing_id: int
    kind: str
    kind_label: str
    original_name: str
    mime_type: str
    size: int
    sha256: str
    valid_from: date | None
    valid_until: date | None
    staff_index: int | None
    uploaded_at: datetime


def document_out(row: dict[str, Any]) -> DocumentOut:
    """A Document row as JSON."""
    return DocumentOut(
        id=row["id"],
        listing_id=row["listing"],
        kind=row["kind"],
        kind_label=UPLOAD_KINDS.get(row["kind"], row["kind"]),
        original_name=row["original_name"],
        mime_type=row["mime_type"],
        size=row["size"],
        sha256=row["sha256"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        staff_index=row["staff_index"],
        uploaded_at=row["uploaded_at"],
    )


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


def _day(form: FormMultiDict, field: str, label: str, problems: list[Refusal]) -> date | None:
    text = str(form.get(field) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Refusal(field, "format", f"{label}应为YYYY-MM-DD格式的日期"))
        return None


async def upload(listing_id: int, actor: Actor, form: FormMultiDict) -> dict[str, Any]:
    """Store the form's file for the listing and record it; Refused / UploadRefused say why not."""
    listing = await own_listing(listing_id, actor)
    problems: list[Refusal] = []
    kind = str(form.get("kind") or "").strip()
    if kind not in UPLOAD_KINDS:
        choices = "、".join(UPLOAD_KINDS.values())
        problems.append(Refusal("kind", "enum", f"请选择材料类型：{choices}"))
    elif refusal := _may_change(listing, kind):
        raise Refused(refusal.message, [refusal])
    valid_from = _day(form, "valid_from", "有效期起始日", problems)
    valid_until = _day(form, "valid_until", "有效期截止日", problems)
    if valid_from and valid_until and valid_until < valid_from:
        problems.append(Refusal("valid_until", "minimum", "有效期截止日不能早于起始日"))
    staff_index: int | None = None
    raw_index = str(form.get("staff_index") or "").strip()
    if raw_index:
        if raw_index.isdigit():
            staff_index = int(raw_index)
        else:
            problems.append(Refusal("staff_index", "type", "从业人员序号应为从0开始的整数"))
    file = form.get("file")
    name = ""
    if not isinstance(file, UploadFile):
        problems.append(Refusal("file", "required", "请选择要上传的文件"))
    else:
        try:
            name = storage.clean_filename(file.filename)
        except storage.UploadRefused as refused:
            problems.append(Refusal("file", refused.code, refused.message))
    if problems:
        raise Refused("上传的材料未通过校验", problems)
    assert isinstance(file, UploadFile)
    limit = get_settings().max_upload_bytes
    # Reading and hashing a spooled file is blocking I/O: keep it off the event loop.
    stored = await anyio.to_thread.run_sync(storage.store, file.file, limit)
    async with write_transaction(Document._meta.db):
        rows = await Document.insert(
            Document(
                listing=listing_id,
                kind=kind,
                sha256=stored.sha256,
                original_name=name,
                mime_type=stored.mime_type,
                size=stored.size,
                valid_from=valid_from,
                valid_until=valid_until,
                staff_index=staff_index,
                uploaded_by=actor.user_id,
            )
        ).returning(Document.id)
        document_id = int(rows[0]["id"])
        await audit.record(
            actor,
            action="document.uploaded",
            role=Role.provider.value,
            listing=listing_id,
            # No file name: names often carry a person's name or ID number.
            payload={"document": document_id, "kind": kind, "sha256": stored.sha256},
        )
    return await Document.select().where(Document.id == document_id).first()


async def remove(document_id: int, actor: Actor) -> None:
    """Delete a document of the actor's organisation while the listing can still change."""
    row = await Document.select().where(Document.id == document_id).first()
    if row is None:
        raise NotFound("材料不存在")
    async with write_transaction(Document._meta.db):
        listing = await own_listing(row["listing"], actor, lock=True)
        if refusal := _may_change(listing, row["kind"]):
            raise Refused(refusal.message, [refusal])
        await Document.delete().where(Document.id == document_id)
        await audit.record(
            actor,
            action="document.deleted",
            role=Role.provider.value,
            listing=row["listing"],
            payload={"document": document_id, "kind": row["kind"], "sha256": row["sha256"]},
        )


def may_read(actor: Actor | None, listing: dict[str, Any]) -> bool:
    """The organisation's users and the district's staff (and the city); not schools."""
    if actor is None:
        return False
    grants = actor.grants_seeing(
        listing["organisation"], listing["district"], State(listing["state"])
    )
    return any(g.role in READER_ROLES for g in grants)


async def documents_of(listing_id: int) -> list[dict[str, Any]]:
    """A listing's documents, oldest first."""
    return await Document.select().where(Document.listing == listing_id).order_by(Document.id)


def content_disposition(name: str, inline: bool = False) -> str:
    """RFC 6266 / 5987: an ASCII fallback plus the UTF-8 name (Chinese names survive)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


_ACTOR = {"actor": Provide(provide_actor)}


@post(
    "/api/v1/listings/{listing_id:int}/documents",
    operation_id="uploadDocument",
    dependencies=_ACTOR,
    request_max_body_size=UPLOAD_BODY_CEILING,
    status_code=201,
    tags=["documents"],
)
async def upload_document(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], listing_id: FromPath[int]
) -> Any:
    """multipart/form-data: file, kind, valid_from, valid_until, staff_index (optional)."""
    limit = get_settings().max_upload_bytes
    try:
        form = await request.form()
    except RequestEntityTooLarge:
        refused = storage.too_large(limit)
        return error_response(413, refused.message, [_file_error(refused)])
    try:
        row = await upload(listing_id, actor, form)
    except storage.UploadRefused as refused:
        status = refused.status_code
        return error_response(status, refused.message, [_file_error(refused)])
    return Response(document_out(row), status_code=201)


def _file_error(refused: storage.UploadRefused) -> dict[str, str]:
    return {"field": "file", "code": refused.code, "message": refused.message}


@get(
    "/api/v1/listings/{listing_id:int}/documents",
    operation_id="listDocuments",
    dependencies=_ACTOR,
    tags=["documents"],
)
async def list_documents(
    actor: NamedDependency[Actor], listing_id: FromPath[int]
) -> list[DocumentOut]:
    """The documents of a listing the caller may read (404 otherwise)."""
    listing = await Listing.select().where(Listing.id == listing_id).first()
    if listing is None or not may_read(actor, listing):
        raise NotFound("申请记录不存在")
    return [document_out(r) for r in await documents_of(listing_id)]


@get("/api/v1/documents/{document_id:int}", operation_id="downloadDocument", tags=["documents"])
async def download_document(
    request: Request[Any, Any, Any], document_id: FromPath[int], inline: FromQuery[bool] = False
) -> Any:
    """The file under its original name; 404 for anyone who may not read it (even anonymous)."""
    actor = await optional_actor(request)
    row = await Document.select().where(Document.id == document_id).first()
    listing = row and await Listing.select().where(Listing.id == row["listing"]).first()
    if row is None or listing is None or not may_read(actor, listing):
        raise NotFound("材料不存在")
    path = storage.path_of(row["sha256"])
    if not path.is_file():
        log.error("document %s: stored file %s is missing", document_id, row["sha256"])
        raise NotFound("材料文件缺失，请联系管理员")
    return File(
        path=path,
        media_type=row["mime_type"],
        headers={
            "Content-Disposition": content_disposition(row["original_name"], inline),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@delete(
    "/api/v1/documents/{document_id:int}",
    operation_id="deleteDocument",
    dependencies=_ACTOR,
    status_code=200,
    tags=["documents"],
)
async def delete_document(
    actor: NamedDependency[Actor], document_id: FromPath[int]
) -> dict[str, Any]:
    """Remove a document while the application is a draft or awaiting supplement."""
    await remove(document_id, actor)
    return {"ok": True, "id": document_id}


ROUTES: list[Any] = [upload_document, list_documents, download_document, delete_document]
