"""What a review page reads besides the services: the submitted form, documents, actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.access.personal_data import open_form
from registry.applications.documents import UPLOAD_KINDS
from registry.applications.supplements import Round, rounds_of
from registry.review.scope import check_context
from registry.tables import Document, FormSnapshot
from workflows import engine
from workflows.actors import Actor
from workflows.states import EVALUATION_EXIT_REASONS, REVOCATION_REASONS, ExitReason

# Transitions whose exit reason the reviewer chooses, and from which codes.
EXIT_CHOICES = {"revoke": REVOCATION_REASONS, "fail_evaluation": EVALUATION_EXIT_REASONS}
INLINE_IMAGES = frozenset({"image/jpeg", "image/png"})


async def submitted_form(listing: Mapping[str, Any]) -> dict[str, Any]:
    """The form as last submitted (in a supplement the provider may be editing the live one)."""
    snapshot = await (
        FormSnapshot.select(FormSnapshot.form)
        .where(FormSnapshot.listing == listing["id"])
        .order_by(FormSnapshot.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    form = open_form(snapshot["form"] if snapshot else listing["form"])
    return form if isinstance(form, dict) else {}


def _readable(row: dict[str, Any], staff_names: list[str]) -> dict[str, Any]:
    row["kind_label"] = UPLOAD_KINDS.get(row["kind"], row["kind"])
    index = row["staff_index"]
    in_range = index is not None and 0 <= index < len(staff_names)
    row["staff_name"] = staff_names[index] if in_range else ""
    row["image"] = row["mime_type"] in INLINE_IMAGES
    return row


async def documents(listing_id: int, staff_names: list[str]) -> list[dict[str, Any]]:
    """The listing's documents with their kind's label, staff member, and whether an image."""
    rows = await Document.select().where(Document.listing == listing_id).order_by(Document.id)
    return [_readable(row, staff_names) for row in rows]


async def supplement_rounds(listing_id: int, staff_names: list[str]) -> list[Round]:
    """Each supplement request, newest first: its items beside the provider's answers."""
    rounds = await rounds_of(listing_id)
    for item in (item for r in rounds for item in r.items):
        item.documents = [_readable(d, staff_names) for d in item.documents]
    return rounds


@dataclass(frozen=True)
class ActionForm:
    """An action the engine offers the actor, and what its form must ask for."""

    name: str
    label: str
    target: str
    reason_required: bool
    available: bool
    problems: list[str]
    default_due: str | None  # request_supplement: the policy's deadline, to prefill
    exit_reasons: list[tuple[str, str]]  # revoke, fail_evaluation: the allowed codes


async def action_forms(
    listing: Mapping[str, Any], actor: Actor, policy: Mapping[str, Any]
) -> list[ActionForm]:
    """The engine's options for the actor (from the transition table), as forms."""
    ctx = await check_context(listing, actor, policy, facts=())
    due = ctx.calendar.add_working_days(ctx.today, int(policy["supplement_working_days"]))
    result = []
    for option in await engine.options(listing["id"], actor):
        transition = option.transition
        exits = EXIT_CHOICES.get(transition.name, frozenset())
        result.append(
            ActionForm(
                name=transition.name,
                label=transition.label,
                target=transition.target.label,
                reason_required=transition.reason_required,
                available=option.available,
                problems=[p.message for p in option.problems],
                default_due=due.isoformat() if transition.name == "request_supplement" else None,
                exit_reasons=[(r.value, r.label) for r in ExitReason if r in exits],
            )
        )
    return result
