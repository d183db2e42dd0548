"""A listing's evaluation report (评估结果报告) as an official document (GB/T 9704).

Everything shown comes from the stored result and its breakdown (the snapshot the engine
scored), never from a re-run of the scoring: the report must say what was decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from registry.access.people import display_name_of
from registry.documents.numbering import issue_number
from registry.documents.official import DistrictDocument
from registry.documents.render import html_of, pdf_in_thread
from registry.pages.filters import zh_datetime
from registry.public.history import local_date, moment_of
from registry.tables import EvaluationCycle, EvaluationResult, Listing, ResultStatus
from workflows.engine import NotFound, local_today
from workflows.scoring import (
    GRADE_LABELS,
    SEVERITY_LABELS,
    TALLY_LABELS,
    Consequence,
)
from workflows.states import exit_reason_label

UNCONFIRMED = "待评审确认"
UNNUMBERED = "（未确认，不编号）"
_SELF_REPORT_WORDS = {
    "on_time": "按时提交，内容完整",
    "late": "逾期提交",
    "incomplete": "已提交，内容不完整",
    None: "未提交",
}


def listing_number(district_code: str, listing_id: int) -> str:
    """120101-000123: the same number the certificate ends with."""
    return f"{district_code}-{listing_id:06d}"


def score_text(centi: int | None) -> str:
    """87.65 from 8765; — when there is no score."""
    return "—" if centi is None else f"{Decimal(centi) / 100:.2f}"


def grade_label(grade: str | None) -> str:
    """优秀 …; 未评定 when there is no grade."""
    return GRADE_LABELS.get(grade or "", "未评定")


def consequence_label(value: str | None) -> str:
    """合格续期 …; an unknown code is shown as stored rather than hidden."""
    return Consequence(value).label if value in Consequence.__members__ else (value or "—")


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | str) and str(value).lstrip("-").isdigit() else 0


def inputs_in_words(source: str, inputs: Mapping[str, Any]) -> str:
    """The data an item was scored on, as a person would write it on the report."""
    if source == "school_feedback":
        schools = _count(inputs.get("schools"))
        if not schools:
            return "无合作学校评价"
        means = "、".join(str(m) for m in inputs.get("school_means") or [])
        return f"{schools}所学校评价，各校平均分：{means}"
    if source == "parent_satisfaction":
        parts = "、".join(f"{label}{_count(inputs.get(k))}" for k, label in TALLY_LABELS.items())
        return f"{parts}，共{_count(inputs.get('responses'))}份"
    if source == "inspection":
        if inputs.get("inspection") is None:
            return "未进行现场检查"
        text = f"现场检查得分{inputs['inspection']}"
        return text + ("，发现违规收费" if inputs.get("fee_violation") else "")
    if source == "self_report":
        return _SELF_REPORT_WORDS.get(inputs.get("status"), str(inputs.get("status")))
    if source == "upheld_complaints":
        return f"查实投诉{_count(inputs.get('upheld'))}件"
    if source == "safety_incidents":
        counted = [(label, _count(inputs.get(key))) for key, label in SEVERITY_LABELS.items()]
        if not any(n for _, n in counted):
            return "无安全事故"
        return "、".join(f"{label}{n}起" for label, n in counted)
    return "；".join(f"{k}：{v}" for k, v in inputs.items())


def _points(value: Any) -> str:
    # Stored as strings of Decimals ("37.00", "-5.00"); shown as stored so the sum checks.
    return "—" if value is None else str(value)


@dataclass(frozen=True)
class ReportLine:
    """One row of the breakdown table, already in words."""

    key: str
    label: str
    kind: str
    inputs: str
    score: str
    weight: str
    effective_weight: str
    points: str
    note: str


def report_lines(breakdown: Mapping[str, Any]) -> list[ReportLine]:
    """The breakdown's lines in the rubric's order, scored items before deductions."""
    lines = []
    for line in breakdown.get("lines") or []:
        scored = line.get("kind") == "score"
        lines.append(
            ReportLine(
                key=str(line.get("key", "")),
                label=str(line.get("label", "")),
                kind="score" if scored else "deduction",
                inputs=inputs_in_words(str(line.get("source", "")), line.get("inputs") or {}),
                score=_points(line.get("score")) if scored else "—",
                weight=_points(line.get("weight")) if scored else "—",
                # An item without data is left out and its weight shared by the others.
                effective_weight=(
                    ("不计" if line.get("effective_weight") is None else line["effective_weight"])
                    if scored
                    else "—"
                ),
                points=_points(line.get("points")),
                note=str(line.get("note") or ""),
            )
        )
    return sorted(lines, key=lambda r: r.kind != "score")


@dataclass(frozen=True)
class EvaluationReport(DistrictDocument):
    """One listing's result in one cycle, with everything the report prints."""

    district_code: str
    district_id: int
    district_name: str
    on: date
    cycle_id: int
    cycle_name: str
    starts_on: date
    ends_on: date
    listing_id: int
    organisation_id: int
    organisation_name: str
    score_centi: int | None
    grade: str | None
    consequence: str
    exit_reason: str | None
    breakdown: dict[str, Any]
    school_responses: int
    parent_responses: int
    confirmed: bool
    confirmed_by: str | None
    confirmed_at: datetime | None
    adjusted: bool
    adjust_reason: str
    number: str

    @property
    def title(self) -> str:
        """The document's title."""
        return f"{self.district_name}课后服务非学科类培训机构评估结果报告"

    @property
    def title_lines(self) -> tuple[str, str]:
        """The title broken between words (GB/T 9704)."""
        return (f"{self.district_name}课后服务非学科类培训机构", "评估结果报告")

    @property
    def number_of_listing(self) -> str:
        """The listing's number (编号)."""
        return listing_number(self.district_code, self.listing_id)

    @property
    def score(self) -> str:
        """The final score (the reviewer's when adjusted)."""
        return score_text(self.score_centi)

    @property
    def grade_label(self) -> str:
        """The final grade in Chinese."""
        return grade_label(self.grade)

    @property
    def consequence_label(self) -> str:
        """The final consequence in Chinese."""
        return consequence_label(self.consequence)

    @property
    def exit_reason_label(self) -> str:
        """The exit reason in Chinese, or empty."""
        return exit_reason_label(self.exit_reason)

    @property
    def computed_score(self) -> str:
        """The score the engine computed (differs from `score` only when adjusted)."""
        value = self.breakdown.get("score")
        return "—" if value is None else str(value)

    @property
    def computed_grade_label(self) -> str:
        """The grade the engine computed."""
        return grade_label(self.breakdown.get("grade"))

    @property
    def computed_consequence_label(self) -> str:
        """The consequence the engine computed."""
        return consequence_label(self.breakdown.get("consequence"))

    @property
    def computed_exit_reason_label(self) -> str:
        """The exit reason the engine computed, or empty."""
        return exit_reason_label(self.breakdown.get("exit_reason"))

    @property
    def lines(self) -> list[ReportLine]:
        """The breakdown table's rows."""
        return report_lines(self.breakdown)

    @property
    def scored_total(self) -> str:
        """The sum of the item points as printed (before the floor at zero)."""
        total = sum((Decimal(r.points) for r in self.lines if r.points != "—"), Decimal(0))
        return f"{total:.2f}"

    @property
    def vetoes(self) -> list[tuple[str, str]]:
        """(exit reason label, text) of each 一票否决."""
        return [
            (exit_reason_label(v.get("exit_reason")), str(v.get("text", "")))
            for v in self.breakdown.get("vetoes") or []
        ]

    @property
    def explanation(self) -> str:
        """The engine's one-sentence reason for the consequence."""
        return str(self.breakdown.get("explanation") or "")

    @property
    def confirmation(self) -> str:
        """Who confirmed the result and when, or 待评审确认."""
        if not self.confirmed:
            return UNCONFIRMED
        return f"已由{self.confirmed_by or '评审人员'}于{zh_datetime(self.confirmed_at)}确认"


async def evaluation_report(cycle_id: int, listing_id: int) -> EvaluationReport:
    """The report's data; NotFound for an unknown cycle, listing or result."""
    cycle = await (
        EvaluationCycle.select(
            EvaluationCycle.id,
            EvaluationCycle.name,
            EvaluationCycle.starts_on,
            EvaluationCycle.ends_on,
            EvaluationCycle.district.id.as_alias("district_id"),
            EvaluationCycle.district.code.as_alias("district_code"),
            EvaluationCycle.district.name.as_alias("district_name"),
        )
        .where(EvaluationCycle.id == cycle_id)
        .first()
    )
    if cycle is None:
        raise NotFound("评估周期不存在")
    listing = await (
        Listing.select(
            Listing.id,
            Listing.organisation.id.as_alias("organisation_id"),
            Listing.organisation.name.as_alias("organisation_name"),
        )
        .where(Listing.id == listing_id)
        .first()
    )
    result = await (
        EvaluationResult.select()
        .where((EvaluationResult.cycle == cycle_id) & (EvaluationResult.listing == listing_id))
        .output(load_json=True)
        .first()
    )
    if listing is None or result is None:
        raise NotFound("评估结果不存在")
    confirmed = result["status"] == ResultStatus.confirmed.value
    confirmed_at = moment_of(result["confirmed_at"]) if result["confirmed_at"] else None
    # Dated the day it was confirmed. Only a confirmed result is an issued document and takes
    # a number from the register (once: a re-download keeps it); a draft is not numbered.
    on = local_date(confirmed_at) if confirmed_at else local_today()
    number = UNNUMBERED
    if confirmed:
        subject = f"cycle{cycle['id']}/listing{listing['id']}"
        issued = await issue_number(cycle["district_code"], "evaluation_report", subject, on)
        number, on = issued.text, issued.issued_on
    breakdown = result["breakdown"] if isinstance(result["breakdown"], dict) else {}
    return EvaluationReport(
        district_code=cycle["district_code"],
        district_id=cycle["district_id"],
        district_name=cycle["district_name"],
        on=on,
        cycle_id=cycle["id"],
        cycle_name=cycle["name"],
        starts_on=cycle["starts_on"],
        ends_on=cycle["ends_on"],
        listing_id=listing["id"],
        organisation_id=listing["organisation_id"],
        organisation_name=listing["organisation_name"],
        score_centi=result["score_centi"],
        grade=result["grade"],
        consequence=result["consequence"],
        exit_reason=result["exit_reason"],
        breakdown=breakdown,
        school_responses=result["school_responses"],
        parent_responses=result["parent_responses"],
        confirmed=confirmed,
        confirmed_by=await display_name_of(result["confirmed_by"]) or None if confirmed else None,
        confirmed_at=confirmed_at,
        adjusted=bool(result["adjusted"]),
        adjust_reason=result["adjust_reason"] or "",
        number=number,
    )


def report_html(report: EvaluationReport) -> str:
    """The report's HTML."""
    return html_of("evaluation_report.html", doc=report)


async def render_report(report: EvaluationReport) -> bytes:
    """The report as PDF bytes, rendered off the event loop."""
    return await pdf_in_thread(report_html(report))


async def evaluation_report_pdf(cycle_id: int, listing_id: int) -> bytes:
    """A listing's evaluation report in a cycle as PDF; NotFound if there is none."""
    return await render_report(await evaluation_report(cycle_id, listing_id))


def report_filename(report: EvaluationReport) -> tuple[str, str]:
    """The download's Chinese file name and its ASCII fallback."""
    return (
        f"评估报告-{report.cycle_name}-{report.organisation_name}.pdf",
        f"evaluation-{report.cycle_id}-{report.listing_id}.pdf",
    )
