"""The engine: the only code that writes a listing's state.

`fire` checks scope, role, version, source state, reason and guards; then writes the new state,
bumps `version`, appends the audit event and refreshes the public projection, all in one
transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from registry.db import write_transaction
from registry.public import projection
from registry.tables import (
    District,
    Document,
    Engagement,
    ExpertScore,
    FormSnapshot,
    Listing,
    Objection,
    ObjectionStatus,
)
from workflows import audit, timesource
from workflows.actors import Actor, Grant
from workflows.context import Context, Refusal
from workflows.policy import calendar_for, effective_policy
from workflows.states import LIVE_STATES, Role, State
from workflows.timesource import local_today
from workflows.transitions import TRANSITIONS, Transition


class TransitionError(Exception):
    """A refused transition; `status_code` is the HTTP status the API answers with."""

    status_code = 422

    def __init__(self, detail: str, errors: list[Refusal] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class NotFound(TransitionError):
    status_code = 404


class Forbidden(TransitionError):
    status_code = 403


class Conflict(TransitionError):
    status_code = 409


class Refused(TransitionError):
    status_code = 422


@dataclass(frozen=True)
class Outcome:
    """What a fired transition changed."""

    listing_id: int
    action: str
    from_state: State
    state: State
    version: int
    event_id: int


@dataclass(frozen=True)
class ActionOption:
    """An action the actor's role may take in the listing's current state, and what blocks it."""

    transition: Transition
    problems: tuple[Refusal, ...]

    @property
    def available(self) -> bool:
        """True when nothing blocks it now."""
        return not self.problems


async def _load_listing(listing_id: int, lock: bool = False) -> dict[str, Any] | None:
    query = Listing.select().where(Listing.id == listing_id).output(load_json=True)
    if lock and isinstance(Listing._meta.db, PostgresEngine):
        # Hold the row until commit, so a form save cannot slip between the guards (which
        # checked this form) and the state write. SQLite's immediate transaction already
        # excludes every other writer.
        query = query.lock_rows()
    return await query.first()


async def _banned_until(listing: Mapping[str, Any]) -> date | None:
    rows = await Listing.select(Listing.banned_until).where(
        (Listing.organisation == listing["organisation"])
        & (Listing.district == listing["district"])
        & (Listing.id != listing["id"])
        & Listing.banned_until.is_not_null()
    )
    return max((r["banned_until"] for r in rows), default=None)


async def _other_live_listing(listing: Mapping[str, Any]) -> bool:
    live = [s.value for s in LIVE_STATES if s != State.draft]
    return await Listing.exists().where(
        (Listing.organisation == listing["organisation"])
        & (Listing.district == listing["district"])
        & (Listing.id != listing["id"])
        & Listing.state.is_in(live)
    )


async def _documents(listing: Mapping[str, Any]) -> list[dict[str, Any]]:
    return await Document.select().where(Document.listing == listing["id"])


async def _district(listing: Mapping[str, Any]) -> dict[str, Any]:
    return (
        await District.select(District.code, District.name, District.inner_six)
        .where(District.id == listing["district"])
        .first()
    )


async def _expert_scores(listing: Mapping[str, Any]) -> list[dict[str, Any]]:
    return await (
        ExpertScore.select(ExpertScore.reviewer, ExpertScore.moderator, ExpertScore.total)
        .where(ExpertScore.listing == listing["id"])
        .order_by(ExpertScore.id)
    )


async def _pending_objections(listing: Mapping[str, Any]) -> int:
    return await Objection.count().where(
        (Objection.listing == listing["id"]) & (Objection.status == ObjectionStatus.pending.value)
    )


FACT_LOADERS: dict[str, Callable[[Mapping[str, Any]], Awaitable[Any]]] = {
    "pending_objections": _pending_objections,
    "banned_until": _banned_until,
    "other_live_listing": _other_live_listing,
    "documents": _documents,
    "district": _district,
    "expert_scores": _expert_scores,
}


def _not_found() -> NotFound:
    return NotFound("申请记录不存在")


def _scoped_grants(actor: Actor, listing: Mapping[str, Any]) -> list[Grant]:
    grants = actor.grants_seeing(
        listing["organisation"], listing["district"], State(listing["state"])
    )
    if not grants:
        raise _not_found()
    return grants


async def district_policy(district_id: int) -> dict[str, Any]:
    """The effective policy of one district: the city's defaults under its own overrides."""
    district = await (
        District.select(District.policy)
        .where(District.id == district_id)
        .output(load_json=True)
        .first()
    )
    return effective_policy(district["policy"] if district else None)


async def build_context(
    listing: Mapping[str, Any],
    actor: Actor,
    grant: Grant,
    *,
    facts: Iterable[str],
    now: datetime | None = None,
    policy: Mapping[str, Any] | None = None,
    reason: str = "",
    message: str = "",
    params: Mapping[str, Any] | None = None,
) -> Context:
    """What guards and checks read: the listing, who acts, the policy, the calendar, the facts.

    The one way to build it, for a transition and for checks run outside one (the provider's
    "检查", the reviewer's findings), so both judge a listing alike.
    """
    now = timesource.resolve(now)
    policy = policy if policy is not None else await district_policy(listing["district"])
    return Context(
        listing=listing,
        actor=actor,
        grant=grant,
        now=now,
        today=local_today(now),
        policy=policy,
        calendar=calendar_for(policy),
        reason=reason,
        message=message,
        params=params or {},
        facts={name: await FACT_LOADERS[name](listing) for name in sorted(set(facts))},
    )


def _state_refusal(transition: Transition, state: State) -> Refusal:
    return Refusal(
        "action",
        "invalid_state",
        f"当前状态为「{state.label}」，不能执行「{transition.label}」",
    )


def _guard_problems(transition: Transition, ctx: Context) -> list[Refusal]:
    return [problem for guard in transition.all_guards for problem in guard(ctx)]


def _problems(transition: Transition, ctx: Context) -> list[Refusal]:
    problems: list[Refusal] = []
    if transition.reason_required and not ctx.reason.strip():
        problems.append(Refusal("reason", "required", f"「{transition.label}」须填写理由"))
    return problems + _guard_problems(transition, ctx)


async def fire(
    listing_id: int,
    action: str,
    actor: Actor,
    *,
    version: int | None = None,
    reason: str = "",
    message: str = "",
    params: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Apply one transition, or raise the TransitionError that says why not."""
    now = timesource.resolve(now)
    params = dict(params or {})
    async with write_transaction(Listing._meta.db):
        listing = await _load_listing(listing_id, lock=True)
        if listing is None:
            raise _not_found()
        grants = _scoped_grants(actor, listing)
        transition = TRANSITIONS.get(action)
        if transition is None:
            raise Refused(
                "未知的操作", [Refusal("action", "unknown_action", f"未知的操作：{action}")]
            )
        allowed = [g for g in grants if g.role in transition.roles]
        if not allowed:
            raise Forbidden(f"当前角色无权执行「{transition.label}」")
        if version is not None and version != listing["version"]:
            raise Conflict("该记录已被他人修改，请刷新后重试")
        state = State(listing["state"])
        if state not in transition.sources:
            refusal = _state_refusal(transition, state)
            raise Refused(refusal.message, [refusal])
        policy = await district_policy(listing["district"])
        ctx = await build_context(
            listing,
            actor,
            allowed[0],
            facts=transition.needs,
            now=now,
            policy=policy,
            reason=reason,
            message=message,
            params=params,
        )
        problems = _problems(transition, ctx)
        if problems:
            raise Refused(f"不能执行「{transition.label}」", problems)
        updates: dict[str, Any] = {}
        for effect in transition.effects:
            updates.update(effect(ctx))
        new_version = listing["version"] + 1
        updates.update(state=transition.target.value, version=new_version)
        if message:
            updates["provider_message"] = message
        written = (
            await Listing.update(updates)
            .where((Listing.id == listing_id) & (Listing.version == listing["version"]))
            .returning(Listing.id)
        )
        if not written:
            raise Conflict("该记录已被他人修改，请刷新后重试")
        event_id = await audit.record(
            actor,
            action=transition.name,
            role=allowed[0].role.value,
            listing=listing_id,
            from_state=state.value,
            to_state=transition.target.value,
            reason=reason,
            message=message,
            payload=_payload(params, updates),
            occurred_at=now,
        )
        if transition.target == State.exited:
            await _mark_engagements_exited(listing_id, local_today(now))
        if State.suspended in (state, transition.target) and state != transition.target:
            await _mark_engagements_suspended(
                listing_id, local_today(now) if transition.target == State.suspended else None
            )
        if transition.snapshot:
            await FormSnapshot.insert(
                FormSnapshot(
                    listing=listing_id,
                    version=new_version,
                    form=listing["form"],
                    form_schema=updates.get("form_schema", ""),
                    submitted_at=now,
                )
            )
        await projection.refresh(listing_id)
    return Outcome(listing_id, transition.name, state, transition.target, new_version, event_id)


async def _mark_engagements_exited(listing_id: int, day: date) -> None:
    """Running engagements of an exiting listing show the exit date (the schools' notice)."""
    # Inside fire()'s transaction, so the exit and what schools are told cannot drift apart.
    await Engagement.update({Engagement.provider_exited_on: day}).where(
        (Engagement.listing == listing_id) & Engagement.provider_exited_on.is_null()
    )


async def _mark_engagements_suspended(listing_id: int, day: date | None) -> None:
    """Running engagements show a suspension while it lasts (None when it ends)."""
    await Engagement.update({Engagement.provider_suspended_on: day}).where(
        (Engagement.listing == listing_id) & Engagement.provider_exited_on.is_null()
    )


def _payload(params: Mapping[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """A small, JSON-safe record of what the transition set."""
    changed = {
        key: value.isoformat() if isinstance(value, date | datetime) else value
        for key, value in updates.items()
        if key not in ("state", "version", "provider_message")
    }
    return {"params": {k: str(v) for k, v in params.items()}, "set": changed}


async def options(listing_id: int, actor: Actor, now: datetime | None = None) -> list[ActionOption]:
    """The actions the actor's roles allow in the listing's state now, each with its blockers."""
    now = timesource.resolve(now)
    listing = await _load_listing(listing_id)
    if listing is None:
        raise _not_found()
    grants = _scoped_grants(actor, listing)
    state = State(listing["state"])
    policy = await district_policy(listing["district"])
    result: list[ActionOption] = []
    for transition in TRANSITIONS.values():
        allowed = [g for g in grants if g.role in transition.roles and g.role != Role.clock]
        if not allowed or state not in transition.sources:
            continue
        ctx = await build_context(
            listing, actor, allowed[0], facts=transition.needs, now=now, policy=policy
        )
        # The reason and exit reason are given when the action is taken; judge the rest now.
        problems = [p for p in _guard_problems(transition, ctx) if p.field != "exit_reason"]
        result.append(ActionOption(transition, tuple(problems)))
    return result
