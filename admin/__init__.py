"""piccolo-admin for staff: reference data editable, workflow records read-only."""

from __future__ import annotations

from typing import Any

from piccolo_admin.endpoints import create_admin

from registry.tables import AuditEvent, Category, District, Listing, Membership, School


def create_admin_app() -> Any:
    """The admin ASGI app (built once at start-up)."""
    return create_admin(
        tables=[District, Category, School, Membership, Listing, AuditEvent],
        site_name="白名单管理后台",
    )
