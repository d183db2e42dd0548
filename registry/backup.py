"""`registry backup` and `registry restore`: everything the registry needs to come back.

One tar.gz holds the database (consistent while the server runs: registry/backup_db.py), the
uploaded documents, the key rings, the audit anchor file, the secret key file when there is
one, and a manifest (engine, migrations, row counts, SHA-256 and size of every member).

Order matters while the server runs. The anchor file is read before the database snapshot, so
every anchored event is in it; the keys and documents are read after, so every key an event
names and every file a row names are there (keys are only ever added, stored files never
change). A restore checks every member against the manifest before it writes anything, then
checks the result as `registry audit verify` would and every document against its hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from registry import backup_db, keys
from registry.applications import storage as documents
from registry.backup_db import Facts
from registry.progress import Advance, ignore
from registry.settings import get_settings
from workflows import timesource
from workflows.storage import anchor_path

FORMAT = "tj-whitelist-registry-backup"
VERSION = 1
MANIFEST = "manifest.json"
ANCHORS = "audit-anchor.log"
SECRET = "secret_key"
DATABASE = {"sqlite": "database/registry.sqlite", "postgres": "database/registry.pgdump"}
# Everything an archive may hold; any other name (a path trick, a link) refuses the archive.
MEMBER_NAMES = re.compile(
    r"manifest\.json|database/registry\.(sqlite|pgdump)|documents/[0-9a-f]{2}/[0-9a-f]{64}"
    r"|keys/[a-z]+\.json|audit-anchor\.log|secret_key"
)
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Summary:
    """What a backup wrote or a restore put back, for the one-line report."""

    path: Path
    engine: str
    counts: dict[str, int]
    documents: int
    size: int
    problems: tuple[str, ...] = ()
    documents_are: str = "document files"

    def line(self, verb: str) -> str:
        """One line for the operator."""
        return (
            f"{verb} {self.path} ({self.engine}): {self.counts.get('audit_event', 0)} audit "
            f"events, {self.counts.get('listing', 0)} listings, {self.documents} "
            f"{self.documents_are}, {self.size / 1_000_000:.1f} MB"
        )


class _Hashing(io.RawIOBase):
    """A reader that hashes what tarfile reads through it."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_if_exists(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _secret_file() -> Path:
    return get_settings().var_dir / SECRET


def _document_files() -> Iterator[tuple[str, Path]]:
    root = documents.root()
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if not (folder.is_dir() and re.fullmatch(r"[0-9a-f]{2}", folder.name)):
            continue  # e.g. the uploads' temporary folder
        for path in sorted(folder.iterdir()):
            name = f"documents/{folder.name}/{path.name}"
            if path.is_file() and MEMBER_NAMES.fullmatch(name):
                yield name, path


class _Writer:
    """Members go into the tar as they come; their checksums into the manifest."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members: dict[str, dict[str, Any]] = {}

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(timesource.now().timestamp())
        return info

    def add_bytes(self, name: str, data: bytes) -> None:
        self.tar.addfile(self._info(name, len(data)), io.BytesIO(data))
        self.members[name] = {"sha256": _sha256(data), "size": len(data)}

    def add_file(self, name: str, path: Path) -> str:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            reader = _Hashing(handle)
            self.tar.addfile(self._info(name, size), reader)
        digest = reader.digest.hexdigest()
        self.members[name] = {"sha256": digest, "size": size}
        return digest


async def _snapshot(engine: str, url: str, target: Path) -> Facts:
    if engine == "postgres":
        return await backup_db.snapshot_postgres(url, target)
    return await backup_db.snapshot_sqlite(url, target)


async def create_backup(out: Path, progress: Advance = ignore) -> Summary:
    """Write the archive to `out` (0600; replaced only once complete).

    `progress` hears how many document files are archived (the database comes first)."""
    settings = get_settings()
    anchors = _read_if_exists(anchor_path())  # before the snapshot: see the module docstring
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="registry-backup-") as scratch:
        dump = Path(scratch) / "database"
        facts = await _snapshot(settings.engine, settings.database_url, dump)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with (
                os.fdopen(descriptor, "wb") as handle,
                tarfile.open(fileobj=handle, mode="w:gz", compresslevel=6) as tar,
            ):
                writer = _Writer(tar)
                writer.add_file(DATABASE[settings.engine], dump)
                files, corrupt = _add_documents(writer, progress)
                for purpose in keys.PURPOSES:
                    ring = _read_if_exists(keys.keys_dir() / f"{purpose}.json")
                    if ring is not None:
                        writer.add_bytes(f"keys/{purpose}.json", ring)
                if anchors is not None:
                    writer.add_bytes(ANCHORS, anchors)
                secret = _read_if_exists(_secret_file())
                if secret is not None and not os.environ.get("REGISTRY_SECRET_KEY"):
                    writer.add_bytes(SECRET, secret)
                manifest = _manifest(settings.engine, facts, writer.members)
                writer.add_bytes(MANIFEST, json.dumps(manifest, indent=2).encode())
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    problems = tuple(f"document file {name} does not match its hash" for name in corrupt)
    return Summary(out, settings.engine, facts.counts, files, out.stat().st_size, problems)


def _add_documents(writer: _Writer, progress: Advance) -> tuple[int, list[str]]:
    files = 0
    corrupt: list[str] = []
    found = list(_document_files())
    for name, path in found:
        progress(files, len(found))
        if writer.add_file(name, path) != path.name:
            corrupt.append(name)  # archived as it is; the restore's check names it again
        files += 1
    progress(files, len(found))
    return files, corrupt


def _manifest(engine: str, facts: Facts, members: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "created_at": timesource.now().isoformat(timespec="seconds"),
        "engine": engine,
        "migrations": facts.migrations,
        "counts": facts.counts,
        "audit_head": facts.audit_head,
        "document_rows": len(facts.document_hashes),
        "members": members,
    }
