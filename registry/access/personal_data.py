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

The application form's JSON (Listing.form, FormSnapshot.form) holds numbers too: the
applicant's resident ID and phone, every staff member's resident ID, the emergency phone. Its
personal leaves (`FORM_LEAVES`, the keys registry.access.masking masks) are sealed one by one,
so the rest of the form stays JSON that SQL and the public projection can read (categories,
courses) while no number is stored in the clear:

- A sealed leaf holds the JSON text of the value (a string, or whatever a half-filled draft
  put there), under the associated data `form:<kind>`: it opens to exactly what was typed,
  and a leaf does not open as a column value or the other way round.
- Writers seal with `seal_form`; the readers that need the numbers (the engine's guards and
  checks, the provider's own draft, the bureau's masked view, the diff, the reveal) load the
  form through `open_form` / `with_open_form`. Readers of the public side never open it.
- Opening is idempotent: an opened form opens to itself, so a reader that is handed an
  opened form may open it again.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import os
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from registry.keys import KeyRing, keyring

log = logging.getLogger(__name__)
PURPOSE: Final = "field"
PREFIX: Final = "pd1"
NONCE_BYTES: Final = 12
RESIDENT_ID: Final = "resident_id"
PHONE: Final = "phone"
CONTACT: Final = "contact"
KINDS: Final = frozenset({RESIDENT_ID, PHONE, CONTACT})
# The application form's personal leaves, by key wherever they sit (organisation, staff[i],
# safety_plan), and the kind each is sealed as. The same keys as masking.FORM_FIELDS.
FORM_LEAVES: Final = {"resident_id": RESIDENT_ID, "contact_phone": PHONE, "emergency_phone": PHONE}


class PersonalDataError(ValueError):
    """A sealed value that does not open: unknown key id, wrong field kind, or tampered."""


def _ring() -> KeyRing:
    return keyring(PURPOSE)


def _derived(key: bytes, use: bytes) -> bytes:
    return hmac.new(key, b"registry-field:" + use, hashlib.sha256).digest()


@functools.lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESGCM:
    # One per field key: a form opens a dozen leaves, each would derive and set up its own.
    return AESGCM(_derived(key, b"encrypt"))


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


def _encrypt(plain: bytes, associated: bytes) -> str:
    """`plain` encrypted under the ring's current key, as `pd1:<key id>:<body>`."""
    ring = _ring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(ring.current).encrypt(nonce, plain, associated)
    body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
    return f"{PREFIX}:{ring.current_id}:{body}"


def _decrypt(token: str, associated: bytes, ring: KeyRing | None = None) -> bytes:
    prefix, _, rest = token.partition(":")
    key_id, _, body = rest.partition(":")
    if prefix != PREFIX or not key_id or not body:
        raise PersonalDataError("not a sealed value")
    key = (ring or _ring()).get(key_id)
    if key is None:
        raise PersonalDataError(f"unknown field key id: {key_id}")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return _cipher(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated)
    except (InvalidTag, ValueError) as error:
        raise PersonalDataError("sealed value does not open") from error


def seal(value: str, kind: str) -> str:
    """The value encrypted under the ring's current key, with that key's id."""
    return _encrypt(normalise(value, kind).encode("utf-8"), _kind(kind))


def unseal(token: str, kind: str) -> str:
    """The plain value of a sealed one; PersonalDataError if it does not open."""
    return _decrypt(token, _kind(kind)).decode("utf-8")


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


# The application form ---------------------------------------------------------------------------


def _form_kind(kind: str) -> bytes:
    return b"form:" + _kind(kind)


def _open_leaf(value: Any, kind: str, ring: KeyRing | None = None) -> tuple[bool, Any]:
    """(True, the value) for a leaf sealed as a form leaf of this kind; (False, it) otherwise."""
    if not is_sealed(value):
        return False, value
    try:
        return True, json.loads(_decrypt(value, _form_kind(kind), ring).decode("utf-8"))
    except (PersonalDataError, ValueError):
        # Not one of ours: text that merely looks sealed (typed into a draft), kept as it is,
        # or sealed under a key the ring lacks (a restore without its keys): say so, once
        # per read, by key id only.
        key_id = value.split(":", 2)[1]
        if (ring or _ring()).get(key_id) is None:
            log.warning("a form field is sealed under an unknown field key id %r", key_id[:16])
        return False, value


def _seal_leaf(value: Any, kind: str) -> Any:
    if value is None or value == "" or _open_leaf(value, kind)[0]:
        return value  # nothing to hide, or sealed already
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _encrypt(text.encode("utf-8"), _form_kind(kind))


def _walk(form: Any, leaf: Any) -> Any:
    if isinstance(form, dict):
        return {
            key: leaf(value, FORM_LEAVES[key]) if key in FORM_LEAVES else _walk(value, leaf)
            for key, value in form.items()
        }
    if isinstance(form, list):
        return [_walk(item, leaf) for item in form]
    return form


def seal_form(form: Any) -> Any:
    """A copy of a form (any JSON) with every personal leaf sealed, at any depth.

    Leaves sealed already are kept, so sealing twice changes nothing; None and "" stay.
    """
    return _walk(form, _seal_leaf)


def open_form(form: Any) -> Any:
    """A copy of a stored form with every sealed personal leaf opened; the rest as it is."""
    ring = _ring()  # once per form: finding the ring reads the settings
    return _walk(form, lambda value, kind: _open_leaf(value, kind, ring)[1])


def with_open_form(row: dict[str, Any]) -> dict[str, Any]:
    """A loaded row (with its JSON decoded) whose `form` is opened in place; the row."""
    if "form" in row:
        row["form"] = open_form(row["form"])
    return row


def form_needs_sealing(form: Any, current_only: bool = False) -> bool:
    """Whether a stored form holds a personal leaf in the clear (or, with `current_only`,
    one not sealed under the ring's current key)."""
    current = f"{PREFIX}:{_ring().current_id}:"
    found = False

    def check(value: Any, kind: str) -> Any:
        nonlocal found
        if value is None or value == "":
            return value
        sealed, _ = _open_leaf(value, kind)
        if not sealed or (current_only and not str(value).startswith(current)):
            found = True
        return value

    _walk(form, check)
    return found


def reseal_form(form: Any) -> Any:
    """A stored form with every personal leaf sealed again under the current key."""
    return seal_form(open_form(form))


def stored_form(value: Any) -> Any:
    """A form column as a raw query returns it (JSON text on either engine), decoded."""
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value
