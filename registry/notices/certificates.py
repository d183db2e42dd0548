"""Listing certificates (入库证书): numbers, signed verify codes, and what a code says now."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from registry.keys import forget_cached, keyring
from registry.public.projection import approved_courses
from registry.reference import CATEGORY_LABELS
from registry.settings import get_settings
from registry.tables import Listing
from workflows.actors import Actor
from workflows.engine import local_today
from workflows.states import ExitReason, Role, State

# A listing has a certificate once it has been listed; these states keep it (with its status).
CERTIFIED_STATES = frozenset(
    {State.listed, State.under_rectification, State.suspended, State.exited}
)
# 10 bytes of HMAC = 80 bits: far beyond guessing, and still a short URL.
SIGNATURE_BYTES = 10
SIGNATURE_CHARS = 16  # base32 of 10 bytes, unpadded
MAX_KEY_ID = 8


class Standing(StrEnum):
    """What the verify page says about a certificate now."""

    valid = "valid"
    rectifying = "rectifying"
    suspended = "suspended"
    exited = "exited"
    expired = "expired"


STANDING_LABELS = {
    Standing.valid: "有效",
    Standing.rectifying: "整改中",
    Standing.suspended: "暂停",
    Standing.exited: "已退出",
    Standing.expired: "已过期",
}


def certificate_number(district_code: str, listed_year: int, listing_id: int) -> str:
    """津课服白〔2026〕120101-000123: district, year listed and listing id (stable, readable)."""
    return f"津课服白〔{listed_year}〕{district_code}-{listing_id:06d}"


def _signature(key: bytes, listing_id: int) -> str:
    digest = hmac.new(key, f"certificate:{listing_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:SIGNATURE_BYTES]).decode().rstrip("=")


def verify_code(listing_id: int) -> str:
    """`{listing_id}-{key id}{signature}`, e.g. 42-K2ABCD…: signed with the certificate key.

    The key id names the certificate key that signed, so a code printed before a rotation
    still verifies; base32 and upper case keep it short in a QR code and easy to type.
    """
    ring = keyring("certificate")
    return f"{listing_id}-{ring.current_id.upper()}{_signature(ring.current, listing_id)}"


def _key_for(key_id: str) -> bytes | None:
    if not key_id:
        # Codes printed before certificates had their own key: `{id}-{signature}`, signed with
        # the app's secret. Paper lasts; they must keep verifying.
        return get_settings().secret_key.encode()
    if len(key_id) > MAX_KEY_ID:
        return None
    key = keyring("certificate").get(key_id.lower())
    if key is None and key_id[1:].isdigit():
        # Another process may have rotated the ring since this one read it.
        forget_cached()
        key = keyring("certificate").get(key_id.lower())
    return key


def listing_id_of(code: str) -> int | None:
    """The listing a verify code names, or None when the code is malformed or forged."""
    head, _, tail = code.strip().upper().partition("-")
    if not head.isdigit() or len(head) > 12 or len(tail) < SIGNATURE_CHARS:
        return None
    key_id, signature = tail[:-SIGNATURE_CHARS], tail[-SIGNATURE_CHARS:]
    key = _key_for(key_id)
    if key is None:
        return None
    listing_id = int(head)
    # Constant-time comparison: timing must not reveal how much of a forged signature matched.
    if not hmac.compare_digest(signature, _signature(key, listing_id)):
        return None
    return listing_id


def verify_url(base_url: str, listing_id: int) -> str:
    """The absolute verify URL the certificate's QR code holds."""
    return f"{base_url.rstrip('/')}/verify/{verify_code(listing_id)}"


@dataclass(frozen=True)
class Certificate:
    """Everything a certificate shows, and the listing's standing now."""

    listing_id: int
    number: str
    code: str
    organisation_name: str
    district_code: str
    district_name: str
    categories: list[str]
    courses: list[str]
    listed_on: date
    valid_until: date | None
    state: State
    exited_on: date | None
    exit_reason: ExitReason | None
    rectification_due: date | None
    organisation_id: int
    district_id: int

    @property
    def issuer(self) -> str:
        """The issuing bureau."""
        return f"天津市{self.district_name}教育局"

    def standing(self, today: date) -> Standing:
        """Valid, under rectification, suspended, exited or expired, as of `today`."""
        if self.state == State.exited:
            return Standing.expired if self.exit_reason == ExitReason.expired else Standing.exited
        if self.valid_until is not None and self.valid_until < today:
            # The clock may not have run yet: the date decides, not the stored state.
            return Standing.expired
        if self.state == State.suspended:
            return Standing.suspended
        if self.state == State.under_rectification:
            return Standing.rectifying
        return Standing.valid


def _local_date(moment: datetime | None) -> date | None:
    return local_today(moment) if moment is not None else None


COLUMNS = (
    *Listing._meta.columns,
    Listing.district.code.as_alias("district_code"),
    Listing.district.name.as_alias("district_name"),
    Listing.organisation.name.as_alias("organisation_name"),
)


def _certificate(row: dict[str, Any]) -> Certificate:
    form = row["form"] if isinstance(row["form"], dict) else {}
    listed_on = _local_date(row["listed_at"])
    assert listed_on is not None
    reason = row["exit_reason"]
    return Certificate(
        listing_id=row["id"],
        number=certificate_number(row["district_code"], listed_on.year, row["id"]),
        code=verify_code(row["id"]),
        organisation_name=row["organisation_name"],
        district_code=row["district_code"],
        district_name=row["district_name"],
        categories=[CATEGORY_LABELS.get(c, c) for c in form.get("categories", [])],
        courses=[
            str(c.get("name", ""))
            for c in approved_courses(form, row["course_decisions"] or {})
            if c.get("name")
        ],
        listed_on=listed_on,
        valid_until=row["valid_until"],
        state=State(row["state"]),
        exited_on=_local_date(row["exited_at"]),
        exit_reason=ExitReason(reason) if reason else None,
        rectification_due=row["rectification_due"],
        organisation_id=row["organisation"],
        district_id=row["district"],
    )


async def certificate_of(listing_id: int) -> Certificate | None:
    """The certificate of a listing that is or was listed; None otherwise."""
    row = await (
        Listing.select(*COLUMNS)
        .where(
            (Listing.id == listing_id)
            & Listing.state.is_in(sorted(s.value for s in CERTIFIED_STATES))
            & Listing.listed_at.is_not_null()
        )
        .output(load_json=True)
        .first()
    )
    return _certificate(row) if row is not None else None


def may_download(actor: Actor | None, certificate: Certificate) -> bool:
    """The organisation's own users and the district's staff; nobody else (they get a 404)."""
    if actor is None:
        return False
    for grant in actor.grants:
        if grant.role == Role.provider and grant.organisation_id == certificate.organisation_id:
            return True
        if grant.role in (Role.reviewer, Role.approver) and (
            grant.district_id == certificate.district_id
        ):
            return True
    return False
