"""Every code the registry records has Chinese words, and an unknown one never shows as code."""

from __future__ import annotations

import re
from pathlib import Path

from registry.labels import EVENT_LABELS, actor_label, event_label, role_label
from workflows.transitions import TRANSITIONS

ROOT = Path(__file__).resolve().parent.parent
# action="document.uploaded", ACTION = "personal_data.revealed", f"complaint.{outcome}" …
RECORDED = re.compile(r'(?:action=|ACTION = |CREATED = )f?"([a-z_]+\.[a-z_{}]+)"')


def _recorded_actions() -> set[str]:
    found: set[str] = set()
    for folder in ("registry", "workflows"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(RECORDED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_recorded_action_has_a_label() -> None:
    actions = _recorded_actions()
    assert "document.uploaded" in actions and "complaint.{outcome}" in actions
    complaint_outcomes = {"complaint.upheld", "complaint.dismissed"}
    concrete = {a for a in actions if "{" not in a} | complaint_outcomes
    missing = sorted(a for a in concrete if a not in EVENT_LABELS and a not in TRANSITIONS)
    assert not missing


def test_unknown_codes_read_as_words() -> None:
    assert event_label("application.created") == "创建申请"
    assert event_label("approve") == TRANSITIONS["approve"].label
    assert event_label("admin.district.update") == "管理后台修改"
    assert event_label("something.new") == "其他操作"
    assert role_label("public") == "公众" and role_label("nobody") == "其他"
    assert actor_label("clock", "clock") == "系统（定时任务）"
    assert actor_label("", "public") == "公众"
    assert actor_label("王丽", "reviewer") == "王丽"
