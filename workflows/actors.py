"""Who fires a transition, with the scopes of their memberships."""

from __future__ import annotations

from dataclasses import dataclass, field

from workflows.states import PUBLIC_STATES, Role, State


@dataclass(frozen=True)
class Grant:
    """One membership: a role and its scope (an organisation, a district or a school)."""

    role: Role
    organisation_id: int | None = None
    district_id: int | None = None
    school_id: int | None = None
    school_district_id: int | None = None

    def sees(self, organisation_id: int, district_id: int, state: State) -> bool:
        """Whether this grant lets its holder see a listing (outside it: 404)."""
        if self.role in (Role.city, Role.clock, Role.system):
            return True
        if self.role == Role.provider:
            return organisation_id == self.organisation_id
        if self.role in (Role.reviewer, Role.approver):
            return district_id == self.district_id and state != State.draft
        if self.role == Role.school:
            return district_id == self.school_district_id and state in PUBLIC_STATES
        return False


@dataclass(frozen=True)
class Actor:
    """A user (or the clock) and everything they may act as."""

    user_id: int | None
    username: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    # The person's name as pages show it (王丽); "" when none is recorded. Audit events keep
    # recording the username, which does not change.
    name: str = ""

    @property
    def shown_name(self) -> str:
        """The name to greet the person by: their name, else their username."""
        return self.name or self.username

    def grants_seeing(self, organisation_id: int, district_id: int, state: State) -> list[Grant]:
        """The grants under which the listing is in scope."""
        return [g for g in self.grants if g.sees(organisation_id, district_id, state)]

    @property
    def roles(self) -> frozenset[Role]:
        """Every role the actor holds."""
        return frozenset(g.role for g in self.grants)


CLOCK = Actor(user_id=None, username="clock", grants=(Grant(role=Role.clock),))


def system_actor(job: str, user_id: int | None = None) -> Actor:
    """The actor of a non-interactive job (e.g. "import:reviewer_120101"), audited by name."""
    return Actor(user_id=user_id, username=job, grants=(Grant(role=Role.system),))
