"""Effects: pure functions from a Context to the listing columns a transition sets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from schemas import APPLICATION, schema_id
from workflows.context import Context
from workflows.states import ExitReason
from workflows.workdays import add_years

Effect = Callable[[Context], dict[str, Any]]


def stamp_submission(ctx: Context) -> dict[str, Any]:
    """Record when the form was sent and which schema it was validated against."""
    return {"submitted_at": ctx.now, "form_schema": schema_id(APPLICATION)}


def open_supplement(ctx: Context) -> dict[str, Any]:
    """Give the provider the policy's working days to supplement."""
    chosen = ctx.params.get("due")
    if chosen:
        return {"supplement_due": date.fromisoformat(str(chosen))}
    days = int(ctx.policy["supplement_working_days"])
    return {"supplement_due": ctx.calendar.add_working_days(ctx.today, days)}


def close_supplement(ctx: Context) -> dict[str, Any]:
    """The supplement was answered."""
    return {"supplement_due": None}


def record_recommender(ctx: Context) -> dict[str, Any]:
    """Remember who recommended, for the four-eyes rule."""
    return {"recommended_by": ctx.actor.user_id}


def forget_recommender(ctx: Context) -> dict[str, Any]:
    """A sent-back or reopened application needs a fresh recommendation."""
    return {"recommended_by": None}


def record_rejection(ctx: Context) -> dict[str, Any]:
    """A rejection opens the appeal window (unless it already decided an appeal)."""
    days = int(ctx.policy["appeal_working_days"])
    due = None if ctx.listing["appealed"] else ctx.calendar.add_working_days(ctx.today, days)
    return {
        "decided_at": ctx.now,
        "rejected_by": ctx.actor.user_id,
        "appeal_due": due,
        "recommended_by": None,
    }


def record_appeal(ctx: Context) -> dict[str, Any]:
    """An appeal reopens review once."""
    return {"appealed": True, "appeal_due": None}


def open_notice(ctx: Context) -> dict[str, Any]:
    """The notice runs the policy's working days, from the first working day after approval."""
    days = int(ctx.policy["notice_working_days"])
    return {
        "decided_at": ctx.now,
        "notice_start": ctx.calendar.add_working_days(ctx.today, 1),
        "notice_end": ctx.calendar.add_working_days(ctx.today, days),
    }


def put_on_whitelist(ctx: Context) -> dict[str, Any]:
    """Listed from today for the policy's years."""
    years = int(ctx.policy["listing_valid_years"])
    return {"listed_at": ctx.now, "valid_until": add_years(ctx.today, years)}


def extend_validity(ctx: Context) -> dict[str, Any]:
    """Renew for the policy's years from the later of today and the current end."""
    years = int(ctx.policy["listing_valid_years"])
    current = ctx.listing["valid_until"]
    base = current if current is not None and current > ctx.today else ctx.today
    return {"valid_until": add_years(base, years)}


def open_rectification(ctx: Context) -> dict[str, Any]:
    """A deadline to fix what was found."""
    days = int(ctx.policy["rectification_working_days"])
    return {"rectification_due": ctx.calendar.add_working_days(ctx.today, days)}


def close_rectification(ctx: Context) -> dict[str, Any]:
    """Rectification over."""
    return {"rectification_due": None}


def exit_with(fixed: ExitReason | None = None) -> Effect:
    """Exit with a coded reason (fixed, or the `exit_reason` parameter) and its policy ban."""

    def effect(ctx: Context) -> dict[str, Any]:
        reason = fixed or ExitReason(ctx.params.get("exit_reason") or ExitReason.evaluation_failed)
        years = int(ctx.policy["ban_years"].get(reason.value, 0))
        return {
            "exited_at": ctx.now,
            "exit_reason": reason.value,
            "banned_until": add_years(ctx.today, years) if years else None,
            "rectification_due": None,
        }

    effect.__name__ = f"exit_{fixed.value if fixed else 'with_reason'}"
    return effect


def imported_validity(ctx: Context) -> dict[str, Any]:
    """An imported listing keeps the end of validity its district recorded, when it has one."""
    given = ctx.params.get("valid_until")
    return {"valid_until": date.fromisoformat(str(given))} if given else {}
