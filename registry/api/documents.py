"""Documents of an application over HTTP: upload, list, download, delete."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath, FromQuery
from litestar.response import File, Response

from registry.applications import storage
from registry.applications.documents import (
    UPLOAD_KINDS,
    readable_document,
    readable_documents,
    remove,
    upload,
)
from registry.settings import get_settings
from registry.web.errors import error_response
from registry.web.security import optional_actor, provide_actor
from registry.web.uploads import UPLOAD_BODY_CEILING, upload_in
from workflows.actors import Actor
from workflows.engine import NotFound

log = logging.getLogger(__name__)


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
        row = await upload(listing_id, actor, upload_in(form))
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
    return [document_out(r) for r in await readable_documents(actor, listing_id)]


@get("/api/v1/documents/{document_id:int}", operation_id="downloadDocument", tags=["documents"])
async def download_document(
    request: Request[Any, Any, Any], document_id: FromPath[int], inline: FromQuery[bool] = False
) -> Any:
    """The file under its original name; 404 for anyone who may not read it (even anonymous)."""
    actor = await optional_actor(request)
    row = await readable_document(actor, document_id)
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
