"""Piccolo configuration: the engine comes from REGISTRY_DATABASE_URL (PICCOLO_CONF points here)."""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry

from registry.db import make_engine
from registry.settings import get_settings

DB = make_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "registry.piccolo_app",
        "piccolo.apps.user.piccolo_app",
        "piccolo_api.session_auth.piccolo_app",
    ]
)
