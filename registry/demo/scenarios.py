"""The histories demo listings follow and how often each occurs."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from registry.demo.sim import Sim
from workflows.states import ExitReason, State

FORCED_EXITS = (
    ExitReason.safety_incident,
    ExitReason.fee_violation,
    ExitReason.subject_tutoring,
    ExitReason.false_materials,
    ExitReason.upheld_complaints,
    ExitReason.licence_invalid,
    ExitReason.staff_blacklisted,
    ExitReason.no_delivery,
)


def to_review(sim: Sim) -> None:
    """Draft to qualification review, sometimes via a supplement request."""
    sim.create()
    sim.submit()
    roll = sim.rng.random()
    if roll < 0.12:
        # The formal check already found gaps: the answer goes straight to review.
        sim.request_supplement()
        sim.resubmit()
        return
    sim.accept()
    if roll < 0.32:
        sim.request_supplement()
        sim.resubmit()


def to_pending(sim: Sim) -> None:
    """Recommended, now and then after the approver sent it back once."""
    to_review(sim)
    sim.recommend()
    if sim.rng.random() < 0.06:
        sim.send_back()
        sim.recommend()


def to_notice(sim: Sim) -> None:
    """Approved: in public notice."""
    to_pending(sim)
    sim.approve()


def to_listed(sim: Sim) -> None:
    """On the whitelist after the notice period."""
    to_notice(sim)
    sim.end_notice()


def _submitted(sim: Sim) -> None:
    sim.create()
    sim.submit()


def _needs_supplement(sim: Sim) -> None:
    _submitted(sim)
    if sim.rng.random() < 0.6:
        sim.accept()
    sim.request_supplement()


def _renewed(sim: Sim) -> None:
    to_listed(sim)
    sim.renew()


def _rectified(sim: Sim) -> None:
    to_listed(sim)
    sim.put_under_rectification(20, 180)
    sim.close_rectification()


def _reinstated(sim: Sim) -> None:
    to_listed(sim)
    sim.suspend(20, 180)
    sim.reinstate()


def _appealed_then_listed(sim: Sim) -> None:
    to_review(sim)
    sim.reject()
    sim.appeal()
    sim.recommend()
    sim.approve()
    sim.end_notice()


def _rejected(sim: Sim) -> None:
    to_review(sim)
    sim.reject()


def _rejected_after_appeal(sim: Sim) -> None:
    _rejected(sim)
    sim.appeal()
    sim.reject()


def _objection(sim: Sim) -> None:
    to_notice(sim)
    sim.uphold_objection()


def _withdrawn(sim: Sim) -> None:
    _submitted(sim)
    if sim.rng.random() < 0.5:
        sim.accept()
    sim.withdraw()


def _lapsed(sim: Sim) -> None:
    _needs_supplement(sim)
    sim.lapse_supplement()


def _revoked(sim: Sim) -> None:
    to_listed(sim)
    # Cycle through the reasons so that even a small data set shows several of them.
    reason = FORCED_EXITS[sim.variant % len(FORCED_EXITS)]
    if reason == ExitReason.safety_incident or sim.rng.random() < 0.25:
        # Serious cases are suspended first, investigated, then revoked.
        sim.suspend(30, 250)
        sim.revoke(reason, 10, 40)
    else:
        sim.revoke(reason, 30, 290)


def _failed_evaluation(sim: Sim) -> None:
    to_listed(sim)
    reason = (ExitReason.evaluation_failed, ExitReason.low_satisfaction)[sim.variant % 2]
    if sim.rng.random() < 0.4:
        sim.put_under_rectification(60, 200)
        sim.fail_evaluation(reason, 5, 15)
    else:
        sim.fail_evaluation(reason, 120, 300)


def _rectification_lapsed(sim: Sim) -> None:
    to_listed(sim)
    sim.put_under_rectification(60, 250)
    sim.lapse_rectification()


def _voluntary(sim: Sim) -> None:
    to_listed(sim)
    sim.exit_voluntary()


def _expired(sim: Sim) -> None:
    to_listed(sim)
    sim.expire()


def _revoked_in_notice(sim: Sim) -> None:
    to_notice(sim)
    sim.revoke(ExitReason.false_materials, 1, 3)


def _draft(sim: Sim) -> None:
    sim.create()


def _under_rectification(sim: Sim) -> None:
    to_listed(sim)
    sim.put_under_rectification(30, 250)


def _suspended(sim: Sim) -> None:
    to_listed(sim)
    sim.suspend(30, 250)


@dataclass(frozen=True)
class Scenario:
    """A kind of history: the state it ends in, its share, when its last step falls."""

    name: str
    final: State
    weight: float
    # Days before now that the last step falls in.
    window: tuple[float, float]
    run: Callable[[Sim], None]


S = State
SCENARIOS: tuple[Scenario, ...] = (
    # The first scenario of each final state is its "core": every state is seeded at least once.
    Scenario("listed", S.listed, 40, (3, 330), to_listed),
    Scenario("listed_renewed", S.listed, 7, (2, 200), _renewed),
    Scenario("listed_after_rectification", S.listed, 3, (5, 120), _rectified),
    Scenario("listed_after_suspension", S.listed, 2, (5, 120), _reinstated),
    Scenario("listed_after_appeal", S.listed, 2, (5, 300), _appealed_then_listed),
    Scenario("under_rectification", S.under_rectification, 4, (1, 18), _under_rectification),
    Scenario("suspended", S.suspended, 3, (1, 45), _suspended),
    Scenario("draft", S.draft, 3, (0.2, 25), _draft),
    Scenario("submitted", S.submitted, 3, (0.1, 3), _submitted),
    Scenario("in_review", S.in_review, 3, (1, 12), to_review),
    Scenario("needs_supplement", S.needs_supplement, 3, (0.5, 7), _needs_supplement),
    Scenario("pending_approval", S.pending_approval, 2.5, (0.2, 4), to_pending),
    Scenario("in_public_notice", S.in_public_notice, 3, (0.1, 3), to_notice),
    Scenario("rejected", S.rejected, 2.5, (2, 600), _rejected),
    Scenario("rejected_after_appeal", S.rejected, 1.2, (10, 600), _rejected_after_appeal),
    Scenario("rejected_by_objection", S.rejected, 0.8, (10, 600), _objection),
    Scenario("withdrawn", S.withdrawn, 2, (3, 600), _withdrawn),
    Scenario("withdrawn_lapsed", S.withdrawn, 1, (10, 600), _lapsed),
    Scenario("exited_revoked", S.exited, 4, (10, 420), _revoked),
    Scenario("exited_evaluation", S.exited, 1.5, (10, 420), _failed_evaluation),
    Scenario("exited_rectification_lapsed", S.exited, 0.7, (10, 420), _rectification_lapsed),
    Scenario("exited_voluntary", S.exited, 1.5, (10, 420), _voluntary),
    Scenario("exited_expired", S.exited, 1.5, (5, 350), _expired),
    Scenario("exited_in_notice", S.exited, 0.4, (10, 500), _revoked_in_notice),
)
BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def allocate(slots: int, rng: random.Random) -> list[Scenario]:
    """`slots` scenarios by weight, each final state at least once, in shuffled order."""
    total = sum(s.weight for s in SCENARIOS)
    exact = [s.weight * slots / total for s in SCENARIOS]
    counts = [int(x) for x in exact]
    # Largest remainders take the slots rounding left over.
    by_remainder = sorted(range(len(SCENARIOS)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: slots - sum(counts)]:
        counts[i] += 1
    # Too few slots for every state: keep the proportions.
    for state in State if slots >= len(State) else ():
        if not any(c for c, s in zip(counts, SCENARIOS, strict=True) if s.final == state):
            core = next(i for i, s in enumerate(SCENARIOS) if s.final == state)
            donor = max(range(len(counts)), key=counts.__getitem__)
            counts[donor] -= 1
            counts[core] += 1
    chosen = [s for s, c in zip(SCENARIOS, counts, strict=True) for _ in range(c)]
    rng.shuffle(chosen)
    return chosen
