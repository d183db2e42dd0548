"""A provider's applications over HTTP: read and save a draft's form; the inbox.

The services live in registry.applications (drafts, forms); a 409 here is a save that lost
to a colleague's save or to a transition (see registry.applications.forms).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from registry.access.masking import mask_form
from registry.applications.forms import EDITABLE_STATES, draft_problems, form_hash, save_form
from registry.applications.inbox import InboxItem, inbox_for
from registry.applications.ownership import own_listing, provider_grant
from registry.web.security import provide_actor
from workflows.actors import Actor
from workflows.states import State
from workflows.timesource import local_today


class DraftIn(msgspec.Struct):
    district: str
    form: dict[str, Any] | None = None


class FormIn(msgspec.Struct):
    form: dict[str, Any]
    version: int
    form_hash: str | None = None


class ApplicationOut(msgspec.Struct):
    id: int
    state: str
    state_label: str
    version: int
    district: str
    district_name: str
    organisation_id: int
    form: dict[str, Any]
    form_hash: str
    problems: list[dict[str, str]]


class SavedOut(msgspec.Struct):
    id: int
    state: str
    version: int
    form_hash: str
    changed: list[str]
    problems: list[dict[str, str]]


class InboxOut(msgspec.Struct):
    items: list[InboxItem]


def application_out(row: Mapping[str, Any]) -> ApplicationOut:
    """The provider's own form: in full while it edits it, masked once it is sent.

    The hash is always the stored form's, so a save can prove it saw the stored form even
    when it was shown masked (a mask sent back keeps the stored number: save_form).
    """
    form = row["form"] if isinstance(row["form"], dict) else {}
    shown = form if State(row["state"]) in EDITABLE_STATES else mask_form(form)
    return ApplicationOut(
        id=row["id"],
        state=row["state"],
        state_label=State(row["state"]).label,
        version=row["version"],
        district=row["district_code"],
        district_name=row["district_name"],
        organisation_id=row["organisation"],
        form=shown,
        form_hash=form_hash(form),
        problems=draft_problems(form),
    )


_ACTOR = {"actor": Provide(provide_actor)}


@get(
    "/api/v1/listings/{listing_id:int}/form",
    operation_id="getForm",
    dependencies=_ACTOR,
    tags=["applications"],
)
async def get_form(actor: NamedDependency[Actor], listing_id: FromPath[int]) -> ApplicationOut:
    """The stored form with its hash (send it back when saving) and its draft problems."""
    return application_out(await own_listing(listing_id, actor))


@put(
    "/api/v1/listings/{listing_id:int}/form",
    operation_id="saveForm",
    dependencies=_ACTOR,
    tags=["applications"],
)
async def put_form(
    actor: NamedDependency[Actor], listing_id: FromPath[int], data: JSONBody[FormIn]
) -> SavedOut:
    """Save the draft form as sent, even half-filled; 409 when it changed since it was read."""
    saved = await save_form(listing_id, actor, data.form, data.version, data.form_hash)
    row = await own_listing(listing_id, actor)
    return SavedOut(
        row["id"], row["state"], row["version"], saved.form_hash, saved.changed, saved.problems
    )


@get("/api/v1/inbox", operation_id="inbox", dependencies=_ACTOR, tags=["applications"])
async def inbox(actor: NamedDependency[Actor]) -> InboxOut:
    """The provider's messages from the bureau and coming deadlines, newest first."""
    organisation_id = provider_grant(actor).organisation_id
    assert organisation_id is not None
    return InboxOut(await inbox_for(organisation_id, local_today()))


ROUTES: list[Any] = [get_form, put_form, inbox]
