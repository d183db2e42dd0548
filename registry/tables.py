"""The registry's tables. Only the workflow engine writes Listing.state and Listing.version."""

from __future__ import annotations

from enum import Enum, StrEnum

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from workflows.states import ExitReason, Role, State

RESTRICT = OnDelete.restrict
# Each table declares `id: Serial` for type checkers: Piccolo adds the primary key itself.


def _choices(enum_type: type[Enum], name: str) -> type[Enum]:
    """A Piccolo choices enum built from one of the workflow's StrEnums."""
    return Enum(name, {member.name: member.value for member in enum_type})  # type: ignore[return-value]


StateChoice = _choices(State, "StateChoice")
RoleChoice = _choices(Role, "RoleChoice")
ExitReasonChoice = _choices(ExitReason, "ExitReasonChoice")


class ProviderKind(StrEnum):
    organisation = "organisation"
    individual = "individual"


class SchoolLevel(StrEnum):
    primary = "primary"
    middle = "middle"


class District(Table):
    id: Serial
    code = Varchar(length=6, unique=True, help_text="GB/T 2260 administrative division code")
    name = Varchar(length=32)
    inner_six = Boolean(default=False, help_text="One of the six inner districts (市内六区)")
    policy = JSON(default={}, help_text="Overrides of the city's default policy")
    pupils = Integer(
        null=True, default=None, help_text="Pupils enrolled (the city view's per 10,000 pupils)"
    )


class Category(Table):
    id: Serial
    code = Varchar(length=32, unique=True)
    name = Varchar(length=32)
    position = Integer(default=0)


class Organisation(Table):
    """A provider: an organisation (USCC) or an individual (resident ID, masked in public)."""

    id: Serial
    kind = Varchar(length=16, choices=ProviderKind, default=ProviderKind.organisation)
    name = Varchar(length=128, index=True)
    uscc = Varchar(length=18, null=True, default=None, unique=True, help_text="统一社会信用代码")
    # Resident ID and phone numbers are stored sealed (registry/access/personal_data.py):
    # read and write them through that module only.
    resident_id = Varchar(length=255, null=True, default=None, help_text="居民身份证号（加密）")
    resident_id_hash = Varchar(
        length=80, null=True, default=None, unique=True, help_text="身份证号的keyed hash（查重）"
    )
    legal_representative = Varchar(length=64, default="")
    contact_name = Varchar(length=64, default="")
    contact_phone = Varchar(length=255, default="", help_text="联系电话（加密）")
    contact_email = Varchar(length=128, default="")
    address = Varchar(length=255, default="")
    founded_on = Date(null=True, default=None)
    description = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class School(Table):
    id: Serial
    name = Varchar(length=128)
    district = ForeignKey(District, on_delete=RESTRICT)
    level = Varchar(length=16, choices=SchoolLevel, default=SchoolLevel.primary)


class Listing(Table):
    """A provider's standing on one district's whitelist; walks the lifecycle state machine."""

    id: Serial
    organisation = ForeignKey(Organisation, on_delete=RESTRICT, index=True)
    district = ForeignKey(District, on_delete=RESTRICT, index=True)
    state = Varchar(length=32, choices=StateChoice, default=State.draft.value, index=True)
    version = Integer(default=1, help_text="Optimistic lock: bumped by every transition")
    # Its resident ID and phone leaves are stored sealed: write it through
    # personal_data.seal_form, read them through open_form (registry/access/personal_data.py).
    form = JSON(default={}, help_text="The application form (JSON Schema in schemas/)")
    form_schema = Varchar(length=255, default="", help_text="$id the form was validated against")
    created_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    supplement_due = Date(null=True, default=None)
    recommended_by = Integer(null=True, default=None, help_text="User who recommended (four-eyes)")
    rejected_by = Integer(null=True, default=None)
    appeal_due = Date(null=True, default=None)
    appealed = Boolean(default=False)
    notice_start = Date(null=True, default=None)
    notice_end = Date(null=True, default=None)
    listed_at = Timestamptz(null=True, default=None)
    valid_until = Date(null=True, default=None)
    rectification_due = Date(null=True, default=None)
    exited_at = Timestamptz(null=True, default=None)
    exit_reason = Varchar(length=32, choices=ExitReasonChoice, null=True, default=None)
    banned_until = Date(null=True, default=None)
    provider_message = Text(default="", help_text="The latest decision's message to the provider")
    assigned_to = Integer(null=True, default=None, help_text="Reviewer (user id) handling it")
    course_decisions = JSON(
        default={},
        help_text='Per-course decisions by course index: {"2": {"approved": false, "reason": …}}',
    )


class FormSnapshot(Table):
    """The form exactly as submitted, once per submission (for "what changed since")."""

    id: Serial
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    version = Integer(help_text="The listing's version after the submission")
    form = JSON(default={})  # sealed leaves, as Listing.form
    form_schema = Varchar(length=255, default="")
    submitted_at = Timestamptz(default=TimestamptzNow())
    # The documents as they stood at the submission ([{id, kind, staff_index, original_name,
    # sha256}]): their rows are deleted when the provider removes them, so "what was removed
    # since" can only be told from this list. None for submissions made before it was kept.
    documents = JSON(null=True, default=None)


class SupplementItem(Table):
    """One numbered item of a supplement request, and the provider's answer to it.

    The items of one request share `requested_version` (the listing's version after
    request_supplement): that is a round. The answer can change until the resubmission, which
    stamps `submitted_version`; from then on the round is history.
    """

    id: Serial
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    requested_version = Integer(help_text="The listing's version after the request")
    number = Integer(help_text="1-based position within its request")
    text = Text(help_text="What the provider must add or correct")
    requested_at = Timestamptz(default=TimestamptzNow())
    answer = Text(default="")
    answered_at = Timestamptz(null=True, default=None)
    answered_by = Integer(null=True, default=None)
    submitted_version = Integer(
        null=True, default=None, help_text="The listing's version after the resubmission"
    )


class Document(Table):
    id: Serial
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    kind = Varchar(length=32)
    sha256 = Varchar(length=64, index=True)
    original_name = Varchar(length=255)
    mime_type = Varchar(length=64)
    size = Integer()
    valid_from = Date(null=True, default=None)
    valid_until = Date(null=True, default=None)
    staff_index = Integer(null=True, default=None, help_text="Staff member a certificate is of")
    # A plain id rather than a ForeignKey: a key would pull SupplementItem into piccolo-admin
    # (it adds every table a shown table refers to), and the items are never deleted anyway.
    supplement_item = Integer(
        null=True, default=None, index=True, help_text="SupplementItem this document answers"
    )
    uploaded_by = Integer(null=True, default=None)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class Membership(Table):
    """A user's role and its scope: an organisation, a district or a school (city: none)."""

    id: Serial
    user = ForeignKey(BaseUser, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=16, choices=RoleChoice)
    organisation = ForeignKey(Organisation, on_delete=RESTRICT, null=True, default=None)
    district = ForeignKey(District, on_delete=RESTRICT, null=True, default=None)
    school = ForeignKey(School, on_delete=RESTRICT, null=True, default=None)


class UserProfile(Table):
    """How a person is named on every page: their name and post (王丽，审核员).

    Kept beside piccolo's user table (which we do not own); a user without one is shown by
    username (registry/access/people.py).
    """

    id: Serial
    user = ForeignKey(BaseUser, on_delete=OnDelete.cascade, unique=True)
    name = Varchar(length=64, default="", help_text="The person's name, e.g. 王丽")
    post = Varchar(length=64, default="", help_text="Their post, e.g. 审核员、科长")


class AuditEvent(Table):
    """One link of the hash chain: every transition and administrative change."""

    id = Serial(primary_key=True)
    occurred_at = Timestamptz(default=TimestamptzNow())
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=150, default="")
    role = Varchar(length=16)
    listing = ForeignKey(Listing, on_delete=RESTRICT, null=True, default=None, index=True)
    action = Varchar(length=64)
    from_state = Varchar(length=32, null=True, default=None)
    to_state = Varchar(length=32, null=True, default=None)
    reason = Text(default="", help_text="Internal note for the bureau")
    message = Text(default="", help_text="Message the provider sees")
    payload = JSON(default={})
    prev_hash = Varchar(length=64, default="")
    hash = Varchar(length=64, unique=True)
    # The audit key that keyed `hash` (HMAC); "" for events hashed with plain SHA-256 before
    # the chain was keyed.
    key_id = Varchar(length=16, default="")


class ObjectionStatus(StrEnum):
    pending = "pending"
    upheld = "upheld"
    dismissed = "dismissed"


class Objection(Table):
    """An objection lodged under a real name during a public notice (异议)."""

    id: Serial
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    name = Varchar(length=64, help_text="Real name of the person, or of the organisation")
    organisation_name = Varchar(length=128, default="")
    contact = Varchar(length=512, help_text="联系方式（加密）")
    facts = Text()
    submitted_at = Timestamptz(default=TimestamptzNow())
    client_hash = Varchar(length=64, default="", help_text="Salted hash of the sender's address")
    status = Varchar(length=16, choices=ObjectionStatus, default=ObjectionStatus.pending)
    reply = Text(default="")
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)


class ExpertScore(Table):
    """One reviewer's independent admission score (expert review, where policy asks for it)."""

    id: Serial
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    reviewer = Integer(help_text="User id of the scoring reviewer")
    moderator = Boolean(default=False, help_text="The third reviewer deciding a disagreement")
    scores = JSON(default={}, help_text="Item → points")
    total = Integer()
    comment = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class WhitelistEntry(Table):
    """The public search projection: one row per listing on the public whitelist.

    Written only by the engine, in the same transaction as the state change.
    """

    id: Serial
    listing = ForeignKey(Listing, on_delete=OnDelete.cascade, unique=True)
    organisation_id = Integer(index=True)  # a provider's public page reads its rows
    organisation_name = Varchar(length=128)
    provider_kind = Varchar(length=16)
    district_code = Varchar(length=6, index=True)
    district_name = Varchar(length=32)
    state = Varchar(length=32)
    rectifying = Boolean(default=False)
    categories = Text(default="", help_text="Space-separated category codes")
    courses = Text(default="", help_text="Approved course names, one per line")
    outlines = Text(default="", help_text="Approved courses' outlines")
    description = Text(default="")
    grade_bands = Text(default="", help_text="Space-separated grade band codes")
    fee_min = Integer(null=True, default=None)
    fee_max = Integer(null=True, default=None)
    latest_grade = Varchar(length=16, null=True, default=None)
    name_sort = Varchar(length=512, default="", help_text="Pinyin sort key of the name")
    search_tokens = Text(default="", help_text="Tokens indexed by the engine's search index")
    name_tokens = Text(default="", help_text="Tokens of the name and course names (rank)")
    word_tokens = Text(default="", help_text="Whole words of the name and course names (rank)")
    listed_at = Timestamptz(null=True, default=None)
    valid_until = Date(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class Engagement(Table):
    """A school's engagement of a listed provider for some courses in a term (合作项目)."""

    id: Serial
    school = ForeignKey(School, on_delete=RESTRICT, index=True)
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    courses = JSON(default=[], help_text="Names of the engaged courses")
    term = Varchar(length=32, help_text="e.g. 2026-2027学年第一学期")
    grade_band = Varchar(length=16)
    students = Integer()
    weekly_schedule = JSON(default=[])
    fee_per_student_month = Integer()
    evening_study = Boolean(default=False)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    provider_exited_on = Date(null=True, default=None, help_text="Set when the provider exits")
    provider_suspended_on = Date(
        null=True, default=None, help_text="Set while the provider is suspended"
    )


class Rubric(Table):
    """The evaluation rubric in force: the city's default (scope "city") or a district's own."""

    id: Serial
    scope = Varchar(length=6, unique=True, help_text='"city" or a district code')
    body = JSON(help_text="Valid against schemas/rubric.v1.json")
    updated_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class CycleStatus(StrEnum):
    open = "open"
    closed = "closed"


class EvaluationCycle(Table):
    """A district's evaluation of its whitelist for one period (评估周期)."""

    id: Serial
    district = ForeignKey(District, on_delete=RESTRICT, index=True)
    name = Varchar(length=64, help_text="e.g. 2026年秋季学期")
    term = Varchar(length=32, help_text="The engagement term whose schools give feedback")
    starts_on = Date()
    ends_on = Date()
    self_report_due = Date()
    status = Varchar(length=16, choices=CycleStatus, default=CycleStatus.open)
    rubric = JSON(help_text="The rubric snapshotted when the cycle opened")
    opened_by = Integer(null=True, default=None)
    opened_at = Timestamptz(default=TimestamptzNow())
    closed_by = Integer(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    closed_early = Boolean(default=False, help_text="Closed before its input deadlines")
    close_reason = Text(default="", help_text="Why it was closed early")


class SchoolFeedback(Table):
    """One engaged school's feedback and parent-survey tallies for a listing in a cycle."""

    id: Serial
    key = Varchar(length=32, unique=True, help_text="cycle:engagement — once per pair")
    cycle = ForeignKey(EvaluationCycle, on_delete=RESTRICT, index=True)
    engagement = ForeignKey(Engagement, on_delete=RESTRICT)
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    school = ForeignKey(School, on_delete=RESTRICT)
    scores = JSON(default={}, help_text="Rubric question key → 0..100")
    comment = Text(default="")
    very_satisfied = Integer(null=True, default=None)
    satisfied = Integer(null=True, default=None)
    neutral = Integer(null=True, default=None)
    dissatisfied = Integer(null=True, default=None)
    updated_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class ComplaintStatus(StrEnum):
    received = "received"
    investigating = "investigating"
    upheld = "upheld"
    dismissed = "dismissed"


class Complaint(Table):
    """A complaint by the public (a parent) about a listed provider (投诉)."""

    id: Serial
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    content = Text()
    contact = Varchar(length=512, default="", help_text="联系方式（加密；未留为空）")
    client_hash = Varchar(length=64, default="", index=True)
    submitted_at = Timestamptz(default=TimestamptzNow())
    status = Varchar(length=16, choices=ComplaintStatus, default=ComplaintStatus.received)
    fee_violation = Boolean(default=False, help_text="Upheld as charging against the rules")
    reply = Text(default="")
    handled_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)


class Severity(StrEnum):
    minor = "minor"
    serious = "serious"
    major = "major"


class Incident(Table):
    """A safety incident reported by a school or a reviewer (安全事故)."""

    id: Serial
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    severity = Varchar(length=16, choices=Severity)
    occurred_on = Date()
    description = Text()
    school = ForeignKey(School, on_delete=RESTRICT, null=True, default=None)
    reported_by = Integer(null=True, default=None)
    reporter_role = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())
    resolution = Text(default="")
    resolved_by = Integer(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)


class Inspection(Table):
    """The bureau's on-site inspection of a listing in a cycle (现场检查)."""

    id: Serial
    key = Varchar(length=32, unique=True, help_text="cycle:listing")
    cycle = ForeignKey(EvaluationCycle, on_delete=RESTRICT, index=True)
    listing = ForeignKey(Listing, on_delete=RESTRICT)
    score = Integer(help_text="0..100")
    fee_violation = Boolean(default=False, help_text="Found charging against the rules")
    inspected_on = Date()
    note = Text(default="")
    inspector = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class SelfReport(Table):
    """The provider's self-report for a cycle (自查报告)."""

    id: Serial
    key = Varchar(length=32, unique=True, help_text="cycle:listing")
    cycle = ForeignKey(EvaluationCycle, on_delete=RESTRICT, index=True)
    listing = ForeignKey(Listing, on_delete=RESTRICT)
    body = JSON(default={})
    complete = Boolean(default=False)
    submitted_by = Integer(null=True, default=None)
    submitted_at = Timestamptz(default=TimestamptzNow())


class ResultStatus(StrEnum):
    computed = "computed"  # graded on enough evidence, nothing adverse: ready to confirm
    manual = "manual"  # no grade (little or no evidence): an evaluator grades it by hand
    provisional = "provisional"  # adverse: sent to the provider, who may answer (陈述、申辩)
    confirmed = "confirmed"


class EvaluationResult(Table):
    """A listing's score, grade and consequence in a cycle, with the breakdown behind them."""

    id: Serial
    key = Varchar(length=32, unique=True, help_text="cycle:listing")
    cycle = ForeignKey(EvaluationCycle, on_delete=RESTRICT, index=True)
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    score_centi = Integer(null=True, default=None, help_text="Score × 100 (exact boundaries)")
    grade = Varchar(length=16, null=True, default=None)
    consequence = Varchar(length=16)
    exit_reason = Varchar(length=32, choices=ExitReasonChoice, null=True, default=None)
    breakdown = JSON(default={})
    school_responses = Integer(default=0)
    parent_responses = Integer(default=0)
    status = Varchar(length=16, choices=ResultStatus, default=ResultStatus.computed)
    adjusted = Boolean(default=False)
    adjust_reason = Text(default="")
    graded_by = Integer(null=True, default=None, help_text="Who graded it by hand")
    graded_at = Timestamptz(null=True, default=None)
    grade_reason = Text(default="", help_text="Why the evaluator gave this grade by hand")
    decision_reason = Text(default="", help_text="The final decision's answer to the hearing")
    confirmed_by = Integer(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)


class Hearing(Table):
    """An adverse provisional result sent to the provider, and its answer (陈述、申辩).

    `facts` is what was sent (score breakdown, rule applied, consequence) as the provider saw
    it; a later change of the result does not rewrite it. A result heard again (a harsher
    change after the answer) gets a new row; the earlier one is marked superseded.
    """

    id: Serial
    result = ForeignKey(EvaluationResult, on_delete=RESTRICT, index=True)
    cycle = ForeignKey(EvaluationCycle, on_delete=RESTRICT)
    listing = ForeignKey(Listing, on_delete=RESTRICT, index=True)
    consequence = Varchar(length=16)
    facts = JSON(default={})
    sent_by = Integer(null=True, default=None)
    sent_at = Timestamptz()
    answer_due = Date(help_text="Last day (inclusive) to answer")
    answer = Text(default="")
    answer_documents = JSON(default=[], help_text="Document ids attached to the answer")
    answered_by = Integer(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=16, default="", help_text="'', confirmed, changed, superseded")
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_reason = Text(default="")


class UserSession(Table):
    """A signed-in browser or API client: revocable, with idle and absolute time limits.

    The cookie holds a random token; only its SHA-256 is stored, so a copy of the database
    does not sign anyone in.
    """

    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    user_id = Integer(index=True)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()


class LoginFailure(Table):
    """A failed sign-in, counted per account and per client address to lock out guessing.

    `key` is "user:<username>" or "addr:<salted hash of the address>": the address itself is
    personal data and is never stored.
    """

    id = Serial(primary_key=True)
    key = Varchar(length=160, index=True)
    failed_at = Timestamptz(index=True)


class SharedLease(Table):
    """A lease one worker holds at a time (the clock's): who holds it, and until when.

    Without Redis this is the store workers share (registry/shared/database_backend.py).
    `expires_ms` is epoch milliseconds, so one comparison reads the same on SQLite and
    PostgreSQL.
    """

    id = Serial(primary_key=True)
    name = Varchar(length=64, unique=True)
    holder = Varchar(length=160)
    expires_ms = BigInt()


class SharedGeneration(Table):
    """A counter per name that workers read to learn a shared thing changed (cache epochs).

    The `whitelist` row is moved by triggers on whitelist_entry
    (registry/public/search/generation.py).
    """

    id = Serial(primary_key=True)
    name = Varchar(length=64, unique=True)
    value = BigInt(default=0)


class Reminder(Table):
    """A reminder given once: to a provider before one of its deadlines, or a reviewer's daily
    digest. Shown in the inbox; e-mailed too when SMTP is configured.

    `key` says what it reminds of (kind, listing, the deadline's day, how many days ahead), so
    a second clock, another worker or a restart cannot give the same reminder twice.
    """

    id: Serial
    key = Varchar(length=160, unique=True, help_text="kind/listing/day/lead: which reminder")
    kind = Varchar(length=32)
    organisation = Integer(null=True, default=None, index=True, help_text="The provider told")
    user_id = Integer(null=True, default=None, index=True, help_text="The reviewer told")
    listing = Integer(null=True, default=None)
    title = Varchar(length=200)
    body = Text(default="")
    due = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    emailed_at = Timestamptz(null=True, default=None)
    email_attempts = Integer(default=0)
    email_error = Varchar(length=255, default="")


class IssuedNumber(Table):
    """The register of outgoing documents' numbers (发文登记): one row per numbered document.

    A district numbers its documents in sequence within a year; the same document issued again
    (the same notice list, the same evaluation report) keeps the number it first received.
    Both keys are unique, so two processes issuing at once cannot share a number: the loser
    retries with the next one (registry/documents/numbering.py).
    """

    id: Serial
    key = Varchar(length=160, unique=True, help_text="district/kind/subject: which document")
    slot = Varchar(length=32, unique=True, help_text="district/year/sequence: which number")
    district_code = Varchar(length=6, index=True)
    year = Integer()
    sequence = Integer()
    kind = Varchar(length=32, help_text="notice, announcement, evaluation_report …")
    subject = Varchar(length=120, help_text="What within the kind: a cycle and listing, a list")
    issued_on = Date(help_text="The document's date (成文日期) when first issued")
    issued_at = Timestamptz(default=TimestamptzNow())


TABLES: tuple[type[Table], ...] = (
    District,
    Category,
    Organisation,
    School,
    Listing,
    FormSnapshot,
    SupplementItem,
    Document,
    Membership,
    UserProfile,
    AuditEvent,
    Objection,
    ExpertScore,
    WhitelistEntry,
    Engagement,
    Rubric,
    EvaluationCycle,
    SchoolFeedback,
    Complaint,
    Incident,
    Inspection,
    SelfReport,
    EvaluationResult,
    Hearing,
    UserSession,
    LoginFailure,
    SharedLease,
    SharedGeneration,
    IssuedNumber,
    Reminder,
)
