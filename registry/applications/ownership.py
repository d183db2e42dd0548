"""Whose application is it: the provider's membership and the listings of its organisation."""

from __future__ import annotations

from typing import Any

from piccolo.engine.postgres import PostgresEngine

from registry.access.personal_data import with_open_form
from registry.tables import Listing
from workflows.actors import Actor, Grant
from workflows.engine import Forbidden, NotFound
from workflows.states import Role


def provider_grant(actor: Actor) -> Grant:
    """The actor's provider membership; Forbidden for anyone else."""
    for grant in actor.grants:
        if grant.role == Role.provider and grant.organisation_id is not None:
            return grant
    raise Forbidden("仅机构（个人）账号可以办理入库申请")


async def own_listing(listing_id: int, actor: Actor, *, lock: bool = False) -> dict[str, Any]:
    """A listing of the actor's organisation (NotFound for anything else), optionally locked."""
    organisation_id = provider_grant(actor).organisation_id
    query = Listing.select(
        *Listing._meta.columns,
        Listing.district.code.as_alias("district_code"),
        Listing.district.name.as_alias("district_name"),
    ).where((Listing.id == listing_id) & (Listing.organisation == organisation_id))
    if lock and isinstance(Listing._meta.db, PostgresEngine):
        query = query.lock_rows(of=(Listing,))
    row = await query.output(load_json=True).first()
    if row is None:
        raise NotFound("申请记录不存在")
    return with_open_form(row)  # the provider's own form: its numbers opened
