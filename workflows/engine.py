"""The engine: the only code that writes a listing's state.

`fire` checks scope, role, version, source state, reason and guards; then writes the new state,
bumps `version`, appends the audit event and refreshes the public projection, all in one
transaction. It reads and writes through `workflows.storage` and raises `workflows.errors`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from workflows import audit, storage, timesource
from workflows.actors import Actor, Grant
from workflows.context import Context, Refusal
from workflows.errors import Conflict, Forbidden, NotFound, Refused, TransitionError
from workflows.policy import calendar_for, effective_policy
from workflows.states import LIVE_STATES, PUBLIC_STATES, Role, State
from workflows.timesource import local_today
from workflows.transitions import TRANSITIONS, Transition

# What other modules import from here (the errors and local_today are re-exported, so callers
# keep one import line for the engine's vocabulary).
__all__ = [
    "FACT_LOADERS",
    "ActionOption",
    "Conflict",
    "Forbidden",
    "NotFound",
    "Outcome",
    "Refused",
    "TransitionError",
    "build_context",
    "district_policy",
    "fire",
    "local_today",
    "options",
]


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


async def _banned_until(listing: Mapping[str, Any]) -> date | None:
    ends = await storage.ban_ends(
        listing["organisation"], listing["district"], other_than=listing["id"]
    )
    return max(ends, default=None)


async def _other_live_listing(listing: Mapping[str, Any]) -> bool:
    live = [s for s in LIVE_STATES if s != State.draft]
    return await storage.has_listing_in(
        listing["organisation"], listing["district"], live, other_than=listing["id"]
    )


async def _documents(listing: Mapping[str, Any]) -> list[dict[str, Any]]:
    return await storage.documents_of(listing["id"])


async def _district(listing: Mapping[str, Any]) -> dict[str, Any] | None:
    return await storage.district_of(listing["district"])


async def _expert_scores(listing: Mapping[str, Any]) -> list[dict[str, Any]]:
    return await storage.expert_scores_of(listing["id"])


async def _pending_objections(listing: Mapping[str, Any]) -> int:
    return await storage.pending_objection_count(listing["id"])


async def _supplement_items(listing: Mapping[str, Any]) -> list[dict[str, Any]]:
    return await storage.open_supplement_items(listing["id"])


FACT_LOADERS: dict[str, Callable[[Mapping[str, Any]], Awaitable[Any]]] = {
    "pending_objections": _pending_objections,
    "banned_until": _banned_until,
    "other_live_listing": _other_live_listing,
    "documents": _documents,
    "district": _district,
    "expert_scores": _expert_scores,
    "supplement_items": _supplement_items,
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
    return effective_policy(await storage.policy_overrides(district_id))


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
    async with storage.transaction():
        listing = await storage.load_listing(listing_id, lock=True)
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
        if not await storage.write_listing(listing_id, listing["version"], updates):
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
            # Running engagements show the exit date (the schools' notice), in this
            # transaction so the exit and what schools are told cannot drift apart.
            await storage.mark_engagements_exited(listing_id, local_today(now))
        if State.suspended in (state, transition.target) and state != transition.target:
            # Running engagements show a suspension while it lasts (None when it ends).
            await storage.mark_engagements_suspended(
                listing_id, local_today(now) if transition.target == State.suspended else None
            )
        if transition.supplement == "open":
            await storage.open_supplement_round(
                listing_id, new_version, ctx.params.get("items") or (), now
            )
        elif transition.supplement == "submit":
            await storage.submit_supplement_round(listing_id, new_version)
        if transition.snapshot:
            await storage.snapshot_form(
                listing_id, new_version, listing["form"], updates.get("form_schema", ""), now
            )
        if state in PUBLIC_STATES or transition.target in PUBLIC_STATES:
            # Only public listings have a whitelist row: between two other states there is
            # none to change (most transitions of a review).
            await storage.refresh_projection(listing_id)
    return Outcome(listing_id, transition.name, state, transition.target, new_version, event_id)


def _payload(params: Mapping[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """A small, JSON-safe record of what the transition set."""
    changed = {
        key: value.isoformat() if isinstance(value, date | datetime) else value
        for key, value in updates.items()
        if key not in ("state", "version", "provider_message")
    }
    kept = {
        key: [str(item) for item in value] if isinstance(value, list | tuple) else str(value)
        for key, value in params.items()
    }
    return {"params": kept, "set": changed}


async def options(listing_id: int, actor: Actor, now: datetime | None = None) -> list[ActionOption]:
    """The actions the actor's roles allow in the listing's state now, each with its blockers."""
    now = timesource.resolve(now)
    listing = await storage.load_listing(listing_id)
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
