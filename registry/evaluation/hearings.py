"""The provider heard before an adverse result takes effect (陈述、申辩).

A result that leads to rectification or exit is first sent to the provider as provisional:
the facts, the score breakdown, the rule applied and the consequence, with a deadline of
working days set by district policy. The provider may answer in writing, with attachments.
The reviewer then decides with a reason that addresses the answer (registry.evaluation
.decisions); only then does the consequence fire.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from registry.applications.inbox import zh
from registry.db import insert_rows, write_transaction
from registry.tables import Document, EvaluationResult, Hearing, ResultStatus
from workflows import audit, timesource
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import NotFound, Refused, district_policy
from workflows.policy import calendar_for
from workflows.scoring import CONSEQUENCE_LABELS, GRADE_LABELS, Consequence
from workflows.states import ExitReason, Role

ADVERSE = frozenset({Consequence.rectification, Consequence.exit})
ANSWER_MAX = 5000
ANSWER_DOCUMENTS_MAX = 10
ANSWER_DOCUMENT_KIND = "hearing_answer"


def is_adverse(consequence: str | Consequence) -> bool:
    return Consequence(consequence) in ADVERSE


def facts_of(cycle: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, Any]:
    """What the provider is told: the result as it stands, in words a provider can check."""
    breakdown = result.get("breakdown") or {}
    consequence = Consequence(result["consequence"])
    score = result.get("score_centi")
    reason = result.get("exit_reason")
    return {
        "cycle_name": cycle["name"],
        "score": None if score is None else f"{score / 100:.2f}",
        "grade": result.get("grade"),
        "grade_label": GRADE_LABELS.get(result.get("grade") or "", "未评定"),
        "consequence": consequence.value,
        "consequence_label": CONSEQUENCE_LABELS[consequence],
        "exit_reason_label": ExitReason(reason).label if reason else "",
        "rule": breakdown.get("explanation", ""),
        "lines": breakdown.get("lines", []),
        "vetoes": breakdown.get("vetoes", []),
        "adjust_reason": result.get("adjust_reason") or "",
        "grade_reason": result.get("grade_reason") or "",
    }


async def answer_due(district_id: int, sent_on: date) -> date:
    """The last day to answer: the policy's working days after the day it was sent."""
    policy = await district_policy(district_id)
    days = int(policy["evaluation"]["hearing_working_days"])
    return calendar_for(policy).add_working_days(sent_on, days)


def _sent_message(facts: Mapping[str, Any], due: date) -> str:
    return (
        f"{facts['cycle_name']}评估拟定结果：得分{facts['score'] or '—'}，"
        f"等级{facts['grade_label']}，拟{facts['consequence_label']}。"
        f"依据：{facts['rule']}。您可在{zh(due)}前（含当日）提交书面陈述、申辩意见和证明材料；"
        "期满未提出的，视为放弃陈述、申辩。"
    )


HEARING_COLUMNS = (
    "result",
    "cycle",
    "listing",
    "consequence",
    "facts",
    "sent_by",
    "sent_at",
    "answer_due",
    "answer",
    "answer_documents",
    "outcome",
    "decision_reason",
)


async def open_hearings(
    actor: Actor, cycle: Mapping[str, Any], results: Sequence[Mapping[str, Any]]
) -> int:
    """Send adverse results to their providers as provisional (inside the caller's
    transaction); the results' status becomes provisional. Returns how many were sent."""
    if not results:
        return 0
    now = timesource.now()
    due = await answer_due(cycle["district"], timesource.local_today(now))
    rows = []
    for result in results:
        facts = facts_of(cycle, result)
        rows.append(
            (
                result["id"],
                cycle["id"],
                result["listing"],
                result["consequence"],
                json.dumps(facts, ensure_ascii=False),
                actor.user_id,
                now,
                due,
                "",
                "[]",
                "",
                "",
            )
        )
    ids = [r["id"] for r in results]
    await Hearing.update({Hearing.outcome: "superseded"}).where(
        Hearing.result.is_in(ids) & (Hearing.outcome == "")
    )
    await insert_rows(Hearing, HEARING_COLUMNS, rows)
    await EvaluationResult.update({EvaluationResult.status: ResultStatus.provisional.value}).where(
        EvaluationResult.id.is_in(ids)
    )
    for result, row in zip(results, rows, strict=True):
        facts = json.loads(row[4])
        await audit.record(
            actor,
            action="evaluation.provisional",
            role=_staff_role_value(actor),
            listing=result["listing"],
            message=_sent_message(facts, due),
            payload={
                "cycle": cycle["id"],
                "consequence": result["consequence"],
                "answer_due": due.isoformat(),
            },
            occurred_at=now,
        )
    return len(rows)


def _staff_role_value(actor: Actor) -> str:
    roles = actor.roles
    for role in (Role.reviewer, Role.approver, Role.city):
        if role in roles:
            return role.value
    return Role.system.value


HEARING_SELECT = (
    *Hearing._meta.columns,
    Hearing.cycle.name.as_alias("cycle_name"),
    Hearing.cycle.district.as_alias("district"),
    Hearing.listing.organisation.as_alias("organisation_id"),
    Hearing.listing.organisation.name.as_alias("organisation_name"),
)


async def hearings_of_result(result_id: int) -> list[dict[str, Any]]:
    """Every hearing of a result, oldest first."""
    return (
        await Hearing.select(*HEARING_SELECT)
        .where(Hearing.result == result_id)
        .order_by(Hearing.id)
        .output(load_json=True)
    )


async def open_hearing_of(result_id: int) -> dict[str, Any] | None:
    """The result's hearing still waiting for a decision, if any."""
    rows = [h for h in await hearings_of_result(result_id) if h["outcome"] == ""]
    return rows[-1] if rows else None


def answer_window_open(hearing: Mapping[str, Any], today: date) -> bool:
    return (
        hearing["outcome"] == ""
        and hearing["answered_at"] is None
        and today <= hearing["answer_due"]
    )


async def answer_upload_refusal(listing_id: int) -> Refusal | None:
    """Why evidence for an answer may not be uploaded for the listing now (None: it may)."""
    today = timesource.local_today()
    rows = await Hearing.select().where((Hearing.listing == listing_id) & (Hearing.outcome == ""))
    if any(answer_window_open(h, today) for h in rows):
        return None
    return Refusal(
        "kind", "no_open_hearing", "该机构没有在陈述、申辩期限内的评估结果，不能上传证明材料"
    )


async def answer_documents(ids: Sequence[int | str]) -> list[dict[str, Any]]:
    """The files attached to an answer (id, name, size), in the order they were uploaded."""
    wanted = [int(i) for i in ids or ()]
    if not wanted:
        return []
    return list(
        await Document.select(Document.id, Document.original_name, Document.size)
        .where(Document.id.is_in(wanted))
        .order_by(Document.id)
    )


async def pending_documents(hearing: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Evidence uploaded for this hearing and not yet part of an answer."""
    return list(
        await Document.select(
            Document.id, Document.original_name, Document.size, Document.uploaded_at
        )
        .where(
            (Document.listing == hearing["listing"])
            & (Document.kind == ANSWER_DOCUMENT_KIND)
            & (Document.uploaded_at >= hearing["sent_at"])
        )
        .order_by(Document.id)
    )


def may_decide(hearing: Mapping[str, Any], today: date) -> bool:
    """A decision waits for the answer or for the deadline to pass, whichever comes first."""
    return hearing["answered_at"] is not None or today > hearing["answer_due"]


def stage_label(hearing: Mapping[str, Any], today: date) -> str:
    """Where the hearing stands, as the pages say it."""
    if hearing["outcome"] == "superseded":
        return "已重新告知"
    if hearing["outcome"]:
        return "已作出决定"
    if hearing["answered_at"] is not None:
        return "机构已陈述申辩，待复核决定"
    if today > hearing["answer_due"]:
        return "陈述申辩期已过，机构未提出意见，待复核决定"
    return f"待机构陈述申辩（截止{zh(hearing['answer_due'])}）"


def _own_organisations(actor: Actor) -> set[int]:
    return {
        g.organisation_id
        for g in actor.grants
        if g.role == Role.provider and g.organisation_id is not None
    }


async def provider_hearings(actor: Actor) -> list[dict[str, Any]]:
    """The provider's hearings, newest first."""
    organisations = _own_organisations(actor)
    if not organisations:
        return []
    return (
        await Hearing.select(*HEARING_SELECT)
        .where(Hearing.listing.organisation.is_in(list(organisations)))
        .order_by(Hearing.id, ascending=False)
        .output(load_json=True)
    )


async def hearing_for_provider(actor: Actor, hearing_id: int) -> dict[str, Any]:
    """One hearing of the provider's own organisation, or 404."""
    row = (
        await Hearing.select(*HEARING_SELECT)
        .where(Hearing.id == hearing_id)
        .output(load_json=True)
        .first()
    )
    if row is None or row["organisation_id"] not in _own_organisations(actor):
        raise NotFound("该评估结果告知不存在")
    return row


async def answer_hearing(
    actor: Actor, hearing_id: int, text: str, document_ids: Sequence[int] = ()
) -> dict[str, Any]:
    """The provider's written statement and defence, with attachments, before the deadline."""
    hearing = await hearing_for_provider(actor, hearing_id)
    today = timesource.local_today()
    problems: list[Refusal] = []
    answer = (text or "").strip()
    if not answer:
        problems.append(Refusal("answer", "required", "请填写陈述、申辩的意见"))
    elif len(answer) > ANSWER_MAX:
        problems.append(Refusal("answer", "too_long", f"陈述、申辩意见不能超过{ANSWER_MAX}字"))
    documents = list(dict.fromkeys(int(d) for d in document_ids))
    if len(documents) > ANSWER_DOCUMENTS_MAX:
        problems.append(
            Refusal("documents", "too_many", f"证明材料最多{ANSWER_DOCUMENTS_MAX}个文件")
        )
    if documents:
        found = await Document.select(Document.id).where(
            Document.id.is_in(documents)
            & (Document.listing == hearing["listing"])
            & (Document.kind == ANSWER_DOCUMENT_KIND)
        )
        if len(found) != len(documents):
            problems.append(
                Refusal("documents", "unknown", "证明材料不存在或不属于本次陈述申辩，请重新上传")
            )
    if hearing["outcome"]:
        problems.append(Refusal("hearing", "decided", "该评估结果已作出决定，不能再提交意见"))
    elif hearing["answered_at"] is not None:
        problems.append(Refusal("hearing", "answered", "已提交过陈述、申辩意见，不能重复提交"))
    elif today > hearing["answer_due"]:
        problems.append(
            Refusal(
                "hearing",
                "deadline_passed",
                f"陈述、申辩期限已于{zh(hearing['answer_due'])}届满，不能再提交",
            )
        )
    if problems:
        raise Refused("；".join(p.message for p in problems), problems)
    async with write_transaction(Hearing._meta.db):
        updated = (
            await Hearing.update(
                {
                    Hearing.answer: answer,
                    Hearing.answer_documents: documents,
                    Hearing.answered_by: actor.user_id,
                    Hearing.answered_at: timesource.now(),
                }
            )
            .where(
                (Hearing.id == hearing_id) & Hearing.answered_at.is_null() & (Hearing.outcome == "")
            )
            .returning(Hearing.id)
        )
        if not updated:
            raise Refused(
                "已提交过陈述、申辩意见",
                [Refusal("hearing", "answered", "已提交过陈述、申辩意见，不能重复提交")],
            )
        await audit.record(
            actor,
            action="evaluation.answered",
            role=Role.provider.value,
            listing=hearing["listing"],
            payload={
                "cycle": hearing["cycle"],
                "hearing": hearing_id,
                "documents": len(documents),
            },
        )
    return await hearing_for_provider(actor, hearing_id)
