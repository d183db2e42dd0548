"""Resident ID and phone numbers in storage: sealed with AES-GCM, found by a keyed hash.

PIPL treats a resident ID as sensitive personal information and GB/T 22239 level 3 asks for
such data to be encrypted in storage, under a key kept apart from the database. Every column
that holds one (Organisation.resident_id and contact_phone, the contact of a complaint or an
objection) is written through `seal` and read through `unseal`; nothing else in the code
touches the cipher.

- A sealed value is text: `pd1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The key id
  travels with it, so after `registry.keys.rotate("field")` old values still open and new
  ones use the new key.
- The field kind ("resident_id", "phone", "contact") is the AEAD's associated data: a value
  copied into a column of another kind does not open.
- A lookup hash is `<key id>:HMAC-SHA256(key, value)`: equal numbers give equal hashes under one
  key, and nobody without the key can test a guess against the database. A lookup compares
  against the hashes under every key of the ring, so rotating needs no rehash of old rows.

Encryption and lookup use different keys derived from the ring's key, so the hash reveals
nothing about the cipher key and vice versa.

Not sealed (yet): the numbers inside the application form's JSON (Listing.form, FormSnapshot
.form). Some twenty readers take the form as stored, the workflow's guards among them (they
validate the schema and the GB 11643 check digit of every staff ID), and Piccolo offers no
read hook on a column; sealing leaves inside it safely means one loader for the form first.
The form is masked in every output instead (registry.access.masking).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from registry.keys import KeyRing, keyring

PURPOSE: Final = "field"
PREFIX: Final = "pd1"
NONCE_BYTES: Final = 12
RESIDENT_ID: Final = "resident_id"
PHONE: Final = "phone"
CONTACT: Final = "contact"
KINDS: Final = frozenset({RESIDENT_ID, PHONE, CONTACT})


class PersonalDataError(ValueError):
    """A sealed value that does not open: unknown key id, wrong field kind, or tampered."""


def _ring() -> KeyRing:
    return keyring(PURPOSE)


def _derived(key: bytes, use: bytes) -> bytes:
    return hmac.new(key, b"registry-field:" + use, hashlib.sha256).digest()


def _kind(kind: str) -> bytes:
    if kind not in KINDS:
        raise ValueError(f"unknown personal data kind: {kind}")
    return kind.encode("ascii")


def normalise(value: str, kind: str) -> str:
    """The form a number is sealed and hashed in (trimmed; a resident ID's X upper-case)."""
    value = value.strip()
    return value.upper() if kind == RESIDENT_ID else value


def is_sealed(value: object) -> bool:
    """Whether a stored value is a sealed one (`pd1:…`)."""
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def seal(value: str, kind: str) -> str:
    """The value encrypted under the ring's current key, with that key's id."""
    ring = _ring()
    nonce = os.urandom(NONCE_BYTES)
    key = _derived(ring.current, b"encrypt")
    sealed = AESGCM(key).encrypt(nonce, normalise(value, kind).encode("utf-8"), _kind(kind))
    body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
    return f"{PREFIX}:{ring.current_id}:{body}"


def unseal(token: str, kind: str) -> str:
    """The plain value of a sealed one; PersonalDataError if it does not open."""
    prefix, _, rest = token.partition(":")
    key_id, _, body = rest.partition(":")
    if prefix != PREFIX or not key_id or not body:
        raise PersonalDataError("not a sealed value")
    key = _ring().get(key_id)
    if key is None:
        raise PersonalDataError(f"unknown field key id: {key_id}")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        plain = AESGCM(_derived(key, b"encrypt")).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _kind(kind)
        )
    except (InvalidTag, ValueError) as error:
        raise PersonalDataError("sealed value does not open") from error
    return plain.decode("utf-8")


def seal_optional(value: str | None, kind: str) -> str | None:
    """`seal` for a nullable column: None stays None."""
    return None if value is None else seal_text(value, kind)


def seal_text(value: str, kind: str) -> str:
    """`seal` for a text column whose empty string means "none given": "" stays ""."""
    return seal(value, kind) if value.strip() else ""


def plain(stored: str | None, kind: str) -> str | None:
    """What a column holds, opened: a sealed value unsealed; None and "" as they are.

    A value that is not sealed is returned unchanged: only rows written before the
    encryption migration ran can hold one, and the migration seals them all.
    """
    if stored is None or not is_sealed(stored):
        return stored
    return unseal(stored, kind)


def plain_text(stored: str | None, kind: str) -> str:
    """`plain` for a text column: None reads as ""."""
    return plain(stored, kind) or ""


def _hash(key: bytes, value: str, kind: str) -> str:
    message = _kind(kind) + b":" + normalise(value, kind).encode("utf-8")
    return hmac.new(_derived(key, b"lookup"), message, hashlib.sha256).hexdigest()


def lookup_hash(value: str, kind: str) -> str:
    """The value's keyed hash under the current key, as stored beside the sealed value."""
    ring = _ring()
    return f"{ring.current_id}:{_hash(ring.current, value, kind)}"


def lookup_hashes(value: str, kind: str) -> list[str]:
    """The value's keyed hash under every key of the ring: what a lookup compares against."""
    ring = _ring()
    return [f"{key_id}:{_hash(key, value, kind)}" for key_id, key in sorted(ring.keys.items())]


def reseal(stored: str, kind: str) -> str:
    """A stored value sealed again under the current key (plaintext is sealed as it is)."""
    value = plain(stored, kind)
    return seal_text(value or "", kind)


def organisation_values(resident_id: str | None, contact_phone: str) -> dict[str, str | None]:
    """An Organisation's sealed columns, with the resident ID's lookup hash, for a write."""
    number = (resident_id or "").strip() or None
    return {
        "resident_id": seal_optional(number, RESIDENT_ID),
        "resident_id_hash": lookup_hash(number, RESIDENT_ID) if number else None,
        "contact_phone": seal_text(contact_phone, PHONE),
    }


def organisation_plain(row: dict[str, object]) -> dict[str, object]:
    """An Organisation row with its resident ID and phone opened (the hash left out)."""
    opened = {k: v for k, v in row.items() if k != "resident_id_hash"}
    for column, kind in (("resident_id", RESIDENT_ID), ("contact_phone", PHONE)):
        value = row.get(column)
        if isinstance(value, str):
            opened[column] = plain(value, kind)
    return opened
