"""The whole demo data set, planned in memory from a seed before anything is written."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from faker import Faker

from registry.demo.fitting import fit
from registry.demo.forms import build_form
from registry.demo.identity import make_uscc
from registry.demo.model import DistrictInfo, ListingPlan, SchoolPlan, Step, UserPlan
from registry.demo.places import DISTRICT_WEIGHTS, ROADS, school_names
from registry.demo.providers import ProviderPlan, make_individual, make_organisation
from registry.demo.scenarios import BY_NAME, FORCED_EXITS, Scenario, allocate
from registry.demo.timeline import PlanError
from workflows.workdays import add_years

INDIVIDUAL_SHARE = 0.15
SECOND_DISTRICT_SHARE = 0.07
REAPPLIED_SHARE = 0.05
# Which providers get a login, so the demo shows a provider in each interesting situation.
PROVIDER_LOGINS: tuple[tuple[str, str | None], ...] = (
    ("listed", "organisation"),
    ("listed", "individual"),
    ("under_rectification", None),
    ("needs_supplement", None),
    ("in_public_notice", None),
    ("rejected", None),
    ("exited", None),
    ("draft", None),
)
SCHOOL_LOGINS = (
    ("120101", "primary"),
    ("120116", "middle"),
    ("120104", "middle"),
    ("120111", "primary"),
)


@dataclass
class DemoPlan:
    """Providers, schools, listings with their histories, and the demo logins."""

    now: datetime
    districts: dict[str, DistrictInfo]
    providers: list[ProviderPlan]
    listings: list[ListingPlan]
    schools: list[SchoolPlan]
    users: list[UserPlan]

    @property
    def steps(self) -> list[Step]:
        """Every step of every listing, in the order they happened."""
        return sorted(
            (s for listing in self.listings for s in listing.steps), key=lambda s: s.order
        )


class _Planner:
    def __init__(
        self, seed: int, now: datetime, districts: Sequence[DistrictInfo], tz: ZoneInfo
    ) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.now = now
        self.tz = tz
        # Only districts this module knows the roads and towns of.
        self.districts = {d.code: d for d in districts if d.code in ROADS}
        self.listings: list[ListingPlan] = []
        self.taken_ids: set[str] = set()
        self.variants: Counter[str] = Counter()

    def home_districts(self, count: int) -> list[str]:
        codes = sorted(self.districts)
        # Every district gets a provider first; the rest are shared out by weight (largest
        # remainders), so the inner six and Binhai always have the most.
        homes = codes[:count]
        rest = max(0, count - len(codes))
        weights = [DISTRICT_WEIGHTS.get(code, 1.0) for code in codes]
        exact = [w * rest / sum(weights) for w in weights]
        shares = [int(x) for x in exact]
        by_remainder = sorted(range(len(codes)), key=lambda i: shares[i] - exact[i])
        for i in by_remainder[: rest - sum(shares)]:
            shares[i] += 1
        homes += [code for code, share in zip(codes, shares, strict=True) for _ in range(share)]
        self.rng.shuffle(homes)
        return homes

    def providers(self, count: int) -> list[ProviderPlan]:
        names: set[str] = set()
        result = []
        for index, code in enumerate(self.home_districts(count)):
            district = self.districts[code].name
            if self.rng.random() < INDIVIDUAL_SHARE:
                result.append(
                    make_individual(self.rng, self.fake, index, code, district, self.taken_ids)
                )
            else:
                result.append(make_organisation(self.rng, self.fake, index, code, district, names))
        return result

    def add_listing(
        self,
        provider: ProviderPlan,
        code: str,
        scenario: Scenario,
        target: datetime | None = None,
        not_before: datetime | None = None,
    ) -> ListingPlan:
        if target is None:
            target = self.now - timedelta(days=self.rng.uniform(*scenario.window))
        index = len(self.listings)
        sim = fit(
            scenario,
            seed=self.rng.getrandbits(64),
            listing=index,
            district=self.districts[code],
            tz=self.tz,
            now=self.now,
            target=target,
            not_before=not_before,
            variant=self.variants[scenario.name],
        )
        self.variants[scenario.name] += 1
        listing = ListingPlan(
            index, provider.index, code, scenario.name, sim.state.value, sim.steps, dates=sim.dates
        )
        self.listings.append(listing)
        provider.listings.append(index)
        return listing

    def add_earlier_exit(self, provider: ProviderPlan, later: ListingPlan) -> None:
        """An exited listing in the same district before the provider applied again."""
        district = self.districts[later.district_code]
        start = later.created_at
        years = max(int(district.policy["ban_years"].get(r.value, 0)) for r in FORCED_EXITS)
        if start >= self.now - timedelta(days=150) and self.rng.random() < 0.6:
            # Banned, and back once the ban ended.
            scenario = BY_NAME["exited_revoked"]
            target = start - timedelta(days=365.25 * years + self.rng.uniform(15, 60))
        else:
            scenario = BY_NAME[self.rng.choice(("exited_expired", "exited_voluntary"))]
            target = start - timedelta(days=self.rng.uniform(15, 120))
        earlier = self.add_listing(provider, later.district_code, scenario, target=target)
        banned_until = earlier.dates["banned_until"]
        first_day = start.astimezone(self.tz).date()
        if earlier.steps[-1].at >= start or (
            banned_until is not None and banned_until >= first_day
        ):
            raise PlanError(f"listing {earlier.index} does not end before listing {later.index}")

    def finish_provider(self, provider: ProviderPlan) -> None:
        first = min(self.listings[i].created_at for i in provider.listings)
        provider.created_at = first - timedelta(days=self.rng.uniform(1, 20))
        first_day = first.astimezone(self.tz).date()
        # At least a year in operation before the first application (district admission rule).
        latest = first_day - timedelta(days=400)
        if provider.born is not None and provider.practice is not None:
            years = self.rng.randint(*provider.practice)
            founded = first_day - timedelta(days=365 * years + self.rng.randint(0, 300))
        elif provider.born is not None:
            # A retired teacher started on their own after retiring (at 55 to 60).
            founded = min(add_years(provider.born, self.rng.randint(55, 60)), latest)
        else:
            founded = max(first_day - timedelta(days=self.rng.randint(400, 5500)), date(2003, 1, 1))
        provider.founded_on = min(founded, latest)
        if provider.kind == "organisation":
            provider.uscc = make_uscc(
                self.rng, provider.uscc_prefix, provider.district_code, provider.founded_on
            )

    def fill_form(self, listing: ListingPlan, provider: ProviderPlan) -> None:
        pool = provider.courses
        most = 2 if provider.kind == "individual" else min(4, len(pool))
        count = self.rng.choices(range(1, most + 1), weights=[5, 4, 2, 1][:most])[0]
        if provider.kind == "individual":
            # An individual always offers their own speciality (listed first).
            listing.courses = pool[:count]
        else:
            listing.courses = tuple(self.rng.sample(pool, count))
        submitted_on = listing.submitted_on.astimezone(self.tz).date()
        live_until = listing.dates["valid_until"] or submitted_on
        listing.form = build_form(
            self.rng,
            self.fake,
            provider,
            self.districts[listing.district_code],
            listing.courses,
            submitted_on,
            live_until,
            self.taken_ids,
        )


def _provider_logins(plan: DemoPlan, today: date) -> list[UserPlan]:
    def latest(provider: ProviderPlan) -> ListingPlan:
        return max((plan.listings[i] for i in provider.listings), key=lambda x: x.created_at)

    chosen: list[int] = []
    for state, kind in PROVIDER_LOGINS:
        candidates = [
            p
            for p in plan.providers
            if latest(p).final_state == state
            and (kind is None or p.kind == kind)
            and p.index not in chosen
        ]
        # A rejected provider whose appeal window is still open shows the appeal button.
        candidates.sort(key=lambda p: (latest(p).dates.get("appeal_due") or date.min) < today)
        if candidates:
            chosen.append(candidates[0].index)
    return [
        UserPlan(f"provider_{n}", "provider", provider=index) for n, index in enumerate(chosen, 1)
    ]


def _school_logins(schools: list[SchoolPlan]) -> list[UserPlan]:
    users = []
    for code, level in SCHOOL_LOGINS:
        found = next(
            (i for i, s in enumerate(schools) if s.district_code == code and s.level == level), None
        )
        if found is not None:
            users.append(UserPlan(f"school_{len(users) + 1}", "school", school=found))
    return users


def build_plan(
    *,
    seed: int,
    organisations: int,
    now: datetime,
    districts: Sequence[DistrictInfo],
    tz: ZoneInfo,
) -> DemoPlan:
    """Plan everything from the seed: the same seed and `now` give the same plan."""
    planner = _Planner(seed, now, districts, tz)
    rng = planner.rng
    providers = planner.providers(organisations)
    slots: list[tuple[ProviderPlan, str]] = []
    reapplied: list[ProviderPlan] = []
    for provider in providers:
        slots.append((provider, provider.district_code))
        roll = rng.random()
        if roll < SECOND_DISTRICT_SHARE:
            others = [c for c in sorted(planner.districts) if c != provider.district_code]
            slots.append((provider, rng.choice(others)))
        elif roll < SECOND_DISTRICT_SHARE + REAPPLIED_SHARE:
            reapplied.append(provider)
    for (provider, code), scenario in zip(slots, allocate(len(slots), rng), strict=True):
        listing = planner.add_listing(provider, code, scenario)
        recent = listing.created_at >= now - timedelta(days=400)
        if provider in reapplied and code == provider.district_code and recent:
            planner.add_earlier_exit(provider, listing)
    for provider in providers:
        planner.finish_provider(provider)
    for listing in planner.listings:
        planner.fill_form(listing, providers[listing.provider])
    district_names = [(code, d.name) for code, d in sorted(planner.districts.items())]
    schools = [SchoolPlan(*row) for row in school_names(rng, district_names)]
    users = [UserPlan("city", "city")]
    for code in sorted(planner.districts):
        users += [
            UserPlan(f"reviewer_{code}", "reviewer", district_code=code),
            UserPlan(f"reviewer2_{code}", "reviewer", district_code=code),
            UserPlan(f"approver_{code}", "approver", district_code=code),
        ]
    plan = DemoPlan(now, planner.districts, providers, planner.listings, schools, users)
    plan.users += _provider_logins(plan, now.astimezone(tz).date())
    plan.users += _school_logins(schools)
    plan.users = _named(plan, seed)
    return plan


# The post shown after each demo person's name (王丽（审核员）).
DEMO_POSTS = {
    "city": "市教委基础教育处",
    "reviewer": "审核员",
    "approver": "科长",
    "school": "课后服务负责人",
    "provider": "联系人",
}


def _named(plan: DemoPlan, seed: int) -> list[UserPlan]:
    """The users with a name and post; providers' logins are their contact person.

    Names come from a Faker of their own, so adding them leaves the rest of the plan as it was.
    """
    fake = Faker("zh_CN")
    fake.seed_instance(seed + 1)
    named = []
    for user in plan.users:
        name = fake.name()
        if user.provider is not None:
            name = plan.providers[user.provider].contact_name or name
        named.append(replace(user, name=name, post=DEMO_POSTS.get(user.role, "")))
    return named


__all__ = ["DemoPlan", "PlanError", "build_plan"]
