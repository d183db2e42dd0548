"""The after-school provider whitelist registry."""

from __future__ import annotations

import os

# Piccolo finds its engine through this variable; it must be set before any table is imported.
os.environ.setdefault("PICCOLO_CONF", "registry.piccolo_conf")
