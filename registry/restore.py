"""`registry restore`: put an archive from `registry backup` back, and prove the result.

Nothing is written to the target until every member of the archive has been read, hashed and
found as the manifest says (the archive is unpacked into a scratch folder first). Then the
database, documents, keys, anchor file and secret key go in place, and the result is checked:
row counts against the manifest, the audit chain as `registry audit verify` checks it, and every
document row's file against its hash. Anything replaced under `--force` that differs is kept
beside its replacement (`*.before-restore-<time>`): keys above all are never thrown away.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.conf.apps import Finder

from registry import backup_db, keys
from registry.applications import storage as documents
from registry.backup import (
    ANCHORS,
    CHUNK,
    DATABASE,
    FORMAT,
    MANIFEST,
    MEMBER_NAMES,
    SECRET,
    VERSION,
    Summary,
)
from registry.backup_db import BackupError, Facts
from registry.public.search import generation
from registry.settings import get_settings
from workflows import audit, timesource
from workflows.storage import anchor_path


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def _database_empty(engine: str, url: str) -> bool:
    if engine == "postgres":
        return await backup_db.postgres_is_empty(url)
    return backup_db.sqlite_is_empty(url)


async def _occupied(engine: str, url: str) -> list[str]:
    """What the target already holds (empty list: safe to restore into)."""
    found = []
    if not await _database_empty(engine, url):
        found.append("the database has tables")
    if documents.root().is_dir() and any(p.is_file() for p in documents.root().rglob("*")):
        found.append(f"{documents.root()} has files")
    if any(keys.keys_dir().glob("*.json")):
        found.append(f"{keys.keys_dir()} has key rings")
    if anchor_path().exists():
        found.append(f"{anchor_path()} exists")
    return found


def _unpack(archive: Path, staged: Path) -> dict[str, dict[str, Any]]:
    """Extract every member into `staged`, hashing it; refuse names an archive cannot hold."""
    seen: dict[str, dict[str, Any]] = {}
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                if not (MEMBER_NAMES.fullmatch(member.name) and member.isfile()):
                    raise BackupError(f"the archive holds an unexpected member {member.name!r}")
                if member.name in seen:
                    raise BackupError(f"the archive holds {member.name} twice")
                source = tar.extractfile(member)
                assert source is not None
                target = staged / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                size = 0
                with target.open("wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                seen[member.name] = {"sha256": digest.hexdigest(), "size": size}
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise BackupError(f"the archive cannot be read: {error}") from error
    return seen


def _checked_manifest(archive: Path, staged: Path) -> dict[str, Any]:
    """The archive's manifest, once every member matches it; BackupError otherwise."""
    seen = _unpack(archive, staged)
    if MANIFEST not in seen:
        raise BackupError("the archive has no manifest")
    try:
        manifest: dict[str, Any] = json.loads((staged / MANIFEST).read_text(encoding="utf-8"))
    except ValueError as error:
        raise BackupError("the archive's manifest is damaged") from error
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError("not an archive of `registry backup` (or of a newer version)")
    del seen[MANIFEST]
    listed: dict[str, Any] = manifest.get("members", {})
    for name in sorted(set(listed) | set(seen)):
        if name not in seen:
            raise BackupError(f"{name} is in the manifest but not in the archive")
        if name not in listed:
            raise BackupError(f"{name} is in the archive but not in the manifest")
        if seen[name] != {"sha256": listed[name]["sha256"], "size": listed[name]["size"]}:
            raise BackupError(f"{name} does not match its checksum in the manifest")
    return manifest


def _known_migrations() -> set[str]:
    manager = BaseMigrationManager()
    return {
        f"{app.app_name}:{migration_id}"
        for app in Finder().get_app_configs()
        for migration_id in manager.get_migration_modules(app.resolved_migrations_folder_path)
    }


def _check_compatible(manifest: dict[str, Any], engine: str) -> None:
    if manifest["engine"] != engine:
        raise BackupError(
            f"the archive holds a {manifest['engine']} database; the configured one is {engine}"
        )
    unknown = sorted(set(manifest["migrations"]) - _known_migrations())
    if unknown:
        raise BackupError(
            f"the archive's database has migrations this version does not know ({unknown[0]}"
            f"{' …' if len(unknown) > 1 else ''}): restore it with the version that made it"
        )


def _replace(target: Path, data: bytes | None, *, keep_old: bool, stamp: str) -> None:
    """Write `data` at `target` (0600); a different file there is kept aside when `keep_old`."""
    if target.exists() and keep_old and (data is None or target.read_bytes() != data):
        target.rename(target.with_name(f"{target.name}.before-restore-{stamp}"))
    if data is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(partial, target)


def _put_documents(staged: Path) -> None:
    source_root = staged / "documents"
    if not source_root.is_dir():
        return
    for source in sorted(source_root.glob("*/*")):
        target = documents.path_of(source.name)
        if target.exists() and _file_sha256(target) == source.name:
            continue  # content-addressed: the same name is the same content
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(source, partial)
        os.replace(partial, target)


def _put_files(staged: Path, *, force: bool) -> None:
    stamp = timesource.now().strftime("%Y%m%dT%H%M%S")
    folder = keys.keys_dir()
    for purpose in keys.PURPOSES:
        ring = staged / "keys" / f"{purpose}.json"
        data = ring.read_bytes() if ring.exists() else None
        _replace(folder / f"{purpose}.json", data, keep_old=True, stamp=stamp)
    if folder.is_dir():
        folder.chmod(0o700)
    keys.forget_cached()
    anchors = staged / ANCHORS
    _replace(
        anchor_path(), anchors.read_bytes() if anchors.exists() else None, keep_old=True,
        stamp=stamp,
    )  # fmt: skip
    secret = staged / SECRET
    if secret.exists():
        # Without --force the target was empty: its secret file is the one this very process
        # generated on start, nothing to keep.
        _replace(get_settings().var_dir / SECRET, secret.read_bytes(), keep_old=force, stamp=stamp)


async def _facts(engine: str, url: str) -> Facts:
    if engine == "postgres":
        return await backup_db.postgres_facts(url)
    return await backup_db.sqlite_facts(url)


async def _check_restored(
    manifest: dict[str, Any], engine: str, url: str
) -> tuple[Facts, list[str]]:
    """Counts as in the manifest, the audit chain intact, every document's file and hash."""
    facts = await _facts(engine, url)
    problems = [
        f"{table} has {facts.counts.get(table, 0)} rows, the backup had {count}"
        for table, count in sorted(manifest["counts"].items())
        if facts.counts.get(table, 0) != count
    ]
    if _known_migrations() - set(facts.migrations):
        from registry.cli import migrate_database

        # An archive from an older version: bring its schema up to this one first.
        await migrate_database()
    result = await audit.verify()
    if result.ok:
        audit.anchor_verified(result, by="restore")
    else:
        problems.append(f"audit trail: {result.problem}")
    for sha in facts.document_hashes:
        path = documents.path_of(sha)
        if not path.is_file():
            problems.append(f"document file {sha} is missing")
        elif _file_sha256(path) != sha:
            problems.append(f"document file {sha} does not match its hash")
    return facts, problems


async def restore_backup(archive: Path, *, force: bool = False) -> Summary:
    """Restore `archive` into the configured database and folders; BackupError if refused."""
    settings = get_settings()
    engine, url = settings.engine, settings.database_url
    occupied = await _occupied(engine, url)
    if occupied and not force:
        raise BackupError(f"the target is not empty ({'; '.join(occupied)}): use --force")
    with tempfile.TemporaryDirectory(prefix="registry-restore-") as scratch:
        staged = Path(scratch)
        manifest = _checked_manifest(archive, staged)
        _check_compatible(manifest, engine)
        # Everything checked: from here on the target is written.
        dump = staged / DATABASE[engine]
        if engine == "postgres":
            clean = force and not await backup_db.postgres_is_empty(url)
            await backup_db.restore_postgres(dump, url, clean=clean)
        else:
            backup_db.restore_sqlite(dump, url)
        _put_documents(staged)
        _put_files(staged, force=force)
    facts, problems = await _check_restored(manifest, engine, url)  # migrates an old archive
    await generation.restored()
    return Summary(
        archive.resolve(), engine, facts.counts, len(facts.document_hashes),
        archive.stat().st_size, tuple(problems), "documents checked",
    )  # fmt: skip
