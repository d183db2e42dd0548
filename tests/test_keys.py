"""Key rings live in files outside the database, private to their owner, and rotate."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from registry import keys


@pytest.fixture
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REGISTRY_KEYS_DIR", str(tmp_path / "keys"))
    keys.forget_cached()
    yield tmp_path / "keys"
    keys.forget_cached()


def test_a_ring_is_created_once_and_kept(key_dir: Path) -> None:
    ring = keys.keyring("certificate")
    assert len(ring.current) == 32 and ring.current_id == "k1"
    path = key_dir / "certificate.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys.forget_cached()
    assert keys.keyring("certificate").current == ring.current  # read back, not regenerated
    assert keys.keyring("audit").current != ring.current  # one key per purpose


def test_rotation_keeps_the_old_keys(key_dir: Path) -> None:
    old = keys.keyring("certificate")
    first = old.current
    assert keys.rotate("certificate") == "k2"
    keys.forget_cached()
    ring = keys.keyring("certificate")
    assert ring.current_id == "k2" and ring.current != first
    assert ring.get("k1") == first and ring.get("k9") is None


def test_unknown_purposes_are_refused(key_dir: Path) -> None:
    with pytest.raises(ValueError):
        keys.keyring("session")


def test_two_processes_creating_a_ring_at_once_end_with_the_same_key(key_dir: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with context.Pool(4) as pool:
        seen = pool.map(_current_key_hex, ["audit"] * 8)
    keys.forget_cached()
    assert set(seen) == {keys.keyring("audit").current.hex()}
    assert [p.name for p in key_dir.iterdir()] == ["audit.json"]  # no temporary left behind


def _current_key_hex(purpose: str) -> str:
    keys.forget_cached()
    return keys.keyring(purpose).current.hex()
