"""Supplement requests item by item: what the reviewer asked, what the provider answered.

The engine stores a request's items when it fires request_supplement (one round, numbered from
1) and stamps the round when the provider resubmits; until then the provider answers each item
here, with a text and with documents uploaded for it (registry.applications.documents, the
`supplement_item` of an upload). Resubmission is refused while an item has neither
(workflows.guards.supplement_answered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from registry.applications.documents import UPLOAD_KINDS, may_read
from registry.applications.ownership import own_listing
from registry.db import write_transaction
from registry.tables import Document, Listing, SupplementItem
from workflows import audit, timesource
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import NotFound, Refused
from workflows.states import Role, State

ANSWER_LENGTH = 2000


@dataclass
class Item:
    """One numbered item, its answer, and the documents uploaded for it."""

    id: int
    number: int
    text: str
    answer: str
    answered_at: datetime | None
    documents: list[dict[str, Any]] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """A text or at least one document."""
        return bool(self.answer.strip() or self.documents)


@dataclass
class Round:
    """The items of one supplement request; `open` until the provider resubmits."""

    requested_version: int
    requested_at: datetime
    submitted_version: int | None
    items: list[Item]

    @property
    def open(self) -> bool:
        """Still being answered (not yet sent back with a resubmission)."""
        return self.submitted_version is None


async def rounds_of(listing_id: int) -> list[Round]:
    """Every supplement request of the listing, the newest first, each with its answers."""
    rows = await (
        SupplementItem.select()
        .where(SupplementItem.listing == listing_id)
        .order_by(SupplementItem.requested_version, ascending=False)
        .order_by(SupplementItem.number)
    )
    ids = [row["id"] for row in rows]
    documents = (
        await Document.select().where(Document.supplement_item.is_in(ids)).order_by(Document.id)
        if ids
        else []
    )
    for document in documents:
        document["kind_label"] = UPLOAD_KINDS.get(document["kind"], document["kind"])
    result: list[Round] = []
    for row in rows:
        if not result or result[-1].requested_version != row["requested_version"]:
            result.append(
                Round(row["requested_version"], row["requested_at"], row["submitted_version"], [])
            )
        result[-1].items.append(
            Item(
                id=row["id"],
                number=row["number"],
                text=row["text"],
                answer=row["answer"],
                answered_at=row["answered_at"],
                documents=[d for d in documents if d["supplement_item"] == row["id"]],
            )
        )
    return result


def open_round(rounds: list[Round]) -> Round | None:
    """The round the provider is answering now, if any."""
    return next((r for r in rounds if r.open), None)


async def readable_rounds(actor: Actor | None, listing_id: int) -> list[Round]:
    """The rounds, for those who may read the listing's documents; NotFound otherwise."""
    listing = await Listing.select().where(Listing.id == listing_id).first()
    if listing is None or not may_read(actor, listing):
        raise NotFound("申请记录不存在")
    return await rounds_of(listing_id)


async def open_item_id(listing_id: int, number: int) -> int | None:
    """The id of item `number` of the listing's open round (None: no such item)."""
    row = await (
        SupplementItem.select(SupplementItem.id)
        .where(
            (SupplementItem.listing == listing_id)
            & SupplementItem.submitted_version.is_null()
            & (SupplementItem.number == number)
        )
        .first()
    )
    return int(row["id"]) if row else None


async def save_answers(listing_id: int, actor: Actor, answers: Mapping[int, str]) -> list[int]:
    """Store the provider's answers by item number; the numbers whose answer changed."""
    cleaned = {number: text.replace("\r\n", "\n").strip() for number, text in answers.items()}
    changed: list[int] = []
    async with write_transaction(SupplementItem._meta.db):
        listing = await own_listing(listing_id, actor, lock=True)
        state = State(listing["state"])
        if state != State.needs_supplement:
            message = f"申请当前为「{state.label}」，不在补正期间，不能答复补正事项"
            refusal = Refusal("state", "not_editable", message)
            raise Refused(refusal.message, [refusal])
        rows = await SupplementItem.select().where(
            (SupplementItem.listing == listing_id) & SupplementItem.submitted_version.is_null()
        )
        by_number = {row["number"]: row for row in rows}
        problems = [
            Refusal(f"supplement_items[{n - 1}]", "unknown", f"没有第 {n} 项补正事项")
            for n in sorted(set(cleaned) - set(by_number))
        ] + [
            Refusal(
                f"supplement_items[{n - 1}]",
                "maxLength",
                f"补正事项 {n} 的答复不能超过 {ANSWER_LENGTH} 字（现有 {len(text)} 字）",
            )
            for n, text in sorted(cleaned.items())
            if len(text) > ANSWER_LENGTH
        ]
        if problems:
            raise Refused("补正答复未能保存", problems)
        for number, text in sorted(cleaned.items()):
            row = by_number[number]
            if row["answer"] == text:
                continue
            await SupplementItem.update(
                {
                    SupplementItem.answer: text,
                    SupplementItem.answered_at: timesource.now() if text else None,
                    SupplementItem.answered_by: actor.user_id if text else None,
                }
            ).where(SupplementItem.id == row["id"])
            changed.append(number)
        if changed:
            await audit.record(
                actor,
                action="supplement.answered",
                role=Role.provider.value,
                listing=listing_id,
                # Item numbers only: an answer may quote ID or phone numbers.
                payload={"items": changed},
            )
    return changed
