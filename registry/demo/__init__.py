"""Demo data for `registry seed-demo`: realistic Tianjin providers, schools, listings and logins.

Everything is planned in memory from a seed (Faker zh_CN and a private `random.Random`), then
written: rows for providers, schools and users, and every listing state change through the
workflow engine, in chronological order, so the audit chain and the public projection are real.
"""

from __future__ import annotations

from registry.demo.logins import demo_logins, print_logins, render_logins
from registry.demo.seed import DEMO_PASSWORD, seed_demo_data

__all__ = ["DEMO_PASSWORD", "demo_logins", "print_logins", "render_logins", "seed_demo_data"]
