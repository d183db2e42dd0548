"""Disk use of uploads: the per-organisation quota, files removed with their last row, pruning."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from piccolo.engine.postgres import PostgresEngine

from registry.applications import storage
from registry.applications.documents import UploadIn, remove
from registry.applications.documents import upload as upload_document
from registry.settings import get_settings
from registry.tables import AuditEvent, Document
from tests.api.conftest import Client, Login, login  # noqa: F401  (the fixture)
from tests.cast import CAST, HEPING, T0, actor
from tests.cli_runner import registry
from tests.factories import new_listing, step
from workflows.engine import Refused

KB = 1024


def pdf(size: int = 2 * KB) -> bytes:
    """A unique PDF (by its leading bytes) of exactly `size` bytes."""
    head = b"%PDF-1.4\n"
    return head + os.urandom(size - len(head))


@pytest.fixture
def documents_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own store (the command line finds it through REGISTRY_VAR_DIR)."""
    var = tmp_path / "var"
    monkeypatch.setattr(storage, "root", lambda: var / "documents")
    monkeypatch.setenv("REGISTRY_VAR_DIR", str(var))  # for the subprocess only: settings cached
    return var / "documents"


@pytest.fixture
def quota(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Three documents or 10 KB per organisation."""
    monkeypatch.setenv("REGISTRY_UPLOAD_QUOTA_FILES", "3")
    monkeypatch.setenv("REGISTRY_UPLOAD_QUOTA_BYTES", str(10 * KB))
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("REGISTRY_UPLOAD_QUOTA_FILES")
    monkeypatch.delenv("REGISTRY_UPLOAD_QUOTA_BYTES")
    get_settings.cache_clear()


async def draft(organisation: str = "feiyue") -> int:
    return await new_listing(CAST.organisations[organisation], CAST.districts[HEPING])


async def add(listing_id: int, content: bytes, who: str = "provider") -> dict[str, object]:
    return await upload_document(
        listing_id,
        await actor(who),
        UploadIn(kind="licence", filename="营业执照.pdf", file=io.BytesIO(content)),
    )


def backdate(*paths: Path, hours: float = 2) -> None:
    then = storage.file_clock() - hours * 3600
    for path in paths:
        os.utime(path, (then, then))


# --- quota ---------------------------------------------------------------------------------


async def test_quota_counts_the_documents_of_every_listing_of_the_organisation(
    db: object, documents_dir: Path, quota: None
) -> None:
    first, second = await draft(), await draft()
    await add(first, pdf())
    await add(first, pdf())
    await add(second, pdf())
    extra = pdf()
    with pytest.raises(storage.UploadRefused) as refused:
        await add(second, extra)
    assert refused.value.status_code == 413 and refused.value.code == "quota_files"
    assert "每个机构最多保存3份材料，现已保存3份" in refused.value.message
    assert await Document.count() == 3
    assert not storage.path_of(hashlib.sha256(extra).hexdigest()).exists()
    # Another organisation has its own quota.
    await add(await draft("other"), pdf(), who="provider_other")


async def test_quota_on_size_names_the_limit_and_what_is_used(
    login: Login,  # noqa: F811
    documents_dir: Path,
    quota: None,
) -> None:
    client = await login("provider")
    listing_id = await draft()
    url = f"/api/v1/listings/{listing_id}/documents"
    files = {"file": ("scan.pdf", pdf(6 * KB), "application/pdf")}
    assert (await client.post(url, data={"kind": "licence"}, files=files)).status_code == 201
    over = await client.post(
        url, data={"kind": "licence"}, files={"file": ("b.pdf", pdf(6 * KB), "application/pdf")}
    )
    assert over.status_code == 413, over.text
    error = over.json()["errors"][0]
    assert error["field"] == "file" and error["code"] == "quota_bytes"
    assert "合计不能超过10 KB，现已使用6 KB，剩余4 KB" in error["message"]
    assert await Document.count() == 1
    assert len(list(storage.stored_files())) == 1  # nothing of the refused upload stays
    # A file that fits in what is left is taken.
    small = {"file": ("c.pdf", pdf(3 * KB), "application/pdf")}
    assert (await client.post(url, data={"kind": "licence"}, files=small)).status_code == 201
    # The page says the same beside the file field.
    page = await client.post(
        f"/provider/applications/{listing_id}/documents",
        data={"kind": "licence"},
        files={"file": ("d.pdf", pdf(4 * KB), "application/pdf")},
    )
    assert page.status_code == 413
    assert "合计不能超过10 KB，现已使用9 KB，剩余1 KB" in page.text
    assert await Document.count() == 2


async def test_simultaneous_uploads_do_not_pass_the_quota_together(
    db: object, documents_dir: Path, quota: None
) -> None:
    listing_id = await draft()
    results = await asyncio.gather(
        *(add(listing_id, pdf(4 * KB)) for _ in range(5)), return_exceptions=True
    )
    # Each alone fits the 10 KB; together only two do, and the others leave nothing behind.
    assert sum(isinstance(r, dict) for r in results) == 2, results
    assert {r.code for r in results if isinstance(r, storage.UploadRefused)} == {"quota_bytes"}
    assert await Document.count() == 2
    assert len(list(storage.stored_files())) == 2


# --- files go with their last row ----------------------------------------------------------


async def test_deleting_a_document_removes_its_file(db: object, documents_dir: Path) -> None:
    row = await add(await draft(), pdf())
    path = storage.path_of(str(row["sha256"]))
    assert path.exists()
    await remove(int(str(row["id"])), await actor("provider"))
    assert not path.exists()


async def test_a_file_stays_while_another_document_has_the_same_content(
    db: object, documents_dir: Path
) -> None:
    content = pdf()
    mine = await add(await draft(), content)
    theirs = await add(await draft("other"), content, who="provider_other")
    path = storage.path_of(str(mine["sha256"]))
    await remove(int(str(mine["id"])), await actor("provider"))
    assert path.read_bytes() == content
    await remove(int(str(theirs["id"])), await actor("provider_other"))
    assert not path.exists()


async def test_a_file_sent_to_the_bureau_stays_after_its_document_is_removed(
    db: object, documents_dir: Path
) -> None:
    listing_id = await draft()
    sent = await add(listing_id, pdf())
    await step(listing_id, "submit", await actor("provider"), now=T0)
    await step(
        listing_id, "request_supplement", await actor("reviewer"), now=T0, reason="缺少场地证明"
    )
    late = await add(listing_id, pdf())  # uploaded while supplementing, never sent
    provider = await actor("provider")
    await remove(int(str(sent["id"])), provider)
    await remove(int(str(late["id"])), provider)
    # The bureau decided on the first file: the audit trail's hash still leads to it.
    assert storage.path_of(str(sent["sha256"])).exists()
    assert not storage.path_of(str(late["sha256"])).exists()


async def _refuse_deletion_audit(engine: object) -> None:
    if isinstance(engine, PostgresEngine):
        await AuditEvent.raw(
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.action = 'document.deleted' THEN RAISE EXCEPTION 'audit refused';"
            " END IF; RETURN NEW; END $$"
        )
        await AuditEvent.raw(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_event"
            " FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
        )
    else:
        await AuditEvent.raw(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_event"
            " WHEN NEW.action = 'document.deleted'"
            " BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        )


async def test_a_deletion_that_rolls_back_keeps_the_file(db: object, documents_dir: Path) -> None:
    listing_id = await draft()
    row = await add(listing_id, pdf())
    await _refuse_deletion_audit(db)
    with pytest.raises(Exception, match="audit refused"):
        await remove(int(str(row["id"])), await actor("provider"))
    assert await Document.exists().where(Document.id == row["id"])
    assert storage.path_of(str(row["sha256"])).exists()


async def test_a_refused_deletion_keeps_the_file(db: object, documents_dir: Path) -> None:
    listing_id = await draft()
    row = await add(listing_id, pdf())
    await step(listing_id, "submit", await actor("provider"), now=T0)
    with pytest.raises(Refused):
        await remove(int(str(row["id"])), await actor("provider"))
    assert storage.path_of(str(row["sha256"])).exists()


# --- registry documents prune --------------------------------------------------------------


# libfaketime shifts the times stat() reports but stores what utime() is given as it is, so
# under it a backdated file and a fresh one cannot be told apart: the file system's own clock,
# which prune reads (not the app's), is what that tool takes away.
@pytest.mark.skipif(
    "faketime" in os.environ.get("LD_PRELOAD", ""),
    reason="file ages are unreadable under libfaketime (stat faked, utime not)",
)
async def test_prune_removes_old_files_without_a_document(db: object, documents_dir: Path) -> None:
    listing_id = await draft()
    kept = await add(listing_id, pdf())
    sent = await add(listing_id, pdf())
    await step(listing_id, "submit", await actor("provider"), now=T0)
    await step(listing_id, "request_supplement", await actor("reviewer"), now=T0, reason="补正")
    await remove(int(str(sent["id"])), await actor("provider"))
    # A crash between writing a file and its row leaves a stray; another is still in flight.
    stray = storage.store(io.BytesIO(pdf(3 * KB)), 10 * KB)
    young = storage.store(io.BytesIO(pdf()), 10 * KB)
    leftover = storage.work_dir() / "tmpcrashed"
    leftover.write_bytes(b"half an upload")
    paths = {name: storage.path_of(r) for name, r in (
        ("kept", str(kept["sha256"])), ("sent", str(sent["sha256"])),
        ("stray", stray.sha256), ("young", young.sha256),
    )}  # fmt: skip
    backdate(paths["kept"], paths["sent"], paths["stray"], leftover)

    dry = await registry(db, "documents", "prune", "--dry-run")
    assert dry.code == 0, dry.err
    assert "would remove files without a document: 1 (3072 bytes" in dry.out
    assert "would remove leftover work files: 1 (14 bytes" in dry.out
    assert all(path.exists() for path in paths.values()) and leftover.exists()

    run = await registry(db, "documents", "prune")
    assert run.code == 0, run.err
    assert "stored files: 4" in run.out
    assert "referenced by a document: 1" in run.out
    assert "kept as sent to the bureau: 1" in run.out
    assert "younger than an hour (left alone): 1" in run.out
    assert "removed files without a document: 1 (3072 bytes" in run.out
    assert [name for name, path in paths.items() if not path.exists()] == ["stray"]
    assert not leftover.exists()
    again = await registry(db, "documents", "prune")
    assert "removed files without a document: 0 (0 bytes" in again.out
