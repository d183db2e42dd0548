"""The admin speaks Chinese: table and column names, coded values, messages, Beijing time."""

from __future__ import annotations

import re

import httpx

from admin import table_configs
from admin.labels import TABLE_LABELS, column_label
from admin.localise import BUNDLE_PATCHES, MESSAGES
from tests.admin.test_admin import API, AdminLogin, admin_login  # noqa: F401
from tests.cast import listing_in
from workflows.states import State


def test_every_table_and_column_shown_has_a_chinese_name() -> None:
    for config in table_configs():
        table = config.table_class._meta.tablename
        assert table in TABLE_LABELS, table
        unnamed = [
            c._meta.name
            for c in config.table_class._meta.columns
            if column_label(table, c._meta.name) is None
        ]
        assert not unnamed, (table, unnamed)


async def test_the_ui_words_are_chinese_by_default(anonymous: httpx.AsyncClient) -> None:
    translations = (await anonymous.get("/admin/public/translations/")).json()
    assert translations["default_language_code"] == "zh-CN"
    chinese = (await anonymous.get("/admin/public/translations/zh-CN/")).json()
    assert chinese["translations"]["Log Out"] == "退出登录"


async def test_the_bundle_names_tables_and_messages_in_chinese(
    anonymous: httpx.AsyncClient,
) -> None:
    page = (await anonymous.get("/admin/")).text
    scripts = re.findall(r'src="\.?/?(assets/[\w.-]+\.js)"', page)
    assert scripts, page[:500]
    bundle = "".join([(await anonymous.get(f"/admin/{src}")).text for src in scripts])
    # Every patch found its place: an upgrade of piccolo-admin that moves one fails here.
    for old, new in BUNDLE_PATCHES:
        assert old not in bundle and new in bundle, old
    assert '"audit_event":"审计事件"' in bundle
    assert "Problem logging in" not in bundle and MESSAGES["Problem logging in"] in bundle
    assert 'localStorage.getItem(Gs)??"Asia/Shanghai"' in bundle


async def test_columns_and_coded_values_read_in_chinese(admin_login: AdminLogin) -> None:  # noqa: F811
    city = await admin_login("city")
    schema = (await city.get(f"{API}/listing/schema/")).json()
    assert schema["extra"]["help_text"] == "入库申请记录"
    properties = schema["properties"]
    assert properties["valid_until"]["title"] == "有效期至"
    assert properties["state"]["title"] == "状态"
    labels = {
        c["value"]: c["display_name"] for c in properties["state"]["extra"]["choices"].values()
    }
    assert labels["in_review"] == "审核中" and labels["listed"] == "已入库"
    # English notes for developers are not shown as help.
    assert properties["version"]["extra"]["help_text"] is None
    district = (await city.get(f"{API}/district/schema/")).json()["properties"]
    assert district["code"]["title"] == "行政区划代码"


async def test_times_are_shown_in_beijing_time(admin_login: AdminLogin) -> None:  # noqa: F811
    await listing_in(State.submitted)
    city = await admin_login("city")
    rows = (await city.get(f"{API}/audit_event/", params={"__page_size": 5})).json()["rows"]
    assert rows and all(r["occurred_at"].endswith("+08:00") for r in rows)
    listing = (await city.get(f"{API}/listing/")).json()["rows"][0]
    assert listing["submitted_at"].endswith("+08:00")
    assert listing["valid_until"] is None or "T" not in listing["valid_until"]  # dates stay dates
