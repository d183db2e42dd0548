"""piccolo-admin for the city and superusers: reference data editable, workflow records read-only.

District staff, schools and providers are refused (admin/gate.py): their pages show them their
own scope. Personal data is masked in every answer, even to the city (admin/privacy.py).

- Editable (every change is audited, see admin/audit.py):
  District (policy overrides validated), Category, School, Organisation, Membership, users
  (piccolo-admin itself limits the user table to superusers; passwords follow the registry's
  rules).
- Signing in goes through the registry's failure limits and lockout (admin/gate.py).
- Read-only: Listing, AuditEvent, Document, WhitelistEntry, IssuedNumber. Workflow changes go
  through the engine; document numbers through issuing documents.
- In Chinese, with times in Beijing time (admin/localise.py, admin/labels.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_admin.translations.data import ENGLISH
from piccolo_api.crud.endpoints import OrderBy
from piccolo_api.crud.hooks import Hook, HookType
from piccolo_api.crud.validators import Validators
from piccolo_api.rate_limiting.middleware import InMemoryLimitProvider

from admin import gate, localise, privacy, rules
from admin.audit import AuditedAdmin, delete_recorder, record_create, update_recorder
from registry.settings import Settings, get_settings
from registry.tables import (
    AuditEvent,
    Category,
    Complaint,
    District,
    Document,
    Engagement,
    EvaluationCycle,
    EvaluationResult,
    Incident,
    Inspection,
    IssuedNumber,
    Listing,
    Membership,
    Organisation,
    Rubric,
    School,
    SchoolFeedback,
    SelfReport,
    UserProfile,
    WhitelistEntry,
)

__all__ = ["create_admin_app"]

SITE_NAME = "白名单管理后台"
REFERENCE = "参考数据"
ACCOUNTS = "账户"
RECORDS = "审批记录（只读）"
EVALUATION = "合作与评估（只读）"
# Failed sign-ins are limited per account and address by registry.access.logins (AccountGate);
# only a city user's correct password reaches piccolo's own limiter, which stays as a flood
# guard that lets go after five minutes instead of blocking an address until a restart.
LOGIN_FLOOD_GUARD = {"limit": 100, "timespan": 300, "block_duration": 300}


def _hooks(
    save: Sequence[Callable[..., Any]] = (),
    patch: Sequence[Callable[..., Any]] = (),
    delete: Sequence[Callable[..., Any]] = (),
) -> list[Hook]:
    # PiccoloCRUD groups hooks with itertools.groupby, which only merges *adjacent* hooks of a
    # type (a later run of the same type replaces an earlier one): keep each type together.
    return [
        *(Hook(HookType.pre_save, hook) for hook in save),
        *(Hook(HookType.pre_patch, hook) for hook in patch),
        *(Hook(HookType.pre_delete, hook) for hook in delete),
    ]


def _without_personal(table: type[Table], options: dict[str, Any]) -> dict[str, Any]:
    """Options that keep personal columns out of the list view and the filter form.

    The UI then never asks for them by name (admin/privacy.py refuses such requests); the
    detail view still shows them, masked.
    """
    personal = [c for c in table._meta.columns if c._meta.name in privacy.PERSONAL_COLUMNS]
    if not personal:
        return options
    names = {c._meta.name for c in personal}
    options = dict(options)
    if options.get("visible_columns"):
        options["visible_columns"] = [
            c for c in options["visible_columns"] if c._meta.name not in names
        ]
    else:
        excluded = list(options.get("exclude_visible_columns") or [])
        options["exclude_visible_columns"] = [
            *excluded,
            *(c for c in personal if c not in excluded),
        ]
    options["exclude_visible_filters"] = personal
    return options


def _editable(
    table: type[Table],
    menu_group: str,
    save: Sequence[Callable[..., Any]] = (),
    patch: Sequence[Callable[..., Any]] = (),
    create: Sequence[Callable[..., Any]] = (),
    **options: Any,
) -> TableConfig:
    """A table staff may edit; each write is checked, then recorded for the audit chain.

    `create`: validators of a new row (PiccoloCRUD creates users without running hooks).
    """
    return TableConfig(
        table,
        menu_group=menu_group,
        validators=Validators(
            post_single=[rules.city_only, *create, record_create],
            patch_single=[rules.city_only],
            delete_single=[rules.city_only],
            put_single=[rules.refuse_put],
            delete_all=[rules.refuse_bulk_delete],
        ),
        # Checks first, recorders last: a refused change records nothing.
        hooks=_hooks(
            save=save,
            patch=[*patch, update_recorder(table)],
            delete=[delete_recorder(table)],
        ),
        **_without_personal(table, options),
    )


def _read_only(table: type[Table], group: str = RECORDS, **options: Any) -> TableConfig:
    """A workflow table shown for reference; every write is refused."""
    refuse = [rules.refuse_write]
    return TableConfig(
        table,
        menu_group=group,
        validators=Validators(
            post_single=refuse,
            put_single=refuse,
            patch_single=refuse,
            delete_single=refuse,
            delete_all=refuse,
        ),
        hooks=_hooks(delete=[rules.refuse_delete]),
        **_without_personal(table, options),
    )


def table_configs() -> list[TableConfig]:
    """Every table the admin shows, with its rules."""
    listing = _read_only(
        Listing,
        visible_columns=[
            Listing.id,
            Listing.organisation,
            Listing.district,
            Listing.state,
            Listing.version,
            Listing.submitted_at,
            Listing.decided_at,
            Listing.listed_at,
            Listing.valid_until,
        ],
    )
    # Behind the validators, and in case they are ever loosened: no listing is created here, and
    # state and version are never patched (only workflows.engine moves them).
    listing.hooks = _hooks(
        save=[rules.refuse_listing_save],
        patch=[rules.refuse_listing_state_patch],
        delete=[rules.refuse_delete],
    )
    return [
        _editable(
            District,
            REFERENCE,
            save=[rules.check_district_save],
            patch=[rules.check_district_patch],
        ),
        _editable(Category, REFERENCE, order_by=[OrderBy(Category.position)]),
        _editable(School, REFERENCE),
        # Personal columns (resident ID, phone, address) are left out of every list view.
        _editable(Organisation, ACCOUNTS, exclude_visible_columns=[Organisation.description]),
        _editable(Membership, ACCOUNTS),
        # Passwords set here follow the registry's rules, like everywhere else.
        _editable(
            BaseUser,
            ACCOUNTS,
            patch=[gate.check_password_patch],
            create=[gate.check_new_user_password],
            exclude_visible_columns=[BaseUser.password],
        ),
        # How people are named on the pages (王丽（审核员）): the city keeps it current.
        _editable(UserProfile, ACCOUNTS),
        listing,
        _read_only(
            AuditEvent,
            order_by=[OrderBy(AuditEvent.id, ascending=False)],
            exclude_visible_columns=[
                AuditEvent.payload,
                AuditEvent.prev_hash,
                AuditEvent.hash,
            ],
        ),
        _read_only(Document),
        _read_only(WhitelistEntry),
        # Numbers come from issuing documents (registry/documents/numbering.py), never by hand.
        _read_only(IssuedNumber, order_by=[OrderBy(IssuedNumber.id, ascending=False)]),
        _read_only(Engagement, EVALUATION),
        # Evaluation records change only through their pages and API (validation, audit).
        _read_only(Rubric, EVALUATION),
        _read_only(EvaluationCycle, EVALUATION, exclude_visible_columns=[EvaluationCycle.rubric]),
        _read_only(
            EvaluationResult, EVALUATION, exclude_visible_columns=[EvaluationResult.breakdown]
        ),
        _read_only(SchoolFeedback, EVALUATION),
        _read_only(Inspection, EVALUATION),
        _read_only(SelfReport, EVALUATION, exclude_visible_columns=[SelfReport.body]),
        _read_only(Complaint, EVALUATION),
        _read_only(Incident, EVALUATION),
    ]


def create_admin_app(settings: Settings | None = None) -> AuditedAdmin:
    """The admin ASGI app (built once at start-up)."""
    settings = settings or get_settings()
    admin = create_admin(
        tables=table_configs(),
        site_name=SITE_NAME,
        # Under HTTPS: secure cookies and a Host check; on a laptop neither applies.
        production=settings.https,
        allowed_hosts=list(settings.allowed_hosts),
        # Chinese by default (see admin/localise.py for what its translation does not reach).
        default_language_code=localise.TRANSLATION.language_code,
        translations=[localise.TRANSLATION, ENGLISH],
        rate_limit_provider=InMemoryLimitProvider(**LOGIN_FLOOD_GUARD),
    )
    return AuditedAdmin(gate.AccountGate(admin))
