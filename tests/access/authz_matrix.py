"""Who may call what: one row per (method, path) of the app, with the answer each actor gets.

tests/access/test_authz_matrix.py enumerates the app's routes at test time: a route without a
row here fails it (the message prints the row to add), and so does a row whose route is gone.

Each row names the records its path points at ("@listing.A": listing A of the world drawn in
tests/access/world.py; the extras are listed in test_authz_matrix.py), the body it sends, and
the answer of every actor:

    OK      2xx, or a 3xx that is not the login redirect (a page's post-redirect-get)
    LOGIN   303 to /login?next=… (a page asked for without a session)
    401, 403, 404, 409, 422, …  exactly that status

`route(...)` writes a row compactly: `ok` lists the actors answered OK ("*": everyone), every
other signed-in actor gets `refused`, the anonymous visitor gets 401 on the API and LOGIN on a
page unless `anonymous` says otherwise, and `also` overrides single actors.

"@me.username" / "@me.password" in a body stand for the calling actor's own credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from registry.evaluation.rubric_form import form_values
from schemas import city_default_rubric
from tests.evaluation.helpers import FULL_MARKS, SELF_REPORT

ACTORS = (
    "anonymous",
    "provider",  # 飞跃 (listings A 和平 listed, D 滨海 draft, E 和平 exited)
    "provider_other",  # 墨香 (B 和平 in notice, C 滨海 listed)
    "reviewer",  # 和平区
    "approver",  # 和平区
    "reviewer_binhai",  # 滨海新区
    "school",  # 和平区岳阳道小学 (engages A)
    "school_binhai",  # 滨海新区塘沽第一中学 (engages C)
    "city",  # 市教委
)
OK = "ok"
LOGIN = "login"
Expect = int | str
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass(frozen=True)
class Row:
    """One route, what to send, and what each actor gets back."""

    method: str
    path: str
    expect: Mapping[str, Expect]
    params: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    form: Mapping[str, Any] | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    # Tables a refused write still writes by design (a failed login is counted and audited).
    refused_writes: frozenset[str] = frozenset()
    # Actors whose answer is a known bug (the expected answer stands; the reason says whose
    # file it is): the check is expected to fail there, and fails when it starts passing.
    known: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """(method, path) as the app names the route."""
        return self.method, self.path


def route(
    method: str,
    path: str,
    *,
    ok: str = "",
    refused: Expect = 404,
    anonymous: Expect | None = None,
    also: Mapping[str, Expect] | None = None,
    refused_writes: str = "",
    known: Mapping[str, str] | None = None,
    **request: Any,
) -> Row:
    """A row: `ok` actors get OK, other signed-in actors `refused`, see the module docstring."""
    allowed = set(ACTORS) if ok == "*" else set(ok.split())
    unknown = (allowed | set(also or {}) | set(known or {})) - set(ACTORS)
    assert not unknown, f"{method} {path}: unknown actors {unknown}"
    if anonymous is None:
        anonymous = 401 if path.startswith(("/api/", "/admin/api/")) else LOGIN
    expect: dict[str, Expect] = {
        actor: OK if actor in allowed else (anonymous if actor == "anonymous" else refused)
        for actor in ACTORS
    }
    expect.update(also or {})
    return Row(
        method,
        path,
        expect,
        refused_writes=frozenset(refused_writes.split()),
        known=dict(known or {}),
        **request,
    )


# Who is who, for `ok`.
STAFF = "reviewer approver"  # 和平区's bureau
HEPING_STAFF = f"{STAFF} city"
ALL_STAFF = f"{HEPING_STAFF} reviewer_binhai"
PROVIDERS = "provider provider_other"
SCHOOLS = "school school_binhai"
EVERYONE = "*"
SIGNED_IN = " ".join(a for a in ACTORS if a != "anonymous")
# Those who see listing A but hold no role that may suspend it: 403, not 404.
SEES_A_BUT_MAY_NOT = dict.fromkeys(("provider", "approver", "school", "city"), 403)

SUSPEND_A = {"action": "suspend", "version": "@version.A", "reason": "发生安全事故正在调查"}
ENGAGEMENT = {
    "listing": "@listing.A",
    "courses": ["少儿篮球"],
    "term": "2026-2027学年第一学期",
    "grade_band": "upper_primary",
    "students": 90,
    "weekly_schedule": [{"weekday": 2, "start": "16:30", "end": "18:30"}],
    "fee_per_student_month": 150,
}
ENGAGEMENT_FORM = {
    "listing": "@listing.A",
    "courses": "少儿篮球",
    "term": "2026-2027学年第一学期",
    "grade_band": "upper_primary",
    "students": "90",
    "slot_weekday": "2",
    "slot_start": "16:30",
    "slot_end": "18:30",
    "fee_per_student_month": "150",
}
SIGNUP = {
    "name": "天津市河西区启航少儿围棋培训中心",
    "uscc": "91120101MA05T9WX3N",
    "contact_name": "陈静",
    "contact_phone": "13920001111",
    "username": "qihang",
    "password": "Weiqi-2026x",
}
CYCLE = {
    "name": "2027年春季学期",
    "term": "2026-2027学年第二学期",
    "starts_on": "2027-02-20",
    "ends_on": "2027-07-01",
    "self_report_due": "2027-06-15",
}
COMPLAINT = "上课经常迟到，家长多次反映没有改进，希望区教育局督促整改。"
OBJECTION = {
    "name": "李明",
    "contact": "13820005678",
    "facts": "该机构的场地没有消防验收合格证明，今年九月曾被街道要求停业整改，有通知为证。",
}
INCIDENT = {
    "listing_id": "@listing.A",
    "severity": "minor",
    "occurred_on": "2026-11-12",
    "description": "训练中一名学生摔倒擦伤膝盖，教练已处理并通知家长。",
}
UPLOAD = {"file": ("营业执照.pdf", PDF, "application/pdf")}
INCIDENT_FORM = {k: v for k, v in INCIDENT.items() if k != "listing_id"}
FEEDBACK = {"scores": FULL_MARKS}
SELF_REPORT_FORM = {k: ("true" if v is True else str(v)) for k, v in SELF_REPORT.items()}
LOGIN_FORM = {"username": "@me.username", "password": "@me.password"}
NEW_PASSWORD = "Lanqiu-2027-new"
PASSWORD_FORM = {
    "current_password": "@me.password",
    "new_password": NEW_PASSWORD,
    "new_password_again": NEW_PASSWORD,
}

# fmt: off
ROUTES: list[Row] = [
    # --- sign-in, sign-up, accounts ------------------------------------------------------------
    route("GET", "/login", ok=EVERYONE),
    route("POST", "/login", ok=SIGNED_IN, anonymous=401, form=LOGIN_FORM,
          refused_writes="login_failure audit_event"),
    route("POST", "/logout", ok=EVERYONE),
    route("GET", "/account/password", ok=SIGNED_IN),
    route("POST", "/account/password", ok=SIGNED_IN, form=PASSWORD_FORM),
    route("POST", "/api/v1/auth/login", ok=SIGNED_IN, json=LOGIN_FORM,
          refused_writes="login_failure audit_event"),
    route("POST", "/api/v1/auth/logout", ok=EVERYONE),
    route("POST", "/api/v1/auth/password", ok=SIGNED_IN,
          json={"current_password": "@me.password", "new_password": NEW_PASSWORD}),
    route("GET", "/api/v1/auth/me", ok=SIGNED_IN),
    route("GET", "/signup", ok=EVERYONE),
    route("POST", "/signup", ok=EVERYONE, form={**SIGNUP, "password2": SIGNUP["password"]}),
    route("POST", "/api/v1/organisations", ok=EVERYONE, json=SIGNUP),
    route("POST", "/api/v1/organisations/{organisation_id:int}/users", ok="provider",
          params={"organisation_id": "@organisation.feiyue"},
          json={"username": "feiyue_coach", "password": NEW_PASSWORD}),
    # --- a provider's applications (D: 飞跃's draft in 滨海; A: 飞跃's listing in 和平) -----------
    route("GET", "/api/v1/listings", ok=SIGNED_IN),
    route("POST", "/api/v1/listings", ok=PROVIDERS, refused=403, json={"district": "120102"}),
    route("GET", "/api/v1/listings/{listing_id:int}", ok=f"provider {HEPING_STAFF} school",
          params={"listing_id": "@listing.A"}),
    route("GET", "/api/v1/listings/{listing_id:int}/actions",
          ok=f"provider {HEPING_STAFF} school", params={"listing_id": "@listing.A"}),
    route("POST", "/api/v1/listings/{listing_id:int}/transitions", ok="reviewer",
          also=SEES_A_BUT_MAY_NOT, params={"listing_id": "@listing.A"}, json=SUSPEND_A),
    route("GET", "/api/v1/listings/{listing_id:int}/form", ok="provider", refused=403,
          also={"provider_other": 404}, params={"listing_id": "@listing.D"}),
    route("PUT", "/api/v1/listings/{listing_id:int}/form", ok="provider", refused=403,
          also={"provider_other": 404}, params={"listing_id": "@listing.D"},
          json={"form": "@form.D", "version": "@version.D"}),
    route("GET", "/api/v1/listings/{listing_id:int}/supplement", ok=f"provider {HEPING_STAFF}",
          params={"listing_id": "@listing.A"}),
    # D is a draft, not awaiting a supplement: its provider is let in, then told so (422).
    route("PUT", "/api/v1/listings/{listing_id:int}/supplement", refused=403,
          also={"provider": 422, "provider_other": 404}, params={"listing_id": "@listing.D"},
          json={"answers": [{"number": 1, "answer": "已补充"}]}),
    route("GET", "/api/v1/inbox", ok=PROVIDERS, refused=403),
    route("POST", "/api/v1/listings/{listing_id:int}/personal-data/reveal", ok=HEPING_STAFF,
          also={"city": 403, "provider": 403, "school": 403},
          params={"listing_id": "@listing.A"},
          json={"field": "staff[0].resident_id", "reason": "核查从业人员身份信息"}),
    route("GET", "/api/v1/listings/{listing_id:int}/documents", ok=f"provider {HEPING_STAFF}",
          params={"listing_id": "@listing.A"}),
    route("POST", "/api/v1/listings/{listing_id:int}/documents", ok="provider", refused=403,
          also={"provider_other": 404}, params={"listing_id": "@listing.D"},
          form={"kind": "licence"}, files=UPLOAD),
    route("GET", "/api/v1/documents/{document_id:int}", ok="provider", anonymous=404,
          params={"document_id": "@document.D"}),
    route("DELETE", "/api/v1/documents/{document_id:int}", ok="provider", refused=403,
          also={"provider_other": 404}, params={"document_id": "@document.D"}),
    route("GET", "/provider", ok=PROVIDERS, refused=403),
    route("POST", "/provider/applications", ok=PROVIDERS, refused=403,
          form={"district": "120102"}),
    route("GET", "/provider/applications/{listing_id:int}", ok="provider", refused=403,
          also={"provider_other": 404}, params={"listing_id": "@listing.D"}),
    route("POST", "/provider/applications/{listing_id:int}/form", ok="provider", refused=403,
          also={"provider_other": 404}, params={"listing_id": "@listing.D"},
          form={"version": "@version.D", "_op": "save"}),
    route("POST", "/provider/applications/{listing_id:int}/documents", ok="provider",
          refused=403, also={"provider_other": 404}, params={"listing_id": "@listing.D"},
          form={"kind": "licence"}, files=UPLOAD),
    route("POST", "/provider/applications/{listing_id:int}/documents/{document_id:int}/delete",
          ok="provider", refused=403, also={"provider_other": 404},
          params={"listing_id": "@listing.D", "document_id": "@document.D"}),
    route("POST", "/provider/applications/{listing_id:int}/actions", ok="provider",
          refused=403, also={"provider_other": 404}, params={"listing_id": "@listing.A"},
          form={"_action": "exit_voluntary", "confirm": "yes", "version": "@version.A"}),
    # --- the bureau's review (R: a listing in review in 和平区) ----------------------------------
    route("GET", "/api/v1/review/queues", ok=ALL_STAFF),
    route("GET", "/api/v1/review/listings", ok=ALL_STAFF),
    route("PUT", "/api/v1/listings/{listing_id:int}/assignee", ok=STAFF, also={"city": 403},
          params={"listing_id": "@listing.R"}, json={"reviewer_id": "@user.reviewer"}),
    route("GET", "/api/v1/listings/{listing_id:int}/courses", ok=HEPING_STAFF,
          params={"listing_id": "@listing.R"}),
    # An approver adjusts courses while the listing waits for approval, not in review.
    route("PUT", "/api/v1/listings/{listing_id:int}/courses/{index:int}", ok="reviewer",
          also={"approver": 422, "city": 403},
          params={"listing_id": "@listing.R", "index": 0}, json={"approved": True}),
    route("GET", "/api/v1/listings/{listing_id:int}/expert-scores", ok=HEPING_STAFF,
          params={"listing_id": "@listing.R"}),
    # 和平区's policy asks for no expert review: the reviewer is let in, then told so (422).
    route("POST", "/api/v1/listings/{listing_id:int}/expert-scores",
          also={"reviewer": 422, "approver": 403, "city": 403},
          params={"listing_id": "@listing.R"}, json={"scores": {}, "comment": ""}),
    route("GET", "/api/v1/listings/{listing_id:int}/diff", ok=HEPING_STAFF,
          params={"listing_id": "@listing.R"}),
    route("GET", "/bureau", ok=ALL_STAFF),
    route("GET", "/bureau/dashboard", ok=ALL_STAFF, refused=404),
    route("GET", "/city", ok="city", refused=404),
    route("GET", "/city/report", ok="city", refused=404,
          query={"from": "2026-01-01", "to": "2026-03-31", "format": "xlsx"}),
    route("GET", "/bureau/listings/{listing_id:int}", ok=HEPING_STAFF,
          params={"listing_id": "@listing.R"}),
    route("POST", "/bureau/listings/{listing_id:int}/actions/{action:str}", ok="reviewer",
          also={"approver": 403, "city": 403},
          params={"listing_id": "@listing.A", "action": "suspend"},
          form={"version": "@version.A", "reason": "发生安全事故正在调查"}),
    # The bureau's pages are no place for a provider or a school: 404 there, as on every
    # /bureau page; the city looks on and may not reveal (403).
    route("POST", "/bureau/listings/{listing_id:int}/personal-data/reveal", ok=HEPING_STAFF,
          also={"city": 403},
          params={"listing_id": "@listing.A"},
          form={"field": "staff[0].resident_id", "reason": "核查从业人员身份信息"}),
    route("POST", "/bureau/listings/{listing_id:int}/assignee", ok=STAFF, also={"city": 403},
          params={"listing_id": "@listing.R"}, form={"reviewer_id": "@user.reviewer"}),
    route("POST", "/bureau/listings/{listing_id:int}/courses/{index:int}", ok="reviewer",
          also={"approver": 422, "city": 403},
          params={"listing_id": "@listing.R", "index": 0}, form={"approved": "1"}),
    route("POST", "/bureau/listings/{listing_id:int}/expert-scores",
          also={"reviewer": 422, "approver": 403, "city": 403},
          params={"listing_id": "@listing.R"}, form={"comment": ""}),
    route("POST", "/bureau/objections/{objection_id:int}/{decision:str}", ok="reviewer",
          params={"objection_id": "@objection.B", "decision": "dismiss"},
          form={"text": "经核查，该机构已取得消防验收合格证明，异议不成立。"},
          also={"approver": 403, "city": 404}),
    route("GET", "/bureau/import", ok=f"{STAFF} reviewer_binhai"),
    # The file names no provider: the staff are let in and shown what is wrong with it.
    route("POST", "/bureau/import", also=dict.fromkeys((*STAFF.split(), "reviewer_binhai"), 422),
          form={"district": "120101"},
          files={"file": ("名单.csv", "机构名称\n".encode(), "text/csv")}),
    # --- notices, objections, certificates (B: 墨香 in its notice period in 和平区) --------------
    route("GET", "/api/v1/notices", ok=EVERYONE),
    route("GET", "/api/v1/notices.pdf", ok=EVERYONE, query={"district": "120101"}),
    route("POST", "/api/v1/notices/{listing_id:int}/objections", ok=EVERYONE,
          params={"listing_id": "@listing.B"}, json=OBJECTION),
    route("GET", "/api/v1/listings/{listing_id:int}/objections", ok=STAFF,
          params={"listing_id": "@listing.B"}),
    route("POST", "/api/v1/objections/{objection_id:int}/uphold", ok="reviewer",
          also={"approver": 403}, params={"objection_id": "@objection.B"},
          json={"message": "异议属实"}),
    route("POST", "/api/v1/objections/{objection_id:int}/dismiss", ok="reviewer",
          also={"approver": 403}, params={"objection_id": "@objection.B"},
          json={"reply": "经核查，该机构已取得消防验收合格证明，异议不成立。"}),
    # The certificate is its provider's and its district's (the city has no use for the PDF).
    route("GET", "/api/v1/listings/{listing_id:int}/certificate", ok=f"provider {STAFF}",
          anonymous=404, params={"listing_id": "@listing.A"}),
    route("GET", "/notices", ok=EVERYONE),
    route("POST", "/notices/{listing_id:int}/objections", ok=EVERYONE,
          params={"listing_id": "@listing.B"}, form=OBJECTION),
    route("GET", "/verify", ok=EVERYONE),
    route("GET", "/verify/{code:str}", ok=EVERYONE, params={"code": "@verify.A"}),
    # --- the public whitelist ------------------------------------------------------------------
    route("GET", "/", ok=EVERYONE),
    route("GET", "/whitelist/export", ok=EVERYONE),
    route("GET", "/api/v1/whitelist", ok=EVERYONE),
    route("GET", "/api/v1/whitelist/as-of", ok=EVERYONE, query={"date": "2026-11-01"}),
    route("GET", "/api/v1/whitelist/changes", ok=EVERYONE,
          query={"since": "2026-01-01T00:00:00+08:00"}),
    route("GET", "/api/v1/whitelist/export", ok=EVERYONE, query={"district": "120101"}),
    route("GET", "/providers/{organisation_id:int}", ok=EVERYONE,
          params={"organisation_id": "@organisation.feiyue"}),
    # --- schools and engagements (A: 和平 school's engagement of A; A2: one with no feedback) ----
    route("GET", "/api/v1/engagements", ok=SIGNED_IN),
    route("POST", "/api/v1/engagements", ok="school", refused=403, json=ENGAGEMENT,
          also={"school_binhai": 422}),  # 滨海's school may not engage a 和平区 provider
    route("GET", "/api/v1/engagements/{engagement_id:int}", ok="school", refused=403,
          also={"school_binhai": 404}, params={"engagement_id": "@engagement.A"}),
    route("PUT", "/api/v1/engagements/{engagement_id:int}", ok="school", refused=403,
          also={"school_binhai": 404}, params={"engagement_id": "@engagement.A"},
          json=ENGAGEMENT),
    route("DELETE", "/api/v1/engagements/{engagement_id:int}", ok="school", refused=403,
          also={"school_binhai": 404}, params={"engagement_id": "@engagement.A2"}),
    route("GET", "/school", ok=SCHOOLS, refused=403),
    route("GET", "/school/engagements/new", ok=SCHOOLS, refused=403,
          query={"listing": "@listing.A"}),
    route("POST", "/school/engagements", ok="school", refused=403, form=ENGAGEMENT_FORM,
          also={"school_binhai": 422}),
    route("GET", "/school/engagements/{engagement_id:int}/edit", ok="school", refused=403,
          also={"school_binhai": 404}, params={"engagement_id": "@engagement.A"}),
    route("POST", "/school/engagements/{engagement_id:int}/edit", ok="school", refused=403,
          also={"school_binhai": 404}, params={"engagement_id": "@engagement.A"},
          form=ENGAGEMENT_FORM),
    route("POST", "/school/engagements/{engagement_id:int}/delete", ok="school", refused=403,
          also={"school_binhai": 404}, params={"engagement_id": "@engagement.A2"}),
    # --- complaints and incidents --------------------------------------------------------------
    route("POST", "/api/v1/complaints", ok=EVERYONE,
          json={"listing_id": "@listing.A", "content": COMPLAINT, "contact": "13811113333"}),
    route("GET", "/api/v1/complaints", ok=ALL_STAFF, refused=403),
    route("GET", "/api/v1/complaints/{complaint_id:int}", ok=HEPING_STAFF,
          params={"complaint_id": "@complaint.A"}),
    route("POST", "/api/v1/complaints/{complaint_id:int}/investigate", ok="reviewer",
          also={"approver": 403, "city": 403}, params={"complaint_id": "@complaint.A"}),
    route("POST", "/api/v1/complaints/{complaint_id:int}/decision", ok="reviewer",
          also={"approver": 403, "city": 403}, params={"complaint_id": "@complaint.A"},
          json={"outcome": "dismissed", "reply": "经核实，该机构已整改，投诉不成立。"}),
    route("GET", "/complaints/new", ok=EVERYONE, query={"listing": "@listing.A"}),
    route("POST", "/complaints/new", ok=EVERYONE,
          form={"listing": "@listing.A", "content": COMPLAINT, "contact": "13811113333"}),
    route("GET", "/complaints/{complaint_id:int}/received", ok=EVERYONE,
          params={"complaint_id": "@complaint.A"}),
    route("GET", "/bureau/complaints", ok=ALL_STAFF, refused=403),
    route("GET", "/bureau/complaints/{complaint_id:int}", ok=HEPING_STAFF,
          params={"complaint_id": "@complaint.A"}),
    route("POST", "/bureau/complaints/{complaint_id:int}/investigate", ok="reviewer",
          also={"approver": 403, "city": 403}, params={"complaint_id": "@complaint.A"}),
    route("POST", "/bureau/complaints/{complaint_id:int}/decision", ok="reviewer",
          also={"approver": 403, "city": 403}, params={"complaint_id": "@complaint.A"},
          form={"outcome": "dismissed", "reply": "经核实，该机构已整改，投诉不成立。"}),
    # The sender's full contact: the district's reviewer only, with a reason (audited).
    route("POST", "/bureau/complaints/{complaint_id:int}/contact/reveal", ok="reviewer",
          also={"approver": 403, "city": 403}, params={"complaint_id": "@complaint.A"},
          form={"reason": "电话联系投诉人核实情况"}),
    route("POST", "/api/v1/incidents", ok="school reviewer", json=INCIDENT),
    route("GET", "/api/v1/incidents", ok=f"{SCHOOLS} {ALL_STAFF}", refused=403),
    route("GET", "/api/v1/incidents/{incident_id:int}", ok=f"school {HEPING_STAFF}",
          params={"incident_id": "@incident.A:school"}),
    route("POST", "/api/v1/incidents/{incident_id:int}/resolve", ok="reviewer",
          also={"approver": 403, "school": 403, "city": 403},
          params={"incident_id": "@incident.A:school"},
          json={"action": "close", "reason": "已妥善处理，家长无异议。"}),
    route("GET", "/school/incidents/new", ok="school", refused=403,
          also={"school_binhai": 404}, query={"engagement": "@engagement.A"}),
    route("POST", "/school/incidents/new", ok="school", refused=403,
          also={"school_binhai": 404}, form={**INCIDENT_FORM, "engagement": "@engagement.A"}),
    route("GET", "/school/incidents", ok=SCHOOLS, refused=403),
    # A school's own reports are listed here too (the page serves both).
    route("GET", "/bureau/incidents", ok=f"{ALL_STAFF} {SCHOOLS}", refused=403),
    route("GET", "/bureau/incidents/new", ok="reviewer", query={"listing": "@listing.A"}),
    # The page posts to the same service as the school's own form, which lets a school that
    # engages the provider report too (and shows it the report).
    route("POST", "/bureau/incidents/new", ok="reviewer school",
          form={**INCIDENT_FORM, "listing": "@listing.A"}),
    route("GET", "/bureau/incidents/{incident_id:int}", ok=f"{HEPING_STAFF} school",
          params={"incident_id": "@incident.A:school"}),
    route("POST", "/bureau/incidents/{incident_id:int}/resolve", ok="reviewer",
          also={"approver": 403, "school": 403, "city": 403},
          params={"incident_id": "@incident.A:school"},
          form={"action": "close", "reason": "已妥善处理，家长无异议。"}),
    # --- evaluation (heping: 和平's closed cycle with A's confirmed result; binhai: 滨海's, with
    # C's result computed; heping_open: 和平's open cycle, taking inputs) -----------------------
    route("GET", "/api/v1/rubric", ok=EVERYONE),
    route("PUT", "/api/v1/rubric", ok="city", refused=403, json="@rubric"),
    route("GET", "/api/v1/districts/{code:str}/rubric", ok=EVERYONE, params={"code": "120101"}),
    route("PUT", "/api/v1/districts/{code:str}/rubric", ok="approver city", refused=403,
          params={"code": "120101"}, json="@rubric"),
    route("DELETE", "/api/v1/districts/{code:str}/rubric", ok="approver city", refused=403,
          params={"code": "120101"}),
    route("POST", "/api/v1/districts/{code:str}/rubric/preview", ok=HEPING_STAFF,
          params={"code": "120101"}, json="@rubric"),
    route("POST", "/api/v1/districts/{code:str}/cycles", ok="reviewer_binhai city",
          refused=403, params={"code": "120116"}, json=CYCLE),
    route("GET", "/api/v1/districts/{code:str}/cycles", ok=HEPING_STAFF,
          params={"code": "120101"}),
    route("GET", "/api/v1/cycles/{cycle_id:int}", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping"}),
    route("POST", "/api/v1/cycles/{cycle_id:int}/close", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping_open"},
          json={"early_reason": "区教育局统一安排提前结束本学期评估"}),
    route("GET", "/api/v1/cycles/{cycle_id:int}/missing", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping_open"}),
    route("POST", "/api/v1/cycles/{cycle_id:int}/results/{listing_id:int}/grade",
          ok=STAFF, also={"city": 403},
          params={"cycle_id": "@cycle.heping_heard", "listing_id": "@listing.E"},
          json={"grade": "pass", "reason": "学校评价不足，结合日常巡查人工评定"}),
    route("GET", "/api/v1/cycles/{cycle_id:int}/results/{listing_id:int}/hearings",
          ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping_heard", "listing_id": "@listing.A"}),
    route("GET", "/api/v1/cycles/{cycle_id:int}/confirm-plan", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping"}),
    route("GET", "/api/v1/hearings", ok=SIGNED_IN),
    route("GET", "/api/v1/hearings/{hearing_id:int}", ok="provider",
          params={"hearing_id": "@hearing.A"}),
    route("POST", "/api/v1/hearings/{hearing_id:int}/answer", ok="provider",
          params={"hearing_id": "@hearing.A"},
          json={"answer": "检查当日主教练因病请假，已补充持证教练，附排课表。"}),
    route("GET", "/api/v1/cycles/{cycle_id:int}/results", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping"}),
    route("POST", "/api/v1/cycles/{cycle_id:int}/results/{listing_id:int}/confirm",
          ok="reviewer_binhai", also={"city": 403},
          params={"cycle_id": "@cycle.binhai", "listing_id": "@listing.C"}, json={}),
    route("POST", "/api/v1/cycles/{cycle_id:int}/confirm", ok="reviewer_binhai",
          also={"city": 403}, params={"cycle_id": "@cycle.binhai"},
          json={"listing_ids": ["@listing.C"]}),
    route("GET", "/api/v1/cycles/{cycle_id:int}/feedback", ok="school", refused=403,
          also={"school_binhai": 404}, params={"cycle_id": "@cycle.heping_open"}),
    route("PUT", "/api/v1/cycles/{cycle_id:int}/feedback/{engagement_id:int}", ok="school",
          refused=403, also={"school_binhai": 404},
          params={"cycle_id": "@cycle.heping_open", "engagement_id": "@engagement.A"},
          json=FEEDBACK),
    route("PUT", "/api/v1/cycles/{cycle_id:int}/inspections/{listing_id:int}", ok="reviewer",
          params={"cycle_id": "@cycle.heping_open", "listing_id": "@listing.A"},
          json={"score": 90, "inspected_on": "2026-11-10"}),
    route("GET", "/api/v1/cycles/{cycle_id:int}/self-report/{listing_id:int}", ok="provider",
          refused=403, also={"provider_other": 404},
          params={"cycle_id": "@cycle.heping_open", "listing_id": "@listing.A"}),
    route("PUT", "/api/v1/cycles/{cycle_id:int}/self-report/{listing_id:int}", ok="provider",
          refused=403, also={"provider_other": 404},
          params={"cycle_id": "@cycle.heping_open", "listing_id": "@listing.A"},
          json=SELF_REPORT),
    route("GET", "/api/v1/cycles/{cycle_id:int}/results/{listing_id:int}/report.pdf",
          ok=f"provider {HEPING_STAFF}",
          params={"cycle_id": "@cycle.heping", "listing_id": "@listing.A"}),
    route("GET", "/api/v1/cycles/{cycle_id:int}/summary.xlsx", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping"}),
    route("GET", "/bureau/evaluation", ok=ALL_STAFF),
    route("POST", "/bureau/evaluation", ok="reviewer_binhai city",
          form={"district": "120116", **CYCLE}),
    route("GET", "/bureau/evaluation/{cycle_id:int}", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping"}),
    route("POST", "/bureau/evaluation/{cycle_id:int}/inspections/{listing_id:int}",
          ok="reviewer",
          params={"cycle_id": "@cycle.heping_open", "listing_id": "@listing.A"},
          form={"score": "90", "inspected_on": "2026-11-10"}),
    route("GET", "/bureau/evaluation/{cycle_id:int}/close", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping_open"}),
    route("POST", "/bureau/evaluation/{cycle_id:int}/close", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping_open"},
          form={"confirm": "1", "early_reason": "区教育局统一安排提前结束本学期评估"}),
    route("GET", "/bureau/evaluation/{cycle_id:int}/results/{listing_id:int}", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping", "listing_id": "@listing.A"}),
    route("POST", "/bureau/evaluation/{cycle_id:int}/results/{listing_id:int}/confirm",
          ok="reviewer_binhai", also={"city": 403},
          params={"cycle_id": "@cycle.binhai", "listing_id": "@listing.C"}),
    route("POST", "/bureau/evaluation/{cycle_id:int}/results/{listing_id:int}/grade",
          ok=STAFF, also={"city": 403},
          params={"cycle_id": "@cycle.heping_heard", "listing_id": "@listing.E"},
          form={"grade": "pass", "reason": "学校评价不足，结合日常巡查人工评定"}),
    route("GET", "/bureau/evaluation/{cycle_id:int}/confirm", ok=HEPING_STAFF,
          params={"cycle_id": "@cycle.heping"}),
    route("POST", "/bureau/evaluation/{cycle_id:int}/confirm", ok="reviewer_binhai",
          also={"city": 403}, params={"cycle_id": "@cycle.binhai"},
          form={"confirm": "1", "plan": "@plan.binhai"}),
    route("GET", "/bureau/rubric", ok=ALL_STAFF),
    route("POST", "/bureau/rubric", ok="approver city", also={"reviewer": 403},
          form={"district": "120101", "action": "save", "body": "@rubric_text"}),
    route("POST", "/bureau/rubric/form", ok="approver city", also={"reviewer": 403},
          form={"district": "120101", "action": "save", **form_values(city_default_rubric())}),
    route("GET", "/bureau/rubric.json", ok=ALL_STAFF),
    route("GET", "/school/evaluation", ok=SCHOOLS, refused=403),
    route("GET", "/school/evaluation/{cycle_id:int}/engagements/{engagement_id:int}",
          ok="school", refused=403, also={"school_binhai": 404},
          params={"cycle_id": "@cycle.heping_open", "engagement_id": "@engagement.A"}),
    route("POST", "/school/evaluation/{cycle_id:int}/engagements/{engagement_id:int}",
          ok="school", refused=403, also={"school_binhai": 404},
          params={"cycle_id": "@cycle.heping_open", "engagement_id": "@engagement.A"},
          form={f"scores.{k}": str(v) for k, v in FEEDBACK["scores"].items()}),
    route("GET", "/provider/evaluation", ok=PROVIDERS, refused=403),
    route("POST", "/provider/evaluation/{cycle_id:int}/self-report/{listing_id:int}",
          ok="provider", refused=403, also={"provider_other": 404},
          params={"cycle_id": "@cycle.heping_open", "listing_id": "@listing.A"},
          form=SELF_REPORT_FORM),
    route("GET", "/provider/hearings", ok=PROVIDERS, refused=403),
    route("GET", "/provider/hearings/{hearing_id:int}", ok="provider",
          params={"hearing_id": "@hearing.A"}),
    route("POST", "/provider/hearings/{hearing_id:int}/documents", ok="provider",
          params={"hearing_id": "@hearing.A"}, files=UPLOAD),
    route("POST", "/provider/hearings/{hearing_id:int}/answer", ok="provider",
          params={"hearing_id": "@hearing.A"},
          form={"answer": "检查当日主教练因病请假，已补充持证教练，附排课表。"}),
    # --- static files, API docs, health --------------------------------------------------------
    route("GET", "/api/v1/health", ok=EVERYONE),
    route("GET", "/static/{file_path:path}", ok=EVERYONE, params={"file_path": "app.css"}),
    route("HEAD", "/static/{file_path:path}", ok=EVERYONE, params={"file_path": "app.css"}),
    route("GET", "/static/swagger-ui/{file_path:path}", ok=EVERYONE,
          params={"file_path": "swagger-ui.css"}),
    route("HEAD", "/static/swagger-ui/{file_path:path}", ok=EVERYONE,
          params={"file_path": "swagger-ui.css"}),
    route("GET", "/schema", ok=EVERYONE),
    route("GET", "/schema/swagger", ok=EVERYONE),
    route("GET", "/schema/openapi.json", ok=EVERYONE),
    route("GET", "/schema/openapi.yml", ok=EVERYONE),
    route("GET", "/schema/openapi.yaml", ok=EVERYONE),
    route("GET", "/schema/oauth2-redirect.html", ok=EVERYONE),
    route("GET", "/schema/{path:str}", anonymous=404, params={"path": "nothing"}),
]
# fmt: on


# --- piccolo-admin at /admin ------------------------------------------------------------------
# Only the city may use it (admin/gate.py): every other signed-in actor, even holding an admin
# session, gets 403; without a session piccolo answers 401. Workflow tables are read-only (405).

ADMIN = "/admin/api/tables"
ADMIN_ONLY = {"ok": "city", "refused": 403, "anonymous": 401}


@dataclass(frozen=True)
class AdminTable:
    """How the admin treats one table, and the rows its checks point at."""

    row: str  # a reference to a row the city may see
    editable: bool = False
    create: Mapping[str, Any] | None = None  # a valid new row (editable tables)
    patch: Mapping[str, Any] | None = None  # a valid change of `row`
    delete: str = ""  # a reference to a row that may be deleted


# piccolo-admin's form sends every column; the API requires the text ones.
ORGANISATION_TEXT = dict.fromkeys(
    (
        "legal_representative",
        "contact_name",
        "contact_phone",
        "contact_email",
        "address",
        "description",
    ),
    "",
) | {"created_at": "2026-11-16T10:00:00+08:00"}
# fmt: off
ADMIN_TABLES: dict[str, AdminTable] = {
    "district": AdminTable(
        "@district.heping", True,
        {"code": "120198", "name": "新设区", "inner_six": False, "policy": "{}"},
        {"name": "和平区"}, "@disposable.district",
    ),
    "category": AdminTable(
        "@disposable.category", True, {"code": "chess", "name": "棋类", "position": 7},
        {"name": "测试类别二"}, "@disposable.category",
    ),
    "school": AdminTable(
        "@school.heping_primary", True,
        {"name": "天津市和平区新华路小学", "district": "@district.heping", "level": "primary"},
        {"name": "天津市和平区岳阳道小学"}, "@disposable.school",
    ),
    "organisation": AdminTable(
        "@organisation.feiyue", True,
        {"name": "天津市和平区新星棋院", "kind": "organisation", **ORGANISATION_TEXT},
        {"description": "篮球训练"}, "@disposable.organisation",
    ),
    "membership": AdminTable(
        "@membership.reviewer", True,
        {"user": "@disposable.user", "role": "school", "school": "@disposable.school"},
        {"role": "provider"}, "@membership.disposable",
    ),
    # piccolo-admin lets only superusers write users; the city is none (tests/admin covers them).
    "piccolo_user": AdminTable(
        "@user.provider", False,
        {"username": "newcomer", "password": NEW_PASSWORD, "email": "new@example.cn",
         "active": True},
        {"first_name": "晓梅"}, "@disposable.user",
    ),
    "user_profile": AdminTable(
        "@profile.reviewer", True, {"user": "@user.school", "name": "孙娜", "post": "教务主任"},
        {"post": "科长"}, "@profile.disposable",
    ),
    "listing": AdminTable("@listing.A"),
    "audit_event": AdminTable("@event.A#1"),
    "issued_number": AdminTable("@issued_number.A"),
    "document": AdminTable("@document.A"),
    "whitelist_entry": AdminTable("@whitelist_entry.A"),
    "engagement": AdminTable("@engagement.A"),
    "rubric": AdminTable("@rubric_row.heping"),
    "evaluation_cycle": AdminTable("@cycle.heping"),
    "evaluation_result": AdminTable("@result.A:confirmed"),
    "school_feedback": AdminTable("@feedback.A"),
    "inspection": AdminTable("@inspection.A"),
    "self_report": AdminTable("@self_report.A"),
    "complaint": AdminTable("@complaint.A"),
    "incident": AdminTable("@incident.A:school"),
}
# fmt: on
# What the table API answers the city where a write is refused (admin/rules.py): 405.
READ_ONLY = 405


def admin_table_rows(table: str, config: AdminTable) -> list[Row]:
    """The table API's endpoints for one table."""
    base = f"{ADMIN}/{table}"
    one = f"{base}/{{row_id:str}}/"
    city_writes: Expect = OK if config.editable else READ_ONLY
    rows = [
        route("GET", f"{base}/", **ADMIN_ONLY),
        *(
            route("GET", f"{base}/{extra}/", **ADMIN_ONLY)
            for extra in ("ids", "new", "count", "schema", "references")
        ),
        route("GET", one, params={"row_id": config.row}, **ADMIN_ONLY),
        route(
            "POST", f"{base}/", json=config.create or {}, also={"city": city_writes}, **ADMIN_ONLY
        ),
        route(
            "PUT",
            one,
            params={"row_id": config.row},
            json=config.patch or {},
            also={"city": READ_ONLY},
            **ADMIN_ONLY,
        ),
        route(
            "PATCH",
            one,
            params={"row_id": config.row},
            json=config.patch or {"id": 0},
            also={"city": city_writes},
            **ADMIN_ONLY,
        ),
        route(
            "DELETE",
            one,
            params={"row_id": config.delete or config.row},
            also={"city": city_writes},
            **ADMIN_ONLY,
        ),
    ]
    return rows


# fmt: off
ADMIN_ROUTES: list[Row] = [
    *(row for table, config in ADMIN_TABLES.items() for row in admin_table_rows(table, config)),
    # The single-page app, its assets and public endpoints: anyone.
    route("GET", "/admin/", ok=EVERYONE),
    route("GET", "/admin/assets/{file_path:path}", ok=EVERYONE,
          params={"file_path": "@admin_asset"}),
    route("GET", "/admin/openapi.json", ok=EVERYONE),
    route("GET", "/admin/public/openapi.json", ok=EVERYONE),
    route("GET", "/admin/public/docs/", ok=EVERYONE),
    route("GET", "/admin/public/docs/oauth2-redirect/", ok=EVERYONE),
    route("GET", "/admin/public/meta/", ok=EVERYONE),
    route("GET", "/admin/public/translations/", ok=EVERYONE),
    route("GET", "/admin/public/translations/{language_code:str}/", ok=EVERYONE,
          params={"language_code": "zh-CN"}),
    route("GET", "/admin/public/login/", ok=EVERYONE),
    # Signing in is audited, failures counted; a right password is the user's last login even
    # where the admin then turns the account away.
    route("POST", "/admin/public/login/", ok="city", refused=403, anonymous=401,
          json=LOGIN_FORM, refused_writes="login_failure audit_event piccolo_user"),
    route("POST", "/admin/public/logout/", ok=SIGNED_IN, anonymous=401),
    # The private API: the city only.
    route("GET", "/admin/api/openapi.json", **ADMIN_ONLY),
    route("GET", "/admin/api/docs/", **ADMIN_ONLY),
    route("GET", "/admin/api/docs/oauth2-redirect/", **ADMIN_ONLY),
    route("GET", "/admin/api/tables/", **ADMIN_ONLY),
    route("GET", "/admin/api/tables/grouped/", **ADMIN_ONLY),
    route("GET", "/admin/api/links/", **ADMIN_ONLY),
    route("GET", "/admin/api/forms/", **ADMIN_ONLY),
    route("GET", "/admin/api/forms/grouped/", **ADMIN_ONLY),
    route("GET", "/admin/api/forms/{form_slug:str}/", params={"form_slug": "nothing"},
          **{**ADMIN_ONLY, "also": {"city": 404}}),
    route("GET", "/admin/api/forms/{form_slug:str}/schema/", params={"form_slug": "nothing"},
          **{**ADMIN_ONLY, "also": {"city": 404}}),
    route("POST", "/admin/api/forms/{form_slug:str}/", params={"form_slug": "nothing"},
          json={}, **{**ADMIN_ONLY, "also": {"city": 404}}),
    route("GET", "/admin/api/user/", **ADMIN_ONLY),
    route("POST", "/admin/api/change-password/",
          json={"current_password": "@me.password", "new_password": NEW_PASSWORD,
                "confirm_new_password": NEW_PASSWORD}, **ADMIN_ONLY),
    route("POST", "/admin/api/media/", json={}, **{**ADMIN_ONLY, "also": {"city": 422}}),
    route("POST", "/admin/api/media/generate-file-url/", json={},
          **{**ADMIN_ONLY, "also": {"city": 422}}),
]
# fmt: on
