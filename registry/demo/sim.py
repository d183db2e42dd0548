"""The actions of a planned listing, each mirroring its transition's effects in workflows/."""

from __future__ import annotations

from registry.demo import texts
from registry.demo.model import Step
from registry.demo.timeline import PlanError, Timeline
from workflows.states import ExitReason
from workflows.workdays import add_years


class Sim(Timeline):
    """Walks one listing forward in time, one planned transition per method."""

    # --- the provider --------------------------------------------------------------------------

    def create(self) -> None:
        """The draft is saved (inserted, not a transition)."""
        at = self._provider_moment(0, 0.5)
        self.steps.append(Step(at, self.listing, 0, "create", "provider"))
        self.t = at

    def submit(self, lo: float = 0.2, hi: float = 12) -> None:
        """The provider sends the form."""
        self._record(self._provider_moment(lo, hi), "submit", "provider")

    def resubmit(self) -> None:
        """The provider answers a supplement request in time."""
        self._record(self._provider_moment(1, 8), "resubmit", "provider", "已按要求补正，请审核。")
        self.dates["supplement_due"] = None

    def withdraw(self, lo: float = 2, hi: float = 20) -> None:
        """The provider withdraws before a decision."""
        reason = self.rng.choice(texts.PROVIDER_WITHDRAWALS)
        self._record(self._provider_moment(lo, hi), "withdraw", "provider", reason)

    def appeal(self) -> None:
        """The provider appeals a rejection within the window; another reviewer takes over."""
        reason = self.rng.choice(texts.APPEALS)
        today = self._record(self._provider_moment(1, 8), "appeal", "provider", reason)
        due = self.dates["appeal_due"]
        if due is None or today > due:
            raise PlanError(f"listing {self.listing}: appeal after its window")
        self.appealed = True
        self.dates["appeal_due"] = None
        self.reviewer = self.other_reviewer

    def exit_voluntary(self, lo: float = 30, hi: float = 300) -> None:
        """The provider leaves the whitelist."""
        reason = self.rng.choice(texts.VOLUNTARY_EXITS)
        today = self._record(self._provider_moment(lo, hi), "exit_voluntary", "provider", reason)
        self._exit(today, ExitReason.voluntary)

    # --- the reviewer and the approver ---------------------------------------------------------

    def accept(self) -> None:
        """Formal check passed."""
        at = self._office_moment(0.5, 5)
        self._record(
            at,
            "accept",
            self.reviewer,
            "材料齐全，转入资格审查。",
            "您的申请已通过形式审查，进入资格审查。",
        )

    def request_supplement(self) -> None:
        """Back to the provider with what is missing and a deadline."""
        at = self._office_moment(1, 8)
        due = self.calendar.add_working_days(self.day_of(at), self._days("supplement_working_days"))
        reason, message = texts.supplement(self.rng, due)
        self._record(at, "request_supplement", self.reviewer, reason, message)
        self.dates["supplement_due"] = due

    def recommend(self) -> None:
        """The reviewer recommends listing."""
        at = self._office_moment(2, 15)
        reason = self.rng.choice(
            (
                "师资、场地、安全方案符合准入条件，建议入库。",
                "材料真实完整，课程属非学科类，建议入库。",
            )
        )
        self._record(at, "recommend", self.reviewer, reason)

    def send_back(self) -> None:
        """The approver sends the recommendation back for another look."""
        at = self._office_moment(1, 4)
        reason = self.rng.choice(
            ("请核实主教练资格证书有效期后再报。", "保险保额与拟服务学生人数不匹配，请复核。")
        )
        self._record(at, "send_back", "approver", reason)

    def approve(self) -> None:
        """The approver agrees; the public notice opens."""
        at = self._office_moment(0.5, 5)
        today = self.day_of(at)
        start = self.calendar.add_working_days(today, 1)
        end = self.calendar.add_working_days(today, self._days("notice_working_days"))
        message = f"您的申请已审批通过，将于{texts.day(start)}至{texts.day(end)}进行公示。"
        self._record(at, "approve", "approver", "同意推荐意见，进入公示。", message)
        self.dates["notice_end"] = end

    def reject(self) -> None:
        """Not admitted (an appeal's decision when already appealed)."""
        at = self._office_moment(3, 15)
        due = None
        if not self.appealed:
            due = self.calendar.add_working_days(self.day_of(at), self._days("appeal_working_days"))
        reason, message = texts.rejection(self.rng, due)
        self._record(at, "reject", self.reviewer, reason, message)
        self.dates["appeal_due"] = due

    def uphold_objection(self) -> None:
        """An objection lodged during the notice is upheld."""
        at = self._office_moment(1, 3)
        due = None
        if not self.appealed:
            due = self.calendar.add_working_days(self.day_of(at), self._days("appeal_working_days"))
        reason, message = texts.objection(self.rng, due)
        self._record(at, "uphold_objection", self.reviewer, reason, message)
        self.dates["appeal_due"] = due

    def put_under_rectification(self, lo: float, hi: float) -> None:
        """Still listed, flagged, with a deadline to fix what was found."""
        at = self._office_moment(lo, hi)
        due = self.calendar.add_working_days(
            self.day_of(at), self._days("rectification_working_days")
        )
        reason, message = texts.rectification(self.rng, due)
        self._record(at, "put_under_rectification", self.reviewer, reason, message)
        self.dates["rectification_due"] = due

    def close_rectification(self) -> None:
        """Rectification accepted."""
        at = self._office_moment(5, 18)
        self._record(
            at, "close_rectification", self.reviewer,
            "整改报告及现场复查合格，解除整改。", "整改已通过复查，恢复正常服务。",
        )  # fmt: skip
        self.dates["rectification_due"] = None

    def suspend(self, lo: float, hi: float) -> None:
        """Off the public whitelist while an incident is investigated."""
        at = self._office_moment(lo, hi)
        reason, message = texts.suspension(self.rng)
        self._record(at, "suspend", self.reviewer, reason, message)

    def reinstate(self) -> None:
        """The investigation cleared the provider."""
        at = self._office_moment(7, 30)
        self._record(
            at, "reinstate", self.reviewer,
            "调查结束，责任已落实，整改到位，恢复服务。", "经调查核实，恢复您的白名单服务资格。",
        )  # fmt: skip
        self.dates["rectification_due"] = None

    def renew(self) -> None:
        """Renewed shortly before the listing would expire."""
        valid_until = self.dates["valid_until"]
        assert valid_until is not None
        gap = (valid_until - self.day_of(self.t)).days - self.rng.randint(12, 45)
        at = self._office_moment(gap, gap)
        today = self.day_of(at)
        base = valid_until if valid_until > today else today
        new_end = add_years(base, self._days("listing_valid_years"))
        reason = f"{texts.term(today)}评估合格，准予续期。"
        self._record(
            at, "renew", self.reviewer, reason, f"您的入库资格已续期至{texts.day(new_end)}。"
        )
        self.dates["valid_until"] = new_end

    def revoke(self, reason: ExitReason, lo: float, hi: float) -> None:
        """A forced exit with a coded reason and the district's ban."""
        at = self._office_moment(lo, hi)
        years = int(self.policy["ban_years"].get(reason.value, 0))
        ban = add_years(self.day_of(at), years) if years else None
        note, message = texts.revocation(reason, ban)
        today = self._record(
            at, "revoke", self.reviewer, note, message, {"exit_reason": reason.value}
        )
        self._exit(today, reason)

    def fail_evaluation(self, reason: ExitReason, lo: float, hi: float) -> None:
        """Exit after a failed evaluation or low parent satisfaction."""
        at = self._office_moment(lo, hi)
        years = int(self.policy["ban_years"].get(reason.value, 0))
        ban = add_years(self.day_of(at), years) if years else None
        note, message = texts.evaluation_exit(self.rng, reason, self.day_of(at), ban)
        params = {"exit_reason": reason.value}
        today = self._record(at, "fail_evaluation", self.reviewer, note, message, params)
        self._exit(today, reason)

    # --- the clock -----------------------------------------------------------------------------

    def end_notice(self) -> None:
        """The notice period ended without an upheld objection: listed."""
        at = self._clock_moment(self.dates["notice_end"])
        valid_until = add_years(self.day_of(at), self._days("listing_valid_years"))
        message = f"公示期满，您已列入本区白名单，有效期至{texts.day(valid_until)}。"
        self._record(at, "end_notice", "clock", "公示期满，无成立的异议。", message)
        self.dates["valid_until"] = valid_until

    def lapse_supplement(self) -> None:
        """The supplement deadline passed: withdrawn."""
        at = self._clock_moment(self.dates["supplement_due"])
        self._record(
            at,
            "lapse_supplement",
            "clock",
            "补正期限届满，未提交补正材料。",
            "补正期限已过，申请视为撤回。",
        )
        self.dates["supplement_due"] = None

    def lapse_rectification(self) -> None:
        """The rectification deadline passed: exited."""
        at = self._clock_moment(self.dates["rectification_due"])
        years = int(self.policy["ban_years"].get(ExitReason.evaluation_failed.value, 0))
        ban = add_years(self.day_of(at), years) if years else None
        message = f"整改期限已过未完成整改，您已退出本区白名单。{texts.ban_text(ban)}"
        today = self._record(
            at, "lapse_rectification", "clock", "整改期限届满，未完成整改。", message
        )
        self._exit(today, ExitReason.evaluation_failed)

    def expire(self) -> None:
        """The listing's validity ended without renewal."""
        at = self._clock_moment(self.dates["valid_until"])
        self._record(
            at, "expire", "clock",
            "入库有效期届满，未办理续期。", "入库有效期已届满，如需继续提供服务请重新申请。",
        )  # fmt: skip
        self._exit(self.day_of(at), ExitReason.expired)
