"""What changed between two submissions of an application form, field by field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.access.personal_data import open_form
from registry.review.scope import staff_listing
from registry.tables import FormSnapshot
from workflows.actors import Actor

_ABSENT = object()


@dataclass(frozen=True)
class Change:
    """One changed leaf of the form: its path, and the value before and after."""

    path: str
    kind: str  # added | removed | changed
    old: Any
    new: Any


@dataclass(frozen=True)
class FormDiff:
    """The changes from one submission (base) to the next (head; None: the unsent form)."""

    base_version: int | None
    base_submitted_at: datetime | None
    head_version: int | None
    head_submitted_at: datetime | None
    changes: list[Change]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested JSON as {path: leaf}, with paths like courses[0].fee_per_student_month."""
    if isinstance(value, dict) and value:
        items = [(f"{prefix}.{key}" if prefix else str(key), v) for key, v in value.items()]
    elif isinstance(value, list) and value:
        items = [(f"{prefix}[{index}]", v) for index, v in enumerate(value)]
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for path, item in items:
        flat.update(flatten(item, path))
    return flat


def diff_forms(old: Any, new: Any) -> list[Change]:
    """Every leaf that differs, in the new form's order, then the removed ones."""
    before, after = flatten(old), flatten(new)
    paths = [*after, *(p for p in before if p not in after)]
    changes = []
    for path in paths:
        a, b = before.get(path, _ABSENT), after.get(path, _ABSENT)
        # 150 and 150.0 are the same fee; True and 1 are not the same answer.
        if a == b and isinstance(a, bool) == isinstance(b, bool):
            continue
        kind = "added" if a is _ABSENT else "removed" if b is _ABSENT else "changed"
        changes.append(Change(path, kind, None if a is _ABSENT else a, None if b is _ABSENT else b))
    return changes


async def form_diff(listing_id: int, actor: Actor) -> FormDiff:
    """The last two submissions compared (or the only one against the form as it is now)."""
    listing, _ = await staff_listing(listing_id, actor)
    snapshots = await (
        FormSnapshot.select(FormSnapshot.version, FormSnapshot.form, FormSnapshot.submitted_at)
        .where(FormSnapshot.listing == listing_id)
        .order_by(FormSnapshot.id, ascending=False)
        .limit(2)
        .output(load_json=True)
    )
    if not snapshots:
        return FormDiff(None, None, None, None, [])
    if len(snapshots) == 1:
        base = snapshots[0]
        return FormDiff(
            base["version"],
            base["submitted_at"],
            None,
            None,
            diff_forms(open_form(base["form"]), listing["form"]),
        )
    head, base = snapshots
    return FormDiff(
        base["version"],
        base["submitted_at"],
        head["version"],
        head["submitted_at"],
        diff_forms(open_form(base["form"]), open_form(head["form"])),
    )
