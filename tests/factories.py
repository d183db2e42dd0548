"""Realistic test data: a complete application form and listings driven through the engine."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from registry.access.personal_data import seal_form
from registry.tables import Listing
from workflows import engine
from workflows.actors import Actor

# Check characters are valid (GB 32100 / GB 11643) so identity checks elsewhere pass too.
# Papers expire far ahead: expired ones block submission, and some tests use the real clock.
USCC = "91120101MA06B2C3DU"
COACH_ID = "120101198003151230"
ASSISTANT_ID = "120102198507082343"
INDIVIDUAL_ID = "120104195809244562"

_APPLICATION: dict[str, Any] = {
    "organisation": {
        "name": "天津市和平区飞跃青少年篮球俱乐部有限公司",
        "kind": "organisation",
        "uscc": USCC,
        "legal_representative": "王建国",
        "contact_name": "李晓梅",
        "contact_phone": "13820001234",
        "contact_email": "lixiaomei@feiyue-basketball.cn",
        "address": "天津市和平区南京路189号体育中心三层",
        "founded_on": "2016-03-15",
        "years_in_operation": 8,
        "description": "专注少儿篮球基础训练，持证教练团队。",
    },
    "categories": ["sports"],
    "courses": [
        {
            "name": "少儿篮球",
            "category": "sports",
            "grade_bands": ["lower_primary", "upper_primary"],
            "outline": "运球、传球、投篮等基本功训练，配合小组对抗赛，培养团队协作意识。",
            "weekly_schedule": [
                {"weekday": 1, "start": "16:30", "end": "18:30"},
                {"weekday": 3, "start": "16:30", "end": "18:30"},
            ],
            "fee_per_student_month": 150,
            "evening_study": False,
            "staff": [0, "赵助教"],
        }
    ],
    "staff": [
        {
            "name": "张伟",
            "resident_id": COACH_ID,
            "role": "主教练",
            "certificates": [
                {"kind": "篮球二级裁判员证", "number": "TJ-BB-2019-0231", "valid_until": None},
                {
                    "kind": "社会体育指导员证书",
                    "number": "SZ120100456",
                    "valid_until": "2030-06-30",
                },
            ],
            "no_criminal_record_valid_until": "2030-12-31",
            "health_certificate_valid_until": "2030-09-30",
        },
        {
            "name": "赵助教",
            "resident_id": ASSISTANT_ID,
            "role": "助教",
            "no_criminal_record_valid_until": "2030-12-31",
            "health_certificate_valid_until": "2030-08-31",
        },
    ],
    "insurance": {
        "insurer": "中国人民财产保险股份有限公司天津市分公司",
        "policy_number": "PZAB202512000123",
        "coverage_yuan": 1000000,
        "valid_from": "2025-09-01",
        "valid_until": "2030-08-31",
    },
    "safety_plan": {
        "measures": "场馆配备急救箱和AED，课前检查器材，放学后由教练在校门口点名交接，"
        "突发伤病立即联系家长并送医。",
        "emergency_contact": "王建国",
        "emergency_phone": "022-23456789",
    },
}


def valid_application() -> dict[str, Any]:
    """A complete application of a Tianjin basketball club (a fresh copy)."""
    return copy.deepcopy(_APPLICATION)


def individual_application() -> dict[str, Any]:
    """A retired calligraphy teacher applying as an individual."""
    form = valid_application()
    form["organisation"] = {
        "name": "刘书文",
        "kind": "individual",
        "resident_id": INDIVIDUAL_ID,
        "contact_name": "刘书文",
        "contact_phone": "15902212345",
        "address": "天津市河西区友谊路28号",
        "founded_on": "2018-09-01",
    }
    form["categories"] = ["arts"]
    form["courses"][0].update(name="硬笔书法", category="arts", staff=[0])
    return form


async def new_listing(
    organisation_id: int, district_id: int, form: dict[str, Any] | None = None
) -> int:
    """A draft listing (drafts are created, never transitioned into), its form sealed as the
    app stores it."""
    rows = await Listing.insert(
        Listing(
            organisation=organisation_id,
            district=district_id,
            form=seal_form(valid_application() if form is None else form),
        )
    ).returning(Listing.id)
    return int(rows[0]["id"])


async def state_of(listing_id: int) -> tuple[str, int]:
    """The listing's (state, version)."""
    row = (
        await Listing.select(Listing.state, Listing.version).where(Listing.id == listing_id).first()
    )
    return row["state"], row["version"]


async def step(listing_id: int, action: str, actor: Actor, **kwargs: Any) -> None:
    """Fire one transition with the listing's current version."""
    _, version = await state_of(listing_id)
    await engine.fire(listing_id, action, actor, version=version, **kwargs)


def at(text: str) -> datetime:
    """A moment in Beijing time, as an aware datetime."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
