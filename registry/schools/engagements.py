"""Schools' engagements of whitelisted providers (合作): validation, scoped reads and writes.

No HTTP here: the API and the school pages both call these functions. Refusals are the engine's
exceptions (404 outside scope, 403 wrong role, 422 with field messages), so both answer alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.access.scope import RecordKind, visible
from registry.db import write_transaction
from registry.public.projection import approved_courses
from registry.tables import Engagement, Listing, School, SchoolFeedback
from workflows import audit, timesource
from workflows.actors import Actor, Grant
from workflows.checks import GRADE_BANDS, fee_finding, slot_findings
from workflows.context import Refusal
from workflows.engine import Forbidden, NotFound, Refused
from workflows.policy import effective_policy
from workflows.states import PUBLIC_STATES, Role, State

MAX_STUDENTS = 500
LEVEL_BANDS = {"primary": ("lower_primary", "upper_primary"), "middle": ("middle",)}
LEVEL_LABELS = {"primary": "小学", "middle": "中学"}
WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五"}
COLUMNS = (
    *Engagement._meta.columns,
    Engagement.school.name.as_alias("school_name"),
    Engagement.listing.organisation.as_alias("organisation_id"),
    Engagement.listing.organisation.name.as_alias("organisation_name"),
    Engagement.listing.district.code.as_alias("district_code"),
    Engagement.listing.district.name.as_alias("district_name"),
    Engagement.listing.state.as_alias("listing_state"),
)


def school_grant(actor: Actor) -> Grant:
    """The actor's school membership, or 403."""
    for grant in actor.grants:
        if grant.role == Role.school and grant.school_id is not None:
            return grant
    raise Forbidden("仅学校账号可以登记合作机构")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clock(value: object) -> bool:
    """A time of day as "HH:MM" (what the time rules compare)."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return False
    hours, minutes = value[:2], value[3:]
    return hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60


def _listing_problems(
    listing: Mapping[str, Any] | None, school: Mapping[str, Any], kept: bool
) -> list[Refusal]:
    """The listing exists, is in the school's district and may take this engagement."""
    if listing is None:
        return [Refusal("listing", "not_found", "所选机构的入库记录不存在")]
    state = State(listing["state"])
    if state not in PUBLIC_STATES:
        # Says no more than the public whitelist does: neither the state nor the district.
        return [Refusal("listing", "not_listed", "该机构当前不在白名单内，不能登记合作")]
    if listing["district"] != school["district"]:
        message = (
            f"该机构在{listing['district_name']}白名单中，不在本校所在的"
            f"{school['district_name']}白名单内：白名单按区管理，请选择本区白名单中的机构"
        )
        return [Refusal("listing", "other_district", message)]
    if state == State.under_rectification and not kept:
        # "Active, no new engagements" (DESIGN §2); running ones may still be corrected.
        return [Refusal("listing", "under_rectification", "该机构整改中，暂停新增合作")]
    return []


def _course_problems(value: object, listing: Mapping[str, Any]) -> list[Refusal]:
    form = listing["form"] if isinstance(listing["form"], dict) else {}
    approved = [
        str(c.get("name", "")) for c in approved_courses(form, listing["course_decisions"] or {})
    ]
    if not isinstance(value, list) or not value:
        return [Refusal("courses", "required", "请至少选择一门合作课程")]
    problems = []
    for index, name in enumerate(value):
        if not isinstance(name, str) or name not in approved:
            message = f"课程“{name}”不是该机构获批的课程（获批课程：{'、'.join(approved) or '无'}）"
            problems.append(Refusal(f"courses[{index}]", "not_approved", message))
    return problems


def _schedule_problems(
    value: object, evening: bool, policy: Mapping[str, Any], district: str
) -> list[Refusal]:
    if not isinstance(value, list) or not value:
        return [Refusal("weekly_schedule", "required", "请填写每周上课时间（至少一个时段）")]
    problems: list[Refusal] = []
    for number, slot in enumerate(value):
        field = f"weekly_schedule[{number}]"
        if not isinstance(slot, Mapping):
            problems.append(Refusal(field, "invalid", f"第{number + 1}个时段格式不正确"))
            continue
        if not _is_int(slot.get("weekday")):
            message = f"第{number + 1}个时段请选择星期（周一至周五）"
            problems.append(Refusal(f"{field}.weekday", "required", message))
        for key, label in (("start", "开始"), ("end", "结束")):
            if not _clock(slot.get(key)):
                message = f"第{number + 1}个时段的{label}时间应为“时:分”，如16:30"
                problems.append(Refusal(f"{field}.{key}", "format", message))
        what = f"第{number + 1}个时段"
        for finding in slot_findings(
            slot,
            evening=evening,
            policy=policy,
            district=district,
            what=what,
            field=field,
            end_floor_binds=True,
        ):
            problems.append(finding.refusal)
    return problems


def _plain_problems(data: Mapping[str, Any], school: Mapping[str, Any]) -> list[Refusal]:
    """Term, grade band, students and the evening-study flag."""
    problems: list[Refusal] = []
    term = data.get("term")
    if not isinstance(term, str) or not term.strip():
        problems.append(Refusal("term", "required", "请填写学期，如“2026-2027学年第一学期”"))
    elif len(term.strip()) > 32:
        problems.append(Refusal("term", "too_long", "学期不能超过32个字"))
    band, level = data.get("grade_band"), str(school["level"])
    if band not in GRADE_BANDS:
        problems.append(Refusal("grade_band", "required", "请选择学段"))
    elif band not in LEVEL_BANDS.get(level, ()):
        message = f"本校为{LEVEL_LABELS.get(level, level)}，学段不能选择{GRADE_BANDS[str(band)]}"
        problems.append(Refusal("grade_band", "level", message))
    students = data.get("students")
    if not _is_int(students) or not 1 <= students <= MAX_STUDENTS:
        message = f"参加学生人数应为1至{MAX_STUDENTS}之间的整数"
        problems.append(Refusal("students", "range", message))
    fee = data.get("fee_per_student_month")
    if not _is_int(fee) or fee < 0:
        message = "收费标准应为不小于0的整数（元/生/月）"
        problems.append(Refusal("fee_per_student_month", "invalid", message))
    if data.get("evening_study") is True and level != "middle":
        message = "晚自习仅面向初中学生，本校为小学，不能登记晚自习合作"
        problems.append(Refusal("evening_study", "evening_for_primary", message))
    return problems


async def _school(school_id: int) -> dict[str, Any]:
    row = await (
        School.select(
            School.id,
            School.name,
            School.level,
            School.district,
            School.district.name.as_alias("district_name"),
        )
        .where(School.id == school_id)
        .first()
    )
    if row is None:
        raise NotFound("学校不存在")
    return row


async def _listing(listing_id: object) -> dict[str, Any] | None:
    if not _is_int(listing_id):
        return None
    return await (
        Listing.select(
            Listing.id,
            Listing.state,
            Listing.district,
            Listing.form,
            Listing.course_decisions,
            Listing.district.name.as_alias("district_name"),
            Listing.district.policy.as_alias("policy"),
        )
        .where(Listing.id == listing_id)
        .output(load_json=True)
        .first()
    )


async def problems_of(
    data: Mapping[str, Any], school_id: int, kept_listing: int | None = None
) -> list[Refusal]:
    """Everything wrong with an engagement of this school; `kept_listing`: an edit's listing."""
    school = await _school(school_id)
    listing = await _listing(data.get("listing"))
    problems = _plain_problems(data, school)
    found = _listing_problems(listing, school, kept=data.get("listing") == kept_listing)
    if listing is None or found:
        return found + problems
    policy = effective_policy(listing["policy"])
    evening = data.get("evening_study") is True
    district = str(listing["district_name"])
    problems += _course_problems(data.get("courses"), listing)
    problems += _schedule_problems(data.get("weekly_schedule"), evening, policy, district)
    if not any(p.field == "fee_per_student_month" for p in problems):
        what = "本合作"
        fee = data.get("fee_per_student_month")
        finding = fee_finding(fee, evening, policy, district, what, "fee_per_student_month")
        if finding:
            problems.append(finding.refusal)
    return problems


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "listing": data["listing"],
        "courses": list(data["courses"]),
        "term": str(data["term"]).strip(),
        "grade_band": data["grade_band"],
        "students": data["students"],
        "weekly_schedule": [
            {"weekday": s["weekday"], "start": s["start"], "end": s["end"]}
            for s in data["weekly_schedule"]
        ],
        "fee_per_student_month": data["fee_per_student_month"],
        "evening_study": data.get("evening_study") is True,
    }


def _refuse(problems: list[Refusal]) -> Refused:
    return Refused("合作信息未通过校验：" + "；".join(p.message for p in problems[:3]), problems)


async def _audit(actor: Actor, action: str, row: Mapping[str, Any]) -> None:
    payload = {"engagement": row["id"], "school": row["school"]}
    await audit.record(actor, action=action, role="school", listing=row["listing"], payload=payload)


async def create(actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Record an engagement of the actor's school, or raise Refused naming each field at fault."""
    school_id = int(school_grant(actor).school_id or 0)
    async with write_transaction(Engagement._meta.db):
        problems = await problems_of(data, school_id)
        if problems:
            raise _refuse(problems)
        rows = await Engagement.insert(
            Engagement(**_values(data), school=school_id, created_by=actor.user_id)
        ).returning(Engagement.id)
        row = {"id": rows[0]["id"], "school": school_id, "listing": data["listing"]}
        await _audit(actor, "engagement.created", row)
    return await own_engagement(actor, int(row["id"]))


async def update(actor: Actor, engagement_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """Change an engagement of the actor's school (404 for others), validated as on creation."""
    async with write_transaction(Engagement._meta.db):
        current = await own_engagement(actor, engagement_id)
        problems = await problems_of(data, current["school"], kept_listing=current["listing"])
        if problems:
            raise _refuse(problems)
        values = {**_values(data), "updated_at": timesource.now()}
        await Engagement.update(values).where(Engagement.id == engagement_id)
        await _audit(actor, "engagement.updated", {**current, "listing": data["listing"]})
    return await own_engagement(actor, engagement_id)


async def delete(actor: Actor, engagement_id: int) -> None:
    """Delete an engagement of the actor's school (404 for others); kept once it has feedback."""
    async with write_transaction(Engagement._meta.db):
        current = await own_engagement(actor, engagement_id)
        # Feedback points at its engagement (ON DELETE RESTRICT) and feeds a cycle's scores.
        if await SchoolFeedback.exists().where(SchoolFeedback.engagement == engagement_id):
            message = "该合作已提交过评估反馈（评估结果据此计算），不能删除"
            raise Refused(message, [Refusal("engagement", "has_feedback", message)])
        await _audit(actor, "engagement.deleted", current)
        await Engagement.delete().where(Engagement.id == engagement_id)


def _scope(actor: Actor) -> Any | None:
    """A where-clause over Engagement for everything the actor may read; None when nothing."""
    return visible(RecordKind.engagement, actor)


async def _select(where: Any) -> list[dict[str, Any]]:
    return await (
        Engagement.select(*COLUMNS)
        .where(where)
        .order_by(Engagement.id, ascending=False)
        .output(load_json=True)
    )


async def visible_engagements(actor: Actor) -> list[dict[str, Any]]:
    """The engagements the actor may read: own school, own listings, district, or all (city)."""
    where = _scope(actor)
    return [] if where is None else await _select(where)


async def own_engagement(actor: Actor, engagement_id: int) -> dict[str, Any]:
    """An engagement of the actor's school; 404 for any other (existence is not revealed)."""
    grant = school_grant(actor)
    rows = await _select((Engagement.id == engagement_id) & (Engagement.school == grant.school_id))
    if not rows:
        raise NotFound("合作记录不存在")
    return rows[0]


async def engagements_of_organisation(organisation_id: int) -> list[dict[str, Any]]:
    """Which schools engage a provider, over all its listings (for the provider's pages)."""
    return await _select(Engagement.listing.organisation == organisation_id)


async def engagements_of_school(school_id: int) -> list[dict[str, Any]]:
    """A school's engagements, newest first."""
    return await _select(Engagement.school == school_id)


def exit_notice(row: Mapping[str, Any]) -> str:
    """The school's notice when an engaged provider has exited or been suspended ("" if neither)."""
    if row["provider_exited_on"]:
        day = row["provider_exited_on"]
        return f"{row['organisation_name']}已于{day.month}月{day.day}日退出白名单"
    day = row["provider_suspended_on"]
    if day:
        return f"{row['organisation_name']}已于{day.month}月{day.day}日被暂停，暂停期间不得进校服务"
    return ""
