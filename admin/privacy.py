"""What the admin never serves in full: personal data is masked or dropped in every answer.

piccolo-admin's table API returns every column of a row whatever TableConfig shows
(`/api/tables/<t>/`, `/<id>/`, `?__visible_fields=`, `/new/`, and the UI's CSV export built
from them), so the guard sits on the wire: AuditedAdmin passes each JSON answer through
`scrub`, and refuses a request that filters, orders or selects by a personal column, since
a filter that answers "1 row" tells whether a resident ID exists.

The city sees these columns in the bureau's own pages where its work needs them; the admin
is for reference data and never needs a whole ID number, phone number or home address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from registry.access import personal_data as pd
from registry.access.masking import (
    MASK,
    mask_contact,
    mask_email,
    mask_phone,
    mask_resident_id,
    mask_text,
)

RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
__all__ = ["MASK", "mask_contact", "mask_email", "mask_phone", "mask_text", "scrub"]


def mask_address(value: str) -> str:
    """天津市河西区******: the district stays, the street and number go."""
    cut = max((value.find(mark) for mark in "区县"), default=-1)
    keep = value[: cut + 1] if 0 <= cut < 12 else value[:6]
    return keep + MASK * 6 if value else value


def _scrub_text(value: str) -> str:
    """Whole ID numbers and mobile numbers inside any text (a complaint may quote them)."""
    value = RESIDENT_ID.sub(lambda m: mask_resident_id(m.group()), value)
    return MOBILE.sub(lambda m: mask_phone(m.group()), value)


Masker = Callable[[str, Mapping[str, Any]], str]


def _address(value: str, row: Mapping[str, Any]) -> str:
    # An organisation's address is its business premises (public on its licence); an
    # individual's is their home. Unknown (the kind not in the answer): masked.
    return value if row.get("kind") == "organisation" else mask_address(value)


# Column (or JSON key) → how it is shown. Applied at any depth: a name means the same thing
# in an organisation row, an application form and an audit event's payload.
# Sealed columns (registry.access.personal_data) are opened first, then masked.
MASKED: dict[str, Masker] = {
    "resident_id": lambda value, row: mask_resident_id(pd.plain_text(value, pd.RESIDENT_ID)),
    "contact_phone": lambda value, row: mask_phone(pd.plain_text(value, pd.PHONE)),
    "emergency_phone": lambda value, row: mask_phone(value),
    "phone": lambda value, row: mask_phone(value),
    "contact_email": lambda value, row: mask_email(value),
    "contact": lambda value, row: mask_contact(pd.plain_text(value, pd.CONTACT)),
    "address": _address,
}
# Never served at all: the application form and its snapshots hold every staff member's ID
# number and phone; a sender's address hash is an identifier by design.
DROPPED: dict[str, frozenset[str]] = {
    "listing": frozenset({"form"}),
    "form_snapshot": frozenset({"form"}),
    "complaint": frozenset({"client_hash"}),
    "objection": frozenset({"client_hash"}),
}
# A keyed hash of a resident ID identifies its holder as surely as the number does.
ALWAYS_DROPPED = frozenset({"client_hash", "resident_id_hash"})
# Columns no request may filter, order or select by, on any table.
PERSONAL_COLUMNS = frozenset(MASKED) | ALWAYS_DROPPED | {"form"}


def personal_columns(table: str) -> frozenset[str]:
    """The columns of one table the admin never serves in full."""
    return frozenset(MASKED) | DROPPED.get(table, frozenset())


def scrub(table: str, data: Any) -> Any:
    """An admin answer for `table` with personal data masked or dropped, at any depth."""
    return _scrub(data, DROPPED.get(table, frozenset()) | ALWAYS_DROPPED)


def _scrub(data: Any, dropped: frozenset[str]) -> Any:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in dropped:
                continue
            if key in MASKED and isinstance(value, str) and value:
                out[key] = MASKED[key](value, data)
            else:
                out[key] = _scrub(value, dropped)
        return out
    if isinstance(data, list):
        return [_scrub(item, dropped) for item in data]
    if isinstance(data, str):
        return _scrub_json_text(data, dropped)
    return data


def _scrub_json_text(value: str, dropped: frozenset[str]) -> str:
    """JSON columns arrive as JSON text: scrub what is inside, then the text itself."""
    if value[:1] in ("{", "["):
        try:
            inner = json.loads(value)
        except json.JSONDecodeError:
            pass
        else:
            return json.dumps(_scrub(inner, dropped), ensure_ascii=False)
    return _scrub_text(value)


def _named_columns(key: str, value: str) -> Iterable[str]:
    """The columns a query parameter filters, orders or selects by."""
    key = key.removesuffix("[]")
    if key == "__order":
        return [part.strip().lstrip("-") for part in value.split(",")]
    if key == "__visible_fields":
        return [part.strip() for part in value.split(",")]
    if key.startswith("__"):
        return []  # paging and output options
    for suffix in ("__operator", "__match"):
        key = key.removesuffix(suffix)
    return [key]


def refused_parameter(query_string: str) -> str | None:
    """A Chinese refusal if the query names a personal column (at any join depth)."""
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        for column in _named_columns(key, value):
            name = column.rsplit(".", 1)[-1]
            if name in PERSONAL_COLUMNS:
                return f"管理后台不能按个人信息字段（{name}）筛选、排序或选取"
    return None


def unchanged_masks(body: Any) -> Any:
    """A write's body without the masked values the admin's edit form sends back unchanged.

    The form shows what `scrub` served; saving it must not overwrite the stored number with
    its mask. A number typed anew (no mask character) is written sealed, with its hash.
    """
    if not isinstance(body, dict):
        return body
    kept = {
        key: value
        for key, value in body.items()
        if not (key in PERSONAL_COLUMNS and isinstance(value, str) and MASK in value)
    }
    return _sealed(kept)


def _sealed(body: dict[str, Any]) -> dict[str, Any]:
    """A number typed anew is stored sealed, like every other write of it."""
    body = dict(body)
    body.pop("resident_id_hash", None)  # only ever derived from the number
    if "resident_id" in body and isinstance(body["resident_id"], str | None):
        number = (body["resident_id"] or "").strip() or None
        body["resident_id"] = pd.seal_optional(number, pd.RESIDENT_ID)
        body["resident_id_hash"] = pd.lookup_hash(number, pd.RESIDENT_ID) if number else None
    if isinstance(body.get("contact_phone"), str):
        body["contact_phone"] = pd.seal_text(body["contact_phone"], pd.PHONE)
    return body
