"""`registry backup` and `registry restore`, on the test's engine, through the real command.

A backup taken while a write transaction is open restores into an empty database and folder
with its chain verifying, every document's file there with its hash, and the counts of the
moment it was taken; a tampered archive is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from registry import backup_db
from registry.applications.documents import UploadIn
from registry.applications.documents import upload as upload_document
from registry.backup_db import Facts
from registry.db import make_engine
from registry.tables import AuditEvent
from tests.cast import BINHAI, CAST, actor, listing_in
from tests.cli_runner import Run, database_url, registry
from tests.factories import new_listing
from workflows import audit, storage
from workflows.states import State


@dataclass(frozen=True)
class Target:
    """An empty place to restore into: its own database and var folder."""

    engine: Engine
    url: str
    var_dir: Path


async def _admin(url: str, sql: str) -> None:
    connection = await asyncpg.connect(urlunparse(urlparse(url)._replace(path="/postgres")))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
async def target(db: Engine, tmp_path: Path) -> AsyncIterator[Target]:
    var_dir = tmp_path / "restored-var"
    if isinstance(db, PostgresEngine):
        source = database_url(db)
        name = f"{urlparse(source).path.lstrip('/')}_restored"
        url = urlunparse(urlparse(source)._replace(path=f"/{name}"))
        await _admin(source, f'CREATE DATABASE "{name}"')
        try:
            yield Target(make_engine(url), url, var_dir)
        finally:
            await _admin(source, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        url = f"sqlite:///{tmp_path / 'restored' / 'registry.sqlite'}"
        yield Target(make_engine(url), url, var_dir)


async def _facts(url: str) -> Facts:
    if url.startswith("postgresql"):
        return await backup_db.postgres_facts(url)
    return await backup_db.sqlite_facts(url)


async def _on(target: Target, *args: str) -> Run:
    """`registry ARGS` as the restored installation runs it: its database, its var folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REGISTRY_VAR_DIR", str(target.var_dir))
        patch.setenv("REGISTRY_AUDIT_ANCHOR_FILE", str(target.var_dir / "audit-anchor.log"))
        return await registry(target.engine, *args)


async def _records(db: Engine) -> list[str]:
    """A listed provider, a draft with three uploaded documents, anchors: a registry in use."""
    await listing_in(State.listed)
    draft = await new_listing(CAST.organisations["feiyue"], CAST.districts[BINHAI])
    provider = await actor("provider")
    hashes = []
    for kind in ("licence", "insurance", "health_certificate"):
        content = b"%PDF-1.4\n" + secrets.token_bytes(3000)
        row = await upload_document(
            draft, provider, UploadIn(kind=kind, filename=f"{kind}.pdf", file=io.BytesIO(content))
        )
        hashes.append(row["sha256"])
    assert (await registry(db, "audit", "verify")).code == 0  # the anchor file exists too
    return hashes


def _assert_nothing_written(target: Target) -> None:
    for name in ("documents", "keys", "audit-anchor.log"):
        assert not (target.var_dir / name).exists(), name


async def _target_is_empty(target: Target) -> bool:
    if target.url.startswith("postgresql"):
        return await backup_db.postgres_is_empty(target.url)
    return backup_db.sqlite_is_empty(target.url)


async def test_backup_while_writing_restores_into_an_empty_place(
    db: Engine, target: Target, tmp_path: Path
) -> None:
    hashes = await _records(db)
    before = await _facts(database_url(db))
    archive = tmp_path / "registry-backup.tar.gz"
    async with storage.transaction():
        # A write in flight while the backup runs: it is not committed, so not in the archive.
        await audit.append(action="test.in_flight", role="system", actor_id=None, actor_name="t")
        run = await registry(db, "backup", "--out", str(archive))
    assert run.code == 0, run.err
    assert run.out.startswith(f"backup written to {archive} (") and "8 audit events" in run.out
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive, "r:gz") as tar:
        names = set(tar.getnames())
    assert {f"documents/{sha[:2]}/{sha}" for sha in hashes} <= names
    assert {"manifest.json", "keys/audit.json", "audit-anchor.log"} <= names
    assert await AuditEvent.count() == before.counts["audit_event"] + 1

    run = await _on(target, "restore", str(archive))
    assert run.code == 0, run.err
    assert run.out.startswith(f"restored {archive}") and "3 documents checked" in run.out
    restored = await _facts(target.url)
    assert restored.counts == before.counts and restored.counts["audit_event"] == 8
    assert restored.document_hashes == sorted(hashes)
    for sha in hashes:
        path = target.var_dir / "documents" / sha[:2] / sha
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert (target.var_dir / "keys" / "audit.json").stat().st_mode & 0o777 == 0o600
    run = await _on(target, "audit", "verify")
    assert run.code == 0 and run.out.strip() == "8 events verified", run.err
    # The restored place is not empty any more: a second restore is refused.
    run = await _on(target, "restore", str(archive))
    assert run.code != 0 and "the target is not empty" in run.err


def _rewrite(archive: Path, out: Path, victim: str, *, extra: str | None = None) -> None:
    """The archive with one member's bytes changed (its manifest left as it was)."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as tampered:
        for member in source:
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == victim:
                data = data[:-1] + bytes([data[-1] ^ 1])
            tampered.addfile(member, io.BytesIO(data))
        if extra is not None:
            info = tarfile.TarInfo(extra)
            info.size = 4
            tampered.addfile(info, io.BytesIO(b"evil"))


async def test_a_tampered_archive_is_refused_before_anything_is_written(
    db: Engine, target: Target, tmp_path: Path
) -> None:
    hashes = await _records(db)
    archive = tmp_path / "good.tar.gz"
    assert (await registry(db, "backup", "--out", str(archive))).code == 0
    with tarfile.open(archive, "r:gz") as tar:
        database = next(n for n in tar.getnames() if n.startswith("database/"))
    document = f"documents/{hashes[1][:2]}/{hashes[1]}"
    cases = {
        database: "does not match its checksum in the manifest",
        document: "does not match its checksum in the manifest",
        "keys/audit.json": "does not match its checksum in the manifest",
        "": "unexpected member '../../escape'",
    }
    for number, (victim, message) in enumerate(cases.items()):
        tampered = tmp_path / f"tampered-{number}.tar.gz"
        _rewrite(archive, tampered, victim, extra="../../escape" if not victim else None)
        run = await _on(target, "restore", str(tampered))
        assert run.code != 0 and "restore refused" in run.err and message in run.err, run.err
        assert await _target_is_empty(target)
        _assert_nothing_written(target)
    assert not (tmp_path.parent / "escape").exists()


async def test_restore_with_force_brings_back_deleted_events(db: Engine, tmp_path: Path) -> None:
    await _records(db)
    archive = tmp_path / "before.tar.gz"
    assert (await registry(db, "backup", "--out", str(archive))).code == 0
    count = await AuditEvent.count()
    newest = await AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id, ascending=False)
    await AuditEvent.delete().where(AuditEvent.id >= newest[2]["id"])
    run = await registry(db, "audit", "verify")
    assert run.code != 0 and "were deleted" in run.err
    run = await registry(db, "restore", str(archive))
    assert run.code != 0 and "use --force" in run.err
    run = await registry(db, "restore", "--force", str(archive))
    assert run.code == 0, run.err
    assert await AuditEvent.count() == count
    assert (await registry(db, "audit", "verify")).code == 0


async def test_backup_names_a_missing_pg_dump(
    db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await listing_in(State.listed)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    archive = tmp_path / "backup.tar.gz"
    run = await registry(db, "backup", "--out", str(archive))
    if isinstance(db, PostgresEngine):
        assert run.code != 0 and not archive.exists()
        assert run.err.strip().splitlines() == [
            "backup failed: pg_dump not found on PATH: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) of the server's major version"
        ]
    else:
        # SQLite is copied by the sqlite3 module itself: no client tool is needed.
        assert run.code == 0 and archive.exists(), run.err
