"""Automatic checks of an application: blocking problems and warnings for the reviewer.

Pure: the checks read only the form, the listing's Document rows, the district, its policy,
today and the working-day calendar. Fields are named like schema errors ("form.staff[1].
resident_id"); a Document row is "documents.<id>", the absence of one is "documents". The
form may be half-filled (a draft): anything missing or malformed is left to schema validation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflows.context import Context, Refusal
from workflows.identity import minimum_age_problem, resident_id_problem, uscc_problem
from workflows.subjects import subject_words
from workflows.workdays import WorkCalendar

# Document kinds (Document.kind) and their Chinese labels; the upload form offers these.
DOCUMENT_KINDS: dict[str, str] = {
    "licence": "营业执照/办学许可证",
    "staff_certificate": "从业人员资格证书",
    "no_criminal_record": "无犯罪记录证明",
    "health_certificate": "健康证明",
    "insurance": "保险单",
}
GRADE_BANDS = {"lower_primary": "小学低年级", "upper_primary": "小学高年级", "middle": "初中"}

# A staff member's papers that must be valid to teach (form key, document kind).
STAFF_PAPERS = (
    ("no_criminal_record_valid_until", "no_criminal_record"),
    ("health_certificate_valid_until", "health_certificate"),
)


@dataclass(frozen=True)
class Finding:
    """One result of the automatic checks."""

    code: str
    field: str
    message: str
    blocking: bool

    @property
    def refusal(self) -> Refusal:
        """The finding in the API's error shape."""
        return Refusal(self.field, self.code, self.message)


@dataclass(frozen=True)
class Application:
    """What the checks read: the form, documents, district and policy, today and the start."""

    form: Mapping[str, Any]
    documents: list[Mapping[str, Any]]
    district: Mapping[str, Any]
    policy: Mapping[str, Any]
    today: date
    # The day the listing would start if approved today: the end of the public notice.
    starts: date

    def items(self, key: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
        """The well-formed entries of a list section of the form, with their indexes."""
        value = self.form.get(key)
        for index, item in enumerate(_list(value)):
            if isinstance(item, Mapping):
                yield index, item

    def section(self, key: str) -> Mapping[str, Any]:
        """A section of the form, or an empty one."""
        value = self.form.get(key)
        return value if isinstance(value, Mapping) else {}

    @property
    def district_name(self) -> str:
        """The district's name for messages ("本区" when unknown)."""
        return str(self.district.get("name") or "本区")


Check = Callable[[Application], list[Finding]]


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _minutes(value: object) -> int | None:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    return int(hours) * 60 + int(minutes)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _yuan(value: float) -> str:
    return f"{value:g}元/生/月"


def _name(item: Mapping[str, Any], fallback: str) -> str:
    name = item.get("name")
    return name.strip() if isinstance(name, str) and name.strip() else fallback


def _course(index: int, course: Mapping[str, Any]) -> str:
    return f"课程“{_name(course, f'第{index + 1}门')}”"


def _staff(index: int, person: Mapping[str, Any]) -> str:
    return f"从业人员“{_name(person, f'第{index + 1}名')}”"


def identity_numbers(app: Application) -> list[Finding]:
    """USCC check character (organisations) and every resident ID: check digit, birth, age."""
    findings: list[Finding] = []
    organisation = app.section("organisation")
    people: list[tuple[str, str, object]] = []
    if organisation.get("kind") == "organisation" and isinstance(organisation.get("uscc"), str):
        problem = uscc_problem(organisation["uscc"])
        if problem:
            message = f"统一社会信用代码有误：{problem}"
            findings.append(Finding("uscc", "form.organisation.uscc", message, True))
    if organisation.get("kind") == "individual":
        people.append(("form.organisation.resident_id", "申请人", organisation.get("resident_id")))
    for index, person in app.items("staff"):
        field = f"form.staff[{index}].resident_id"
        people.append((field, _staff(index, person), person.get("resident_id")))
    for field, who, number in people:
        if not isinstance(number, str):
            continue
        problem = resident_id_problem(number, app.today)
        if problem:
            findings.append(Finding("resident_id", field, f"{who}的身份证号有误：{problem}", True))
        elif too_young := minimum_age_problem(number, app.today):
            message = f"{who}{too_young}，不能从事课后服务工作"
            findings.append(Finding("minimum_age", field, message, True))
    return findings


def _expiry(field: str, label: str, until: date, app: Application) -> Finding | None:
    if until < app.today:
        return Finding("expired", field, f"{label}有效期至{until}，已过期", True)
    if until < app.starts:
        message = (
            f"{label}有效期至{until}，早于预计入库日期{app.starts}"
            "（按今日获批并经公示期计算），请更新后再提交"
        )
        return Finding("expires_before_listing", field, message, True)
    return None


def _form_dates(app: Application) -> Iterator[tuple[str, str, object]]:
    insurance = app.section("insurance")
    yield "form.insurance.valid_until", DOCUMENT_KINDS["insurance"], insurance.get("valid_until")
    for index, person in app.items("staff"):
        who, base = _staff(index, person), f"form.staff[{index}]"
        for key, kind in STAFF_PAPERS:
            yield f"{base}.{key}", f"{who}的{DOCUMENT_KINDS[kind]}", person.get(key)
        for number, certificate in enumerate(_list(person.get("certificates"))):
            if isinstance(certificate, Mapping):
                kind = certificate.get("kind") or DOCUMENT_KINDS["staff_certificate"]
                field = f"{base}.certificates[{number}].valid_until"
                yield field, f"{who}的“{kind}”", certificate.get("valid_until")


def document_expiry(app: Application) -> list[Finding]:
    """Every dated document, uploaded or declared in the form, is valid when the listing starts."""
    staff = dict(app.items("staff"))
    dated: list[tuple[str, str, object]] = list(_form_dates(app))
    for document in app.documents:
        label = DOCUMENT_KINDS.get(str(document.get("kind")), str(document.get("kind") or "材料"))
        index = document.get("staff_index")
        if isinstance(index, int) and index in staff:
            label = f"{_staff(index, staff[index])}的{label}"
        if document.get("original_name"):
            label = f"{label}（{document['original_name']}）"
        dated.append(
            (f"documents.{document.get('id')}", f"已上传的{label}", document.get("valid_until"))
        )
    findings = []
    for field, label, value in dated:
        until = _date(value)
        if until is not None and (finding := _expiry(field, label, until, app)):
            findings.append(finding)
    return findings


def _cleared(person: Mapping[str, Any], app: Application) -> list[str]:
    """What the staff member lacks to be assigned: a valid no-criminal-record or health paper."""
    # A missing or malformed date is a schema error already; judge only real dates here.
    return [
        DOCUMENT_KINDS[kind]
        for key, kind in STAFF_PAPERS
        if (until := _date(person.get(key))) is not None and until < app.starts
    ]


def assigned_staff(app: Application) -> list[Finding]:
    """Each course's staff exist in the staff list and hold valid no-criminal and health papers."""
    staff = dict(app.items("staff"))
    findings: list[Finding] = []
    for index, course in app.items("courses"):
        for position, ref in enumerate(_list(course.get("staff"))):
            field = f"form.courses[{index}].staff[{position}]"
            if isinstance(ref, int) and not isinstance(ref, bool):
                member = ref if ref in staff else None
                unknown = f"序号{ref}（从业人员共{len(staff)}人，序号从0开始）"
            elif isinstance(ref, str):
                names = [i for i, p in staff.items() if _name(p, "") == ref.strip()]
                member, unknown = (names[0] if names else None), f"“{ref}”"
            else:
                continue
            if member is None:
                message = f"{_course(index, course)}的授课人员{unknown}不在从业人员名单中"
                findings.append(Finding("unknown_staff", field, message, True))
            elif missing := _cleared(staff[member], app):
                message = (
                    f"{_staff(member, staff[member])}没有在{app.starts}前有效的"
                    f"{'、'.join(missing)}，不能担任{_course(index, course)}的授课人员"
                )
                findings.append(Finding("staff_not_cleared", field, message, True))
    return findings


def subject_tutoring(app: Application) -> list[Finding]:
    """Subject tutoring: a course named for a school subject is refused; an outline that
    mentions one is flagged for the reviewer."""
    findings = []
    for index, course in app.items("courses"):
        name, outline = (course.get(key) for key in ("name", "outline"))
        in_name = subject_words(name) if isinstance(name, str) else []
        in_outline = subject_words(outline) if isinstance(outline, str) else []
        if in_name:
            # The policy admits non-subject training only: a subject in the course's own
            # name is unambiguous.
            quoted = "".join(f"“{w}”" for w in in_name)
            message = f"{_course(index, course)}名称含有{quoted}，属于学科类培训，不能申请入库"
            findings.append(
                Finding("subject_tutoring", f"form.courses[{index}].name", message, True)
            )
        elif in_outline:
            quoted = "".join(f"“{w}”" for w in in_outline)
            message = f"{_course(index, course)}的大纲含有{quoted}，疑似学科类培训，请审核员核实"
            findings.append(
                Finding("subject_tutoring", f"form.courses[{index}].outline", message, False)
            )
    return findings


def fee_finding(
    fee: object, evening: bool, policy: Mapping[str, Any], district: str, what: str, field: str
) -> Finding | None:
    """A monthly fee over the district's cap (evening study has its own); engagements too."""
    cap = _number((policy.get("fee_caps") or {}).get("evening" if evening else "after_school"))
    amount = _number(fee)
    if cap is None or amount is None or amount <= cap:
        return None
    kind = "晚自习" if evening else "课后服务"
    message = f"{what}收费{_yuan(amount)}，超过{district}{kind}收费上限{_yuan(cap)}"
    return Finding("fee_over_cap", field, message, True)


def fee_caps(app: Application) -> list[Finding]:
    """Each course's monthly fee is within the district's cap (evening study has its own)."""
    findings = []
    for index, course in app.items("courses"):
        finding = fee_finding(
            course.get("fee_per_student_month"),
            course.get("evening_study") is True,
            app.policy,
            app.district_name,
            _course(index, course),
            f"form.courses[{index}].fee_per_student_month",
        )
        if finding:
            findings.append(finding)
    return findings


def slot_findings(
    slot: Mapping[str, Any],
    *,
    evening: bool,
    policy: Mapping[str, Any],
    district: str,
    what: str,
    field: str,
    end_floor_binds: bool = False,
) -> Iterator[Finding]:
    """One weekly slot against the time rules; shared with engagements.

    `end_floor_binds`: an application's course only warns the reviewer about an early end, while
    a school's engagement is the service itself and is refused.
    """
    weekday = slot.get("weekday")
    if isinstance(weekday, int) and not 1 <= weekday <= 5:
        day = {6: "星期六", 7: "星期日"}.get(weekday, f"第{weekday}天")
        message = f"{what}安排在{day}：课后服务仅在上学日（周一至周五，1–5）开展"
        yield Finding("weekday", f"{field}.weekday", message, True)
    start, end = _minutes(slot.get("start")), _minutes(slot.get("end"))
    if start is None or end is None:
        return
    if start >= end:
        message = f"{what}的开始时间{slot['start']}应早于结束时间{slot['end']}"
        yield Finding("time_order", f"{field}.end", message, True)
    elif evening:
        latest = policy.get("evening_end_no_later_than")
        latest_minutes = _minutes(latest)
        if latest_minutes is not None and end > latest_minutes:
            message = f"{what}为晚自习，结束时间{slot['end']}晚于{district}规定的{latest}"
            yield Finding("evening_end_late", f"{field}.end", message, True)
    else:
        floor = policy.get("service_end_no_earlier_than")
        floor_minutes = _minutes(floor)
        if floor_minutes is not None and end < floor_minutes:
            if end_floor_binds:
                message = (
                    f"{what}结束时间{slot['end']}早于{floor}："
                    f"{district}课后服务结束时间不得早于{floor}"
                )
            else:
                # The rule binds the school's service, not each provider course: the reviewer
                # decides.
                message = (
                    f"{what}结束时间{slot['end']}早于{floor}："
                    f"{district}课后服务结束时间原则上不早于{floor}，请结合学校安排核实"
                )
            yield Finding("service_end_early", f"{field}.end", message, end_floor_binds)


def _slot_findings(
    app: Application, index: int, course: Mapping[str, Any], number: int, slot: Mapping[str, Any]
) -> Iterator[Finding]:
    return slot_findings(
        slot,
        evening=course.get("evening_study") is True,
        policy=app.policy,
        district=app.district_name,
        what=_course(index, course),
        field=f"form.courses[{index}].weekly_schedule[{number}]",
    )


def schedule_rules(app: Application) -> list[Finding]:
    """Weekdays 1-5, start before end, end times of the district, evening study for middle only."""
    findings: list[Finding] = []
    for index, course in app.items("courses"):
        primary = [b for b in _list(course.get("grade_bands")) if b != "middle"]
        if course.get("evening_study") is True and primary:
            labels = "、".join(GRADE_BANDS.get(str(b), str(b)) for b in primary)
            message = f"晚自习面向初中学生，{_course(index, course)}的适用学段不能包含{labels}"
            findings.append(
                Finding("evening_for_primary", f"form.courses[{index}].grade_bands", message, True)
            )
        for number, slot in enumerate(_list(course.get("weekly_schedule"))):
            if isinstance(slot, Mapping):
                findings.extend(_slot_findings(app, index, course, number, slot))
    return findings


def admission_conditions(app: Application) -> list[Finding]:
    """Years in operation (from founded_on, else years_in_operation) meet the district minimum."""
    required = _number((app.policy.get("admission") or {}).get("min_years_in_operation"))
    organisation = app.section("organisation")
    if not required:
        return []
    founded = _date(organisation.get("founded_on"))
    if founded is not None:
        before = (app.today.month, app.today.day) < (founded.month, founded.day)
        years, field = max(0, app.today.year - founded.year - before), "founded_on"
        since = f"成立（从业）于{founded}，至今" + (f"满{years}年" if years else "不足1年")
    elif (declared := _number(organisation.get("years_in_operation"))) is not None:
        years, field, since = int(declared), "years_in_operation", f"填报从业年限{declared:g}年"
    else:
        return []
    if years >= required:
        return []
    message = f"{app.district_name}准入条件要求成立（从业）满{required:g}年，申请主体{since}"
    return [Finding("years_in_operation", f"form.organisation.{field}", message, True)]


def required_documents(app: Application) -> list[Finding]:
    """A licence (organisations) and an insurance policy are uploaded (a reviewer warning)."""
    kinds = {document.get("kind") for document in app.documents}
    needed = ["insurance"]
    if app.section("organisation").get("kind") == "organisation":
        needed.insert(0, "licence")
    return [
        Finding("document_missing", "documents", f"未上传{DOCUMENT_KINDS[kind]}", False)
        for kind in needed
        if kind not in kinds
    ]


CHECKS: tuple[Check, ...] = (
    identity_numbers,
    document_expiry,
    assigned_staff,
    subject_tutoring,
    fee_caps,
    schedule_rules,
    admission_conditions,
    required_documents,
)
# Chinese names of the checks for the reviewer's list, keyed by function name.
CHECK_LABELS: dict[str, str] = {
    "identity_numbers": "统一社会信用代码与身份证号（校验码、出生日期、年龄）",
    "document_expiry": "证照与证明有效期（已过期或在预计入库日前到期）",
    "assigned_staff": "授课人员在从业人员名单中，且持有效的无犯罪记录证明和健康证明",
    "subject_tutoring": "疑似学科类培训（提示审核员核实）",
    "fee_caps": "收费标准不超过本区收费上限（课后服务、晚自习分别计）",
    "schedule_rules": "上课时间：上学日、时段有效，晚自习仅面向初中且不晚于规定时间",
    "admission_conditions": "准入条件：成立（从业）年限",
    "required_documents": "必备材料：营业执照/办学许可证、保险单（缺少时提示审核员）",
}


def findings_for(
    form: Mapping[str, Any],
    documents: list[Mapping[str, Any]],
    district: Mapping[str, Any] | None,
    policy: Mapping[str, Any],
    today: date,
    calendar: WorkCalendar,
) -> list[Finding]:
    """Every finding for a form and its documents in a district, as if submitted today."""
    days = policy.get("notice_working_days")
    starts = calendar.add_working_days(today, days) if isinstance(days, int) and days > 0 else today
    app = Application(
        form=form if isinstance(form, Mapping) else {},
        documents=list(documents),
        district=district or {},
        policy=policy,
        today=today,
        starts=starts,
    )
    return [finding for check in CHECKS for finding in check(app)]


def run_checks(ctx: Context) -> list[Finding]:
    """Every finding for the listing's form, documents and district policy."""
    return findings_for(
        ctx.listing.get("form") or {},
        ctx.facts.get("documents") or [],
        ctx.facts.get("district"),
        ctx.policy,
        ctx.today,
        ctx.calendar,
    )
