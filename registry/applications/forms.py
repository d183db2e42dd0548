"""A draft's form: save it as typed (half-filled is fine), check it as a submit would.

Saving a form is not a transition: it never changes `state` or `version` (only the engine
writes those). Two checks keep a save from overwriting someone else's work:

- `version` must equal the listing's version: nothing was fired (submitted, withdrawn…) since
  the client loaded it;
- `form_hash` (sha256 of the stored form in canonical JSON, as returned by every read and save)
  must equal the hash of the form stored now: no colleague saved in between.

Either mismatch is a Conflict and nothing is written. A caller that gives no hash gets only
the first check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.access.masking import restore_masked
from registry.access.personal_data import seal_form
from registry.applications.ownership import own_listing, provider_grant
from registry.db import write_transaction
from registry.tables import Listing
from schemas import APPLICATION, FieldError, validate
from workflows import audit
from workflows.actors import Actor
from workflows.checks import Finding, run_checks
from workflows.context import Refusal
from workflows.engine import Conflict, Refused, build_context
from workflows.identity import normalise_identities
from workflows.states import Role, State
from workflows.transitions import TRANSITIONS

EDITABLE_STATES = frozenset({State.draft, State.needs_supplement})


def form_hash(form: object) -> str:
    """The hash a client sends back to prove it saw the stored form."""
    encoded = json.dumps(form, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def draft_problems(form: object) -> list[dict[str, str]]:
    """What is wrong in a draft so far (partial: what is missing is not yet a problem)."""
    return [e.as_dict() for e in validate(APPLICATION, form, partial=True)]


@dataclass(frozen=True)
class Saved:
    """The outcome of a save: the stored form's hash, what changed, what is still wrong."""

    form_hash: str
    changed: list[str]
    problems: list[dict[str, str]]


async def save_form(
    listing_id: int, actor: Actor, form: dict[str, Any], version: int, seen_hash: str | None
) -> Saved:
    """Store a (possibly half-filled) form; Conflict if the listing or its form moved meanwhile."""
    async with write_transaction(Listing._meta.db):
        row = await own_listing(listing_id, actor, lock=True)
        state = State(row["state"])
        if state not in EDITABLE_STATES:
            raise Refused(
                "当前状态不能修改申请表",
                [Refusal("state", "not_editable", f"申请当前为「{state.label}」，不能修改申请表")],
            )
        if version != row["version"] or (seen_hash and seen_hash != form_hash(row["form"])):
            raise Conflict("申请表已被他人修改或状态已变化，请刷新页面后再保存")
        old = row["form"] if isinstance(row["form"], dict) else {}
        form = normalise_identities(form)
        # A masked number sent back stands for the stored one: never store the mask.
        form, unresolved = restore_masked(form, old)
        if unresolved:
            raise Refused(
                "申请表中有被遮蔽的号码，请重新填写完整",
                [Refusal(f"form.{p}", "masked", "请填写完整的号码") for p in unresolved],
            )
        changed = sorted(k for k in set(old) | set(form) if old.get(k) != form.get(k))
        if changed:
            await Listing.update({Listing.form: seal_form(form)}).where(Listing.id == listing_id)
            await audit.record(
                actor,
                action="application.form_saved",
                role=Role.provider.value,
                listing=listing_id,
                # Section names only: the form holds ID numbers and phone numbers.
                payload={"listing": listing_id, "sections": changed},
            )
    return Saved(form_hash(form), changed, draft_problems(form))


@dataclass(frozen=True)
class CheckResult:
    """Schema problems (full validation) and automatic-check findings of a stored form."""

    problems: list[FieldError]
    findings: list[Finding]


async def check_listing(row: Mapping[str, Any], actor: Actor) -> CheckResult:
    """Validate the stored form fully and run the automatic checks, as a submit would."""
    needs = TRANSITIONS["submit"].needs | TRANSITIONS["resubmit"].needs
    ctx = await build_context(row, actor, provider_grant(actor), facts=needs)
    return CheckResult(validate(APPLICATION, row["form"]), run_checks(ctx))
