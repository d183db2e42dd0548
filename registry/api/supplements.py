"""A listing's supplement requests item by item, and the provider's answers, over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from registry.api.documents import DocumentOut, document_out
from registry.applications.supplements import Round, readable_rounds, save_answers
from registry.web.security import provide_actor
from workflows.actors import Actor

_ACTOR = {"actor": Provide(provide_actor)}


class SupplementItemOut(msgspec.Struct):
    number: int
    text: str
    answer: str
    answered_at: datetime | None
    answered: bool
    documents: list[DocumentOut]


class SupplementRoundOut(msgspec.Struct):
    requested_version: int
    requested_at: datetime
    submitted_version: int | None
    open: bool
    items: list[SupplementItemOut]


class SupplementOut(msgspec.Struct):
    listing_id: int
    rounds: list[SupplementRoundOut]  # newest first; only the newest can be open


class AnswerIn(msgspec.Struct):
    number: int
    answer: str = ""


class AnswersIn(msgspec.Struct):
    answers: list[AnswerIn]


def _out(listing_id: int, rounds: list[Round]) -> SupplementOut:
    return SupplementOut(
        listing_id,
        [
            SupplementRoundOut(
                r.requested_version,
                r.requested_at,
                r.submitted_version,
                r.open,
                [
                    SupplementItemOut(
                        i.number,
                        i.text,
                        i.answer,
                        i.answered_at,
                        i.answered,
                        [document_out(d) for d in i.documents],
                    )
                    for i in r.items
                ],
            )
            for r in rounds
        ],
    )


@get(
    "/api/v1/listings/{listing_id:int}/supplement",
    operation_id="getSupplement",
    dependencies=_ACTOR,
    tags=["listings"],
)
async def get_supplement(actor: NamedDependency[Actor], listing_id: FromPath[int]) -> SupplementOut:
    """Every supplement request's items with the provider's answers and documents (404 outside)."""
    return _out(listing_id, await readable_rounds(actor, listing_id))


@put(
    "/api/v1/listings/{listing_id:int}/supplement",
    operation_id="answerSupplement",
    dependencies=_ACTOR,
    tags=["listings"],
)
async def answer_supplement(
    actor: NamedDependency[Actor], listing_id: FromPath[int], data: JSONBody[AnswersIn]
) -> Any:
    """The provider's answers to the open request's items, by number (documents: upload with
    `supplement_item`); resubmit with the `resubmit` transition once every item is answered."""
    await save_answers(listing_id, actor, {a.number: a.answer for a in data.answers})
    return _out(listing_id, await readable_rounds(actor, listing_id))


ROUTES: list[Any] = [get_supplement, answer_supplement]
