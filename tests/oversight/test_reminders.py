"""Reminders: given before each deadline at the policy's leads, once each whoever ticks, shown in
the provider's inbox and e-mailed through a real SMTP server the test starts."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from piccolo.apps.user.tables import BaseUser
from piccolo.engine.base import Engine

from registry.applications.inbox import inbox_for
from registry.oversight.reminders import lead_for, remind
from registry.settings import get_settings
from registry.tables import EvaluationCycle, Organisation, Reminder, SelfReport
from tests.cast import CAST, HEPING, NOW, listing_in, listing_row
from tests.cli_runner import registry
from tests.evaluation.helpers import CYCLE, listed_provider
from workflows.states import State
from workflows.timesource import frozen


class Inbox:
    """An SMTP server's mailbox: what it received."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope)
        return "250 OK"

    def subjects(self) -> list[str]:
        """Each message's subject, decoded."""
        return [
            str(make_header(decode_header(message_from_bytes(e.content)["Subject"])))
            for e in self.received
        ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server on a free port, and REGISTRY_SMTP_URL pointing at it."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("REGISTRY_SMTP_URL", f"smtp://127.0.0.1:{port}?from=noreply@example.org")
    get_settings.cache_clear()
    try:
        yield inbox
    finally:
        controller.stop()
        monkeypatch.delenv("REGISTRY_SMTP_URL")
        get_settings.cache_clear()


async def _listed_with_email() -> tuple[int, date]:
    listing_id = await listing_in(State.listed)
    await Organisation.update({Organisation.contact_email: "feiyue@example.org"}).where(
        Organisation.id == CAST.organisations["feiyue"]
    )
    return listing_id, (await listing_row(listing_id))["valid_until"]


def test_the_nearest_lead_not_passed_is_the_one_given() -> None:
    assert lead_for(120, (90, 30, 7)) is None
    assert lead_for(90, (90, 30, 7)) == 90
    assert lead_for(45, (90, 30, 7)) == 90
    assert lead_for(30, (90, 30, 7)) == 30
    assert lead_for(5, (90, 30, 7)) == 7  # a registry down for weeks sends one, not three
    assert lead_for(0, (90, 30, 7)) == 7
    assert lead_for(-1, (90, 30, 7)) is None


async def test_validity_reminders_at_90_30_and_7_days_each_once(db: object, smtp: Inbox) -> None:
    listing_id, valid_until = await _listed_with_email()
    given: list[str] = []
    for days in (100, 90, 89, 60, 30, 29, 7, 3):
        day = valid_until - timedelta(days=days)
        with frozen(NOW):
            found = await remind(day, NOW)
        given += [f"{days}:valid_until"] * found["valid_until"]
    assert given == ["90:valid_until", "30:valid_until", "7:valid_until"]
    to_provider = [e for e in smtp.received if e.rcpt_tos == ["feiyue@example.org"]]
    assert len(to_provider) == 3
    assert (
        smtp.subjects()[0]
        == f"入库有效期将于{valid_until.year}年{valid_until.month}月{valid_until.day}日届满"
    )
    # In the provider's inbox while the day is ahead.
    items = await inbox_for(CAST.organisations["feiyue"], valid_until - timedelta(days=3))
    reminders = [i for i in items if i.kind == "reminder" and i.action == "valid_until"]
    assert len(reminders) == 3 and all(i.listing_id == listing_id for i in reminders)
    assert "续期申请" in reminders[0].detail


async def test_two_clocks_at_once_and_a_restart_give_each_reminder_once(
    db: Engine, smtp: Inbox
) -> None:
    _, valid_until = await _listed_with_email()
    day = valid_until - timedelta(days=30)
    results = await asyncio.gather(*(remind(day, NOW) for _ in range(3)))
    assert sum(r["valid_until"] for r in results) == 1
    # Another process (a restarted worker, or cron's `registry tick`) gives nothing again.
    done = await registry(db, "tick", "--now", f"{day.isoformat()}T09:00:00")
    assert done.code == 0, done.err
    assert await Reminder.count().where(Reminder.kind == "valid_until") == 1
    assert len(smtp.received) == 1, [
        (e.rcpt_tos, s) for e, s in zip(smtp.received, smtp.subjects(), strict=True)
    ]


async def test_supplement_rectification_and_self_report_reminders(db: object) -> None:
    supplement = await listing_in(State.needs_supplement)
    due = (await listing_row(supplement))["supplement_due"]
    assert (await remind(due - timedelta(days=3), NOW))["supplement_due"] == 1
    assert (await remind(due - timedelta(days=1), NOW))["supplement_due"] == 1
    assert (await remind(due + timedelta(days=1), NOW))["supplement_due"] == 0  # past the day
    rectifying = await listing_in(State.under_rectification, organisation="other")
    fix_by = (await listing_row(rectifying))["rectification_due"]
    assert (await remind(fix_by - timedelta(days=7), NOW))["rectification_due"] == 1
    # A self-report still missing a week before it is due; none once it is in.
    first, second = await listed_provider("自查甲"), await listed_provider("自查乙")
    cycle = await EvaluationCycle.insert(
        EvaluationCycle(
            district=CAST.districts[HEPING],
            rubric={},
            **{
                **CYCLE,
                **{
                    k: date.fromisoformat(CYCLE[k])
                    for k in ("starts_on", "ends_on", "self_report_due")
                },
            },
        )
    ).returning(EvaluationCycle.id)
    await SelfReport.insert(
        SelfReport(
            key=f"{cycle[0]['id']}:{second}", cycle=cycle[0]["id"], listing=second, complete=True
        )
    )
    report_due = date.fromisoformat(CYCLE["self_report_due"])
    await remind(report_due - timedelta(days=7), NOW)
    told = await Reminder.select(Reminder.listing).where(Reminder.kind == "self_report")
    assert {r["listing"] for r in told} >= {first} and second not in {r["listing"] for r in told}


async def test_reviewers_get_one_digest_a_day(db: object, smtp: Inbox) -> None:
    notice = await listing_in(State.in_public_notice)
    notice_end = (await listing_row(notice))["notice_end"]
    await BaseUser.update({BaseUser.email: "reviewer@example.org"}).where(
        BaseUser.id == CAST.users["reviewer"]
    )
    await BaseUser.update({BaseUser.email: ""}).where(BaseUser.id == CAST.users["approver"])
    day = notice_end - timedelta(days=2)
    assert (await remind(day, NOW))["digest"] >= 2  # the district's reviewers and approver
    assert (await remind(day, NOW))["digest"] == 0
    digest = (
        await Reminder.select()
        .where((Reminder.kind == "digest") & (Reminder.user_id == CAST.users["reviewer"]))
        .first()
    )
    assert digest is not None and "公示期" in digest["body"]
    assert ["reviewer@example.org"] in [e.rcpt_tos for e in smtp.received]
    # Staff without an address are noted, never retried.
    unmailed = (
        await Reminder.select(Reminder.email_error)
        .where((Reminder.kind == "digest") & (Reminder.user_id == CAST.users["approver"]))
        .first()
    )
    assert unmailed == {"email_error": "未登记邮箱"}
    assert (await remind(day + timedelta(days=1), NOW))["digest"] >= 1  # the next day's
