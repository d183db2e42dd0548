"""What changed between two submissions of an application: its form field by field (each named
in words from the schema's titles), and its documents added, replaced or removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.access.personal_data import open_form
from registry.applications.documents import UPLOAD_KINDS
from registry.review.scope import staff_listing
from registry.tables import Document, FormSnapshot
from schemas import APPLICATION, load_schema
from schemas.labels import field_label
from workflows.actors import Actor

_ABSENT = object()
SCHEMA = load_schema(APPLICATION)


@dataclass(frozen=True)
class Change:
    """One changed leaf of the form: its path, and the value before and after."""

    path: str
    kind: str  # added | removed | changed
    old: Any
    new: Any

    @property
    def label(self) -> str:
        """The path in words: 课程 1 · 上课时段 2 · 结束时间."""
        return field_label(SCHEMA, self.path)


@dataclass(frozen=True)
class DocumentChange:
    """A document added, removed, or put in the place of another of its kind (replaced)."""

    kind: str  # added | replaced | removed
    document_kind: str
    document_kind_label: str
    staff_index: int | None
    old: dict[str, Any] | None  # {id, original_name}: what was there at the base submission
    new: dict[str, Any] | None  # what is there now (or at the head submission)


@dataclass(frozen=True)
class FormDiff:
    """The changes from one submission (base) to the next (head; None: the unsent form)."""

    base_version: int | None
    base_submitted_at: datetime | None
    head_version: int | None
    head_submitted_at: datetime | None
    changes: list[Change]
    # None when the base submission predates keeping its document list: nothing to compare.
    documents: list[DocumentChange] | None = None


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


def _slot(document: dict[str, Any]) -> tuple[str, int | None]:
    # Documents of one kind for one staff member stand in for each other (a renewed certificate).
    return str(document.get("kind")), document.get("staff_index")


def _key(document: dict[str, Any]) -> tuple[Any, Any]:
    return document.get("id"), document.get("sha256")


def diff_documents(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[DocumentChange]:
    """Documents added, removed, and replaced (one gone and one come in the same slot)."""
    # SQLite hands a deleted row's id to the next insert: a document is its id and its bytes.
    old_keys, new_keys = {_key(d) for d in old}, {_key(d) for d in new}
    gone = [d for d in old if _key(d) not in new_keys]
    came = [d for d in new if _key(d) not in old_keys]
    changes: list[DocumentChange] = []
    for document in came:
        twin = next((g for g in gone if _slot(g) == _slot(document)), None)
        if twin is not None:
            gone.remove(twin)
        changes.append(_document_change("replaced" if twin else "added", twin, document))
    changes += [_document_change("removed", document, None) for document in gone]
    return changes


def _document_change(
    kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> DocumentChange:
    either = new or old or {}
    brief = ("id", "original_name")
    return DocumentChange(
        kind=kind,
        document_kind=str(either.get("kind")),
        document_kind_label=UPLOAD_KINDS.get(str(either.get("kind")), str(either.get("kind"))),
        staff_index=either.get("staff_index"),
        old={k: old.get(k) for k in brief} if old else None,
        new={k: new.get(k) for k in brief} if new else None,
    )


async def _documents_now(listing_id: int) -> list[dict[str, Any]]:
    return await (
        Document.select(
            Document.id,
            Document.kind,
            Document.staff_index,
            Document.original_name,
            Document.sha256,
        )
        .where(Document.listing == listing_id)
        .order_by(Document.id)
    )


async def form_diff(listing_id: int, actor: Actor) -> FormDiff:
    """The last two submissions compared (or the only one against the form as it is now)."""
    listing, _ = await staff_listing(listing_id, actor)
    snapshots = await (
        FormSnapshot.select(
            FormSnapshot.version,
            FormSnapshot.form,
            FormSnapshot.submitted_at,
            FormSnapshot.documents,
        )
        .where(FormSnapshot.listing == listing_id)
        .order_by(FormSnapshot.id, ascending=False)
        .limit(2)
        .output(load_json=True)
    )
    if not snapshots:
        return FormDiff(None, None, None, None, [])
    if len(snapshots) == 1:
        base = snapshots[0]
        head_form, head_documents = listing["form"], await _documents_now(listing_id)
        head_version, head_at = None, None
    else:
        head, base = snapshots
        head_form, head_documents = open_form(head["form"]), head["documents"]
        head_version, head_at = head["version"], head["submitted_at"]
    compared = base["documents"] is not None and head_documents is not None
    return FormDiff(
        base["version"],
        base["submitted_at"],
        head_version,
        head_at,
        diff_forms(open_form(base["form"]), head_form),
        diff_documents(base["documents"], head_documents) if compared else None,
    )
