"""Application forms for demo listings, varied like real ones and valid against their schema."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from faker import Faker

from registry.demo.courses import COURSE_BY_NAME, LIFETIME_CERTIFICATES, MIDDLE, CourseSpec
from registry.demo.identity import make_resident_id
from registry.demo.model import DistrictInfo
from registry.demo.providers import ProviderPlan, person_name
from registry.reference import CATEGORIES
from schemas import APPLICATION, validate
from workflows.workdays import add_years

INSURERS = (
    ("中国人民财产保险股份有限公司天津市分公司", "PZAB"),
    ("中国平安财产保险股份有限公司天津分公司", "PA"),
    ("中国太平洋财产保险股份有限公司天津分公司", "ATJN"),
    ("中国人寿财产保险股份有限公司天津市分公司", "CL"),
)
HERITAGE = "非物质文化遗产代表性传承人证书"
_CATEGORY_ORDER = {code: position for position, (code, _) in enumerate(CATEGORIES)}
_SAFETY_BY_CATEGORY = {
    "sports": "训练前检查场地器材并组织热身，场馆配备急救箱和AED，",
    "arts": "教室配备急救箱，美工刀等工具由教师统一发放回收，",
    "science": "电动工具和电池由教师集中管理，用电设备课前检查，",
    "labour": "烤箱、刀具专人管理，学生全程佩戴防护手套，",
    "reading": "活动场地保持通道畅通，",
    "heritage": "刻刀、竹篾等工具课前清点、课后收回，",
    "civics": "外出参观活动提前报学校审批并购买意外险，",
    "mental_health": "团辅活动场地铺设软垫，",
}
_SAFETY_TAIL = (
    "课前点名，下课后由授课人员在校门口与家长或学校老师点名交接，突发伤病立即联系家长并送医。",
    "建立学员考勤与接送登记制度，发生意外按应急预案处置并第一时间报告学校。",
)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _schedule(rng: random.Random, policy: dict[str, Any], evening: bool) -> list[dict[str, Any]]:
    days = sorted(rng.sample(range(1, 6), rng.choice((1, 1, 2))))
    if evening:
        latest = _minutes(policy["evening_end_no_later_than"])
        end = min(latest, rng.choice((_minutes("20:00"), _minutes("20:10"), _minutes("20:30"))))
        start = end - rng.choice((60, 70, 80))
    else:
        floor = policy.get("service_end_no_earlier_than")
        if floor:
            # The inner districts keep after-school service open until 18:30 or later.
            end = max(_minutes(floor), rng.choice((_minutes("18:30"), _minutes("18:40"))))
        else:
            end = rng.choice([_minutes(t) for t in ("17:00", "17:20", "17:30", "18:00", "18:30")])
        start = max(_minutes("15:30"), end - rng.choice((60, 90, 120)))
    return [{"weekday": day, "start": _hhmm(start), "end": _hhmm(end)} for day in days]


def _fee(rng: random.Random, cap: float, evening: bool) -> int:
    top = int(min(cap, 100 if evening else 180))
    return rng.randrange(min(60, top), top + 1, 10) if top >= 60 else top


def _certificates(
    rng: random.Random, spec: CourseSpec, submitted_on: date, horizon: date
) -> list[dict[str, Any]]:
    chosen = rng.sample(spec.certificates, rng.randint(1, len(spec.certificates)))
    return [
        {
            "kind": kind,
            "number": f"{rng.choice(('TJ', 'JY', 'ZS'))}{submitted_on.year - rng.randint(1, 9)}"
            f"{rng.randint(100000, 999999)}",
            "valid_until": None
            if kind in LIFETIME_CERTIFICATES
            else (horizon + timedelta(days=rng.randint(60, 1100))).isoformat(),
        }
        for kind in chosen
    ]


def _person(
    rng: random.Random, name: str, resident_id: str, role: str, horizon: date
) -> dict[str, Any]:
    return {
        "name": name,
        "resident_id": resident_id,
        "role": role,
        "no_criminal_record_valid_until": (
            horizon + timedelta(days=rng.randint(30, 400))
        ).isoformat(),
        "health_certificate_valid_until": (
            horizon + timedelta(days=rng.randint(20, 300))
        ).isoformat(),
    }


def _staff(
    rng: random.Random,
    fake: Faker,
    provider: ProviderPlan,
    specs: list[CourseSpec],
    submitted_on: date,
    horizon: date,
    taken_ids: set[str],
) -> list[dict[str, Any]]:
    def new_id(male: bool, born_from: int, born_to: int) -> str:
        while True:
            born = date(rng.randint(born_from, born_to), rng.randint(1, 12), rng.randint(1, 28))
            number = make_resident_id(rng, born, male)
            if number not in taken_ids:
                taken_ids.add(number)
                return number

    staff: list[dict[str, Any]] = []
    if provider.kind == "individual":
        assert provider.resident_id is not None
        staff.append(
            _person(rng, provider.name, provider.resident_id, provider.staff_role, horizon)
        )
        certificates = _certificates(rng, specs[0], submitted_on, horizon)
        if provider.staff_role == "非遗传承人" and all(c["kind"] != HERITAGE for c in certificates):
            # An inheritor applies on the strength of that title: it is always attached.
            number = f"TJFY{submitted_on.year - rng.randint(2, 12)}{rng.randint(100, 999)}"
            certificates.insert(0, {"kind": HERITAGE, "number": number, "valid_until": None})
        staff[0]["certificates"] = certificates
        count = 1 + (rng.random() < 0.35)
    else:
        count = rng.randint(1, min(4, len(specs) + 1))
    while len(staff) < count:
        name, male = person_name(fake, rng)
        k = len(staff)
        teaching = k < len(specs) or k == 0
        role = specs[k].role if k < len(specs) else "助教"
        person = _person(rng, name, new_id(male, 1968, 2001), role, horizon)
        if teaching:
            person["certificates"] = _certificates(rng, specs[k], submitted_on, horizon)
        staff.append(person)
    return staff


def _course(
    rng: random.Random, spec: CourseSpec, policy: dict[str, Any], teachers: list[int | str]
) -> dict[str, Any]:
    bands = list(spec.bands)
    if len(bands) > 1 and rng.random() < 0.3:
        bands.remove(rng.choice(bands))
    # A few courses run as middle-school evening study (晚自习), with the lower evening fee cap.
    evening = spec.evening and MIDDLE in spec.bands and rng.random() < 0.25
    if evening:
        bands = [MIDDLE]
    caps = policy["fee_caps"]
    return {
        "name": spec.name,
        "category": spec.category,
        "grade_bands": bands,
        "outline": rng.choice(spec.outlines),
        "weekly_schedule": _schedule(rng, policy, evening),
        "fee_per_student_month": _fee(rng, caps["evening" if evening else "after_school"], evening),
        "evening_study": evening,
        "staff": teachers,
    }


def _organisation_block(provider: ProviderPlan, submitted_on: date) -> dict[str, Any]:
    assert provider.founded_on is not None
    block: dict[str, Any] = {"name": provider.name, "kind": provider.kind}
    if provider.kind == "organisation":
        block["uscc"] = provider.uscc
        block["legal_representative"] = provider.legal_representative
    else:
        block["resident_id"] = provider.resident_id
    block.update(
        contact_name=provider.contact_name,
        contact_phone=provider.contact_phone,
        address=provider.address,
        founded_on=provider.founded_on.isoformat(),
        years_in_operation=max(0, (submitted_on - provider.founded_on).days // 365),
        description=provider.description,
    )
    if provider.contact_email:
        block["contact_email"] = provider.contact_email
    return block


def build_form(
    rng: random.Random,
    fake: Faker,
    provider: ProviderPlan,
    district: DistrictInfo,
    courses: tuple[str, ...],
    submitted_on: date,
    live_until: date,
    taken_ids: set[str],
) -> dict[str, Any]:
    """A complete application form; raises if it would not pass the application schema."""
    # Certificates and insurance must outlast the listing's time on the whitelist.
    horizon = max(submitted_on + timedelta(days=365), live_until)
    specs = [COURSE_BY_NAME[name] for name in courses]
    staff = _staff(rng, fake, provider, specs, submitted_on, horizon, taken_ids)
    course_items = []
    for position, spec in enumerate(specs):
        teachers: list[int | str] = [position % len(staff)]
        if len(staff) > 1 and rng.random() < 0.3:
            helper = rng.randrange(len(staff))
            if helper not in teachers:
                teachers.append(helper)
        course_items.append(_course(rng, spec, district.policy, teachers))
    insurer, prefix = rng.choice(INSURERS)
    valid_from = submitted_on - timedelta(days=rng.randint(0, 120))
    years = 1
    while add_years(valid_from, years) - timedelta(days=1) < horizon:
        years += 1
    contact = provider.legal_representative or provider.contact_name
    form: dict[str, Any] = {
        "organisation": _organisation_block(provider, submitted_on),
        "categories": sorted({s.category for s in specs}, key=_CATEGORY_ORDER.__getitem__),
        "courses": course_items,
        "staff": staff,
        "insurance": {
            "insurer": insurer,
            "policy_number": f"{prefix}{valid_from:%Y%m}{rng.randint(10**7, 10**8 - 1)}",
            "coverage_yuan": rng.choice((500_000, 1_000_000, 1_000_000, 2_000_000, 3_000_000)),
            "valid_from": valid_from.isoformat(),
            "valid_until": (add_years(valid_from, years) - timedelta(days=1)).isoformat(),
        },
        "safety_plan": {
            "measures": _SAFETY_BY_CATEGORY[specs[0].category] + rng.choice(_SAFETY_TAIL),
            "emergency_contact": contact,
            "emergency_phone": f"022-{rng.choice('2568')}{rng.randint(1000000, 9999999)}",
        },
    }
    problems = validate(APPLICATION, form)
    if problems:
        details = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise ValueError(f"demo form of {provider.name} is invalid: {details}")
    return form
