"""Document uploads: type by content, size limit, names, content-addressed storage, access."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import pytest
from PIL import Image
from pypdf import PdfWriter

from registry.applications import storage
from registry.applications.documents import (
    UploadIn,
    readable_document,
    readable_documents,
    remove,
)
from registry.applications.documents import upload as upload_document
from registry.settings import get_settings
from registry.tables import AuditEvent, Document
from tests.api.conftest import Client, Login, login  # noqa: F401  (the fixture)
from tests.cast import BINHAI, CAST, HEPING, T0, actor, listing_in
from tests.factories import new_listing, step
from workflows.engine import NotFound, Refused
from workflows.states import State

MB = 1024 * 1024


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_bytes(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


async def upload(
    client: Client, listing_id: int, name: str, content: bytes, kind: str = "licence", **fields: str
) -> object:
    return await client.post(
        f"/api/v1/listings/{listing_id}/documents",
        data={"kind": kind, **fields},
        files={"file": (name, content, "application/octet-stream")},
    )


async def draft() -> int:
    return await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING])


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A 4 KB upload limit, read by the app at request time."""
    monkeypatch.setenv("REGISTRY_MAX_UPLOAD_BYTES", "4096")
    get_settings.cache_clear()
    yield 4096
    monkeypatch.delenv("REGISTRY_MAX_UPLOAD_BYTES")
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("营业执照.pdf", pdf_bytes(), "application/pdf"),
        ("保险单.png", image_bytes("PNG"), "image/png"),
        ("health.jpg", image_bytes("JPEG"), "image/jpeg"),
    ],
)
async def test_pdf_png_jpeg_accepted_and_stored_once(
    login: Login,  # noqa: F811
    name: str,
    content: bytes,
    mime: str,
) -> None:
    client = await login("provider")
    listing_id = await draft()
    first = await upload(client, listing_id, name, content, valid_until="2027-06-30")
    assert first.status_code == 201, first.text
    body = first.json()
    sha = hashlib.sha256(content).hexdigest()
    assert body["mime_type"] == mime and body["sha256"] == sha and body["size"] == len(content)
    assert body["original_name"] == name and body["valid_until"] == "2027-06-30"
    path = storage.path_of(sha)
    assert path.read_bytes() == content
    assert path.parent.parent == get_settings().var_dir / "documents"
    second = await upload(client, listing_id, "copy-" + name, content)
    assert second.status_code == 201 and second.json()["sha256"] == sha
    assert len(list(path.parent.iterdir())) == 1  # identical content stored once
    assert await Document.count().where(Document.sha256 == sha) >= 2
    assert await AuditEvent.exists().where(AuditEvent.action == "document.uploaded")


async def test_type_is_decided_by_bytes_not_name(login: Login) -> None:  # noqa: F811
    client = await login("provider")
    response = await upload(client, await draft(), "licence.pdf", image_bytes("PNG"))
    assert response.status_code == 201
    assert response.json()["mime_type"] == "image/png"


@pytest.mark.parametrize(
    "content",
    [b"MZ\x90\x00\x03" + bytes(200), b"PK\x03\x04" + bytes(200), "营业执照文本".encode()],
    ids=["exe", "zip", "text"],
)
async def test_other_types_are_refused(login: Login, content: bytes) -> None:  # noqa: F811
    client = await login("provider")
    response = await upload(client, await draft(), "licence.pdf", content)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "file" and "仅支持 PDF、JPEG、PNG" in error["message"]


async def test_empty_file_is_refused(login: Login) -> None:  # noqa: F811
    client = await login("provider")
    response = await upload(client, await draft(), "empty.pdf", b"")
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "文件为空，请选择有内容的文件"


async def test_oversize_file_is_refused_naming_the_limit(
    login: Login,  # noqa: F811
    small_limit: int,
) -> None:
    client = await login("provider")
    response = await upload(client, await draft(), "big.pdf", b"%PDF-1.4\n" + bytes(small_limit))
    assert response.status_code == 413
    assert response.json()["errors"][0] == {
        "field": "file",
        "code": "too_large",
        "message": "文件超过大小上限：每个文件不能超过 4 KB",
    }
    assert not await Document.exists()


async def test_default_limit_is_ten_megabytes(login: Login) -> None:  # noqa: F811
    client = await login("provider")
    listing_id = await draft()
    just_over = await upload(client, listing_id, "scan.pdf", b"%PDF-1.7\n" + bytes(10 * MB))
    assert just_over.status_code == 413 and "10 MB" in just_over.json()["detail"]
    # Far over: Litestar stops reading the body; the answer keeps our shape and message.
    far_over = await upload(client, listing_id, "scan.pdf", b"%PDF-1.7\n" + bytes(11 * MB))
    assert far_over.status_code == 413 and "10 MB" in far_over.json()["detail"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\boot.ini", "a/b.pdf", "ok\x1b.pdf"])
async def test_path_tricks_in_names_are_refused(login: Login, name: str) -> None:  # noqa: F811
    client = await login("provider")
    response = await upload(client, await draft(), name, pdf_bytes())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"
    assert not await Document.exists()


async def test_fields_are_checked_together(login: Login) -> None:  # noqa: F811
    client = await login("provider")
    response = await upload(
        client,
        await draft(),
        "a.pdf",
        pdf_bytes(),
        kind="passport",
        valid_from="2026-13-01",
        staff_index="first",
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"kind", "valid_from", "staff_index"}


async def test_upload_refused_once_submitted(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.submitted)
    client = await login("provider")
    response = await upload(client, listing_id, "a.pdf", pdf_bytes())
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "state"


async def test_download_for_the_organisation_and_the_district_only(
    login: Login,  # noqa: F811
    anonymous: Client,
) -> None:
    provider = await login("provider")
    listing_id = await draft()
    content = pdf_bytes()
    document = (await upload(provider, listing_id, "飞跃 营业执照.pdf", content)).json()
    url = f"/api/v1/documents/{document['id']}"
    # A draft is invisible to the bureau.
    assert (await (await login("reviewer")).get(url)).status_code == 404
    await step(listing_id, "submit", await actor("provider"), now=T0)
    own = await provider.get(url)
    assert own.status_code == 200 and own.content == content
    assert own.headers["content-type"] == "application/pdf"
    disposition = own.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E9%A3%9E%E8%B7%83%20" in disposition
    for allowed in ("reviewer", "approver", "city"):
        assert (await (await login(allowed)).get(url)).status_code == 200, allowed
    for refused in ("provider_other", "reviewer_binhai", "school"):
        assert (await (await login(refused)).get(url)).status_code == 404, refused
    assert (await anonymous.get(url)).status_code == 404
    listed = await provider.get(f"/api/v1/listings/{listing_id}/documents")
    assert [d["id"] for d in listed.json()] == [document["id"]]


async def test_delete_while_draft_only(login: Login) -> None:  # noqa: F811
    provider = await login("provider")
    listing_id = await draft()
    first = (await upload(provider, listing_id, "a.pdf", pdf_bytes())).json()
    second = (await upload(provider, listing_id, "b.png", image_bytes("PNG"))).json()
    other = await login("provider_other")
    assert (await other.delete(f"/api/v1/documents/{first['id']}")).status_code == 404
    assert (await provider.delete(f"/api/v1/documents/{first['id']}")).status_code == 200
    assert not await Document.exists().where(Document.id == first["id"])
    assert await AuditEvent.exists().where(AuditEvent.action == "document.deleted")
    await step(listing_id, "submit", await actor("provider"), now=T0)
    refused = await provider.delete(f"/api/v1/documents/{second['id']}")
    assert refused.status_code == 422


async def test_appeal_documents_only_after_rejection(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.rejected, district=BINHAI)
    provider = await login("provider")
    licence = await upload(provider, listing_id, "a.pdf", pdf_bytes())
    assert licence.status_code == 422 and licence.json()["errors"][0]["field"] == "kind"
    # The rejection was at T0: its appeal window has long closed.
    appeal = await upload(provider, listing_id, "a.pdf", pdf_bytes(), kind="appeal")
    assert appeal.status_code == 422
    assert "复核申请期限已过" in appeal.json()["errors"][0]["message"]


# --- the service itself: plain values in, plain values out ----------------------------------


async def test_service_stores_a_file_object_under_its_given_name(db: object) -> None:
    listing_id = await draft()
    provider = await actor("provider")
    content = pdf_bytes()
    row = await upload_document(
        listing_id,
        provider,
        UploadIn(
            kind="licence",
            valid_until="2027-06-30",
            filename="营业执照.pdf",
            file=io.BytesIO(content),
        ),
    )
    assert row["original_name"] == "营业执照.pdf" and row["mime_type"] == "application/pdf"
    assert storage.path_of(row["sha256"]).read_bytes() == content
    assert [d["id"] for d in await readable_documents(provider, listing_id)] == [row["id"]]
    assert (await readable_document(provider, row["id"]))["sha256"] == row["sha256"]
    for hidden in ("provider_other", "reviewer", "school"):
        with pytest.raises(NotFound):
            await readable_document(await actor(hidden), row["id"])
    await remove(row["id"], provider)
    assert await readable_documents(provider, listing_id) == []


async def test_service_reports_every_problem_of_typed_values_at_once(db: object) -> None:
    listing_id = await draft()
    with pytest.raises(Refused) as refused:
        await upload_document(
            listing_id,
            await actor("provider"),
            UploadIn(kind="licence", valid_from="2027-02-01", valid_until="2027-01-01"),
        )
    assert {(e.field, e.code) for e in refused.value.errors} == {
        ("valid_until", "minimum"),
        ("file", "required"),
    }
    assert not await Document.exists()
