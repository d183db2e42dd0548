"""Key material, kept outside the database (GB/T 22239: keys apart from the data they protect).

Each purpose has its own key ring, a JSON file `<keys dir>/<purpose>.json` (mode 0600) holding
its keys by id and the id of the current one:

- `certificate`: signs the codes printed on certificates (a leaked session key no longer voids
  every certificate; rotating adds a key and old certificates still verify);
- `audit`: keys the audit chain's hashes, so rewriting an event and recomputing the chain needs
  a key the database does not hold;
- `field`: encrypts resident ID and phone numbers in storage and keys their lookup hashes.

A ring is created on first use. `registry backup` copies the keys directory with the database,
since data encrypted under a lost key is lost.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock

from registry.settings import get_settings

PURPOSES = ("certificate", "audit", "field")
_lock = Lock()
_rings: dict[str, KeyRing] = {}


@dataclass
class KeyRing:
    """The keys of one purpose: every key by its id, and which one signs or encrypts now."""

    purpose: str
    current_id: str
    keys: dict[str, bytes] = field(default_factory=dict)

    @property
    def current(self) -> bytes:
        """The key new signatures and ciphertexts use."""
        return self.keys[self.current_id]

    def get(self, key_id: str) -> bytes | None:
        """A key by id (an old one still verifies what it signed), or None."""
        return self.keys.get(key_id)


def keys_dir() -> Path:
    """Where the key rings live: REGISTRY_KEYS_DIR, else `<var dir>/keys`."""
    configured = os.environ.get("REGISTRY_KEYS_DIR", "").strip()
    return Path(configured).resolve() if configured else get_settings().var_dir / "keys"


def _path(purpose: str) -> Path:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown key purpose: {purpose}")
    return keys_dir() / f"{purpose}.json"


def _new_id(existing: dict[str, bytes]) -> str:
    number = len(existing) + 1
    while f"k{number}" in existing:
        number += 1
    return f"k{number}"


def _staged(ring: KeyRing) -> Path:
    """The ring written to a private temporary file beside its final place."""
    path = _path(ring.purpose)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"current": ring.current_id, "keys": {k: v.hex() for k, v in ring.keys.items()}}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # Created 0600 from the start: the key is never readable by others, not even for a moment.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(body, handle, indent=2)
    return temporary


def _write(ring: KeyRing) -> None:
    _staged(ring).replace(_path(ring.purpose))


def _create(ring: KeyRing) -> KeyRing:
    """Store a new ring unless another process stored one first; either way, the stored one."""
    temporary = _staged(ring)
    try:
        # link() never replaces: of two processes starting at once, one ring wins and both
        # use it (a replaced ring would orphan whatever the loser had already keyed).
        os.link(temporary, _path(ring.purpose))
    except FileExistsError:
        stored = _read(ring.purpose)
        assert stored is not None
        return stored
    finally:
        temporary.unlink()
    return ring


def _read(purpose: str) -> KeyRing | None:
    path = _path(purpose)
    if not path.exists():
        return None
    body = json.loads(path.read_text(encoding="utf-8"))
    keys = {str(k): bytes.fromhex(v) for k, v in body["keys"].items()}
    return KeyRing(purpose, str(body["current"]), keys)


def keyring(purpose: str) -> KeyRing:
    """The purpose's key ring, created with one fresh key on first use."""
    directory = str(keys_dir())
    cache_key = f"{directory}:{purpose}"
    with _lock:
        ring = _rings.get(cache_key)
        if ring is None:
            ring = _read(purpose)
            if ring is None:
                ring = _create(KeyRing(purpose, "k1", {"k1": secrets.token_bytes(32)}))
            _rings[cache_key] = ring
        return ring


def rotate(purpose: str) -> str:
    """Add a new current key to the purpose's ring (old keys stay, to verify or decrypt)."""
    ring = keyring(purpose)
    with _lock:
        key_id = _new_id(ring.keys)
        ring.keys[key_id] = secrets.token_bytes(32)
        ring.current_id = key_id
        _write(ring)
    return key_id


def forget_cached() -> None:
    """Drop the rings read so far (after a restore or when tests switch directories)."""
    with _lock:
        _rings.clear()
