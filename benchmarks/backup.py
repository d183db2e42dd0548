"""Seconds to back up and restore the demo registry, and the size of the archive.

    python benchmarks/backup.py [--organisations 320] [--documents 200] [--document-kb 200]

Seeds the demo data (`registry seed-demo`) into a fresh SQLite database under a temporary
folder, adds N uploaded documents of random (incompressible, like real scans and PDFs) content
attached to demo listings, then times the real commands as an operator runs them, each in its
own process: `registry backup --out FILE`, and `registry restore FILE` into a second, empty
folder and database (which includes checking every member, the audit chain and every
document's hash). The demo itself uploads no documents; without them the archive is only the
database.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_TMP = Path(tempfile.mkdtemp(prefix="registry-bench-backup-"))
SOURCE = {
    "REGISTRY_VAR_DIR": str(_TMP / "source"),
    "REGISTRY_DATABASE_URL": f"sqlite:///{_TMP / 'source' / 'registry.sqlite'}",
    "REGISTRY_AUDIT_ANCHOR_FILE": str(_TMP / "source" / "audit-anchor.log"),
}
TARGET = {
    "REGISTRY_VAR_DIR": str(_TMP / "target"),
    "REGISTRY_DATABASE_URL": f"sqlite:///{_TMP / 'target' / 'registry.sqlite'}",
    "REGISTRY_AUDIT_ANCHOR_FILE": str(_TMP / "target" / "audit-anchor.log"),
}
os.environ.update(SOURCE)

from registry.applications import storage  # noqa: E402
from registry.cli import migrate_database  # noqa: E402
from registry.demo import seed_demo_data  # noqa: E402
from registry.tables import Document, Listing  # noqa: E402


async def _seed(organisations: int, documents: int, size: int) -> None:
    await migrate_database()
    await seed_demo_data(seed=2026, organisations=organisations)
    listings = [row["id"] for row in await Listing.select(Listing.id)]
    rng = random.Random(2026)
    rows = []
    for number in range(documents):
        content = b"%PDF-1.4\n" + rng.randbytes(size)
        stored = storage.store(io.BytesIO(content), len(content))
        rows.append(
            Document(
                listing=rng.choice(listings), kind="licence", sha256=stored.sha256,
                original_name=f"材料{number}.pdf", mime_type=stored.mime_type, size=stored.size,
            )
        )  # fmt: skip
    for start in range(0, len(rows), 500):
        await Document.insert(*rows[start : start + 500])


def _registry(env: dict[str, str], *args: str, code: str = "") -> tuple[float, str]:
    """Run `registry ARGS` in its own process; its wall time and its output."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code or "from registry.cli import main; main()", *args],
        cwd=ROOT, env={**os.environ, **env, "REGISTRY_CLOCK_INTERVAL": "0"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"registry {' '.join(args)} failed:\n{done.stderr}")
    return elapsed, done.stdout.strip()


def main() -> None:
    """Seed, back up, restore; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=320)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--document-kb", type=int, default=200)
    options = parser.parse_args()
    started = time.perf_counter()
    asyncio.run(_seed(options.organisations, options.documents, options.document_kb * 1024))
    print(f"seeded in {time.perf_counter() - started:.1f} s")
    _registry(SOURCE, "audit", "verify")  # the anchor file, as a running registry has one
    archive = _TMP / "registry-backup.tar.gz"
    database = Path(SOURCE["REGISTRY_DATABASE_URL"].removeprefix("sqlite:///"))
    # What each command spends before it starts working: the interpreter and the imports.
    startup, _ = _registry(SOURCE, code="import registry.piccolo_conf, registry.restore")
    backup_s, backup_out = _registry(SOURCE, "backup", "--out", str(archive))
    restore_s, restore_out = _registry(TARGET, "restore", str(archive))
    print(backup_out)
    print(restore_out)
    print(f"database: {database.stat().st_size / 1e6:.1f} MB; documents: {options.documents} x "
          f"{options.document_kb} KB; archive: {archive.stat().st_size / 1e6:.1f} MB")  # fmt: skip
    print(f"backup: {backup_s:.2f} s; restore (with all checks): {restore_s:.2f} s; "
          f"each including ~{startup:.2f} s of process start-up and imports")  # fmt: skip
    shutil.rmtree(_TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
