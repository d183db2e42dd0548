"""piccolo-admin in Chinese and Beijing time, where its own options do not reach.

piccolo-admin 1.14 translates its UI words (SIMPLIFIED_CHINESE, the default language here), but:
- column titles are the pydantic titles of the column names ("Valid Until") and coded values
  show their enum names ("In Review"): `relabel_schema` writes the Chinese names of
  admin/labels.py into each table's schema answer, which the UI reads them from;
- table names are shown as spelled in the database ("audit event"), and a few messages
  ("Problem logging in") are fixed English strings in its JavaScript bundle; its timestamp
  widget starts in UTC. `patch_bundle` replaces those exact strings when the bundle is
  served. If an upgrade changes them the bundle is served unchanged (English again), and
  tests/admin/test_admin_chinese.py fails to say so;
- timestamps are answered in UTC ("2026-11-16T02:00:00+00:00"), and the list shows them as
  answered: `beijing_times` rewrites them to the same instants in Asia/Shanghai (+08:00).
  A value sent back is an ISO time with its offset, so it is still the same instant.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.columns import Timestamptz
from piccolo.table import Table
from piccolo_admin.translations.data import SIMPLIFIED_CHINESE
from piccolo_admin.translations.models import Translation
from starlette.types import Message

from admin.labels import TABLE_LABELS, VALUE_LABELS, column_label, table_label

BEIJING = "Asia/Shanghai"
# The UI's own words, with the registry's choice where the stock translation reads oddly.
TRANSLATION = Translation(
    language_name=SIMPLIFIED_CHINESE.language_name,
    language_code=SIMPLIFIED_CHINESE.language_code,
    translations={**SIMPLIFIED_CHINESE.translations, "Log Out": "退出登录"},
)

# Fixed English messages of the bundle (they bypass the translation) → Chinese.
MESSAGES = {
    "Problem logging in": "登录失败：用户名或密码错误、账号已锁定，或该账号无权登录管理后台",
    "Invalid column name or value": "列名或取值无效",
    "Method not supported - running in read only mode.": "只读模式，不能修改",
    "Successfully added row": "已新增",
    "Successfully saved row": "已保存",
    "Successfully updated rows": "已更新",
    "The form has errors.": "表单有误，请检查",
    "The server can't be reached - please try later.": "无法连接服务器，请稍后再试",
    "Unable to delete the row.": "无法删除该记录",
    "Are you sure you want to delete this row?": "确定删除这条记录吗？",
}
_LABELS_JS = json.dumps(TABLE_LABELS, ensure_ascii=False, separators=(",", ":"))
# Exact pieces of piccolo-admin 1.14's bundle and what they become.
BUNDLE_PATCHES: tuple[tuple[str, str], ...] = (
    # The one function that makes a table name readable: look the name up first.
    (
        'function Cb(e){return e.split("_").join(" ")}',
        f'function Cb(e){{return {_LABELS_JS}[e]??e.split("_").join(" ")}}',
    ),
    # The sidebar and the foreign-key picker spell the name out themselves.
    (
        'readableTableName(){return this.tableName.split("_").join(" ")}',
        "readableTableName(){return Cb(this.tableName)}",
    ),
    (
        'readableTableName(){return this.tableName?KL(this.tableName.split("_").join(" ")):""}',
        'readableTableName(){return this.tableName?Cb(this.tableName):""}',
    ),
    # The timestamp widget's time zone, until the user picks another.
    ('localStorage.getItem(Gs)??"UTC"', f'localStorage.getItem(Gs)??"{BEIJING}"'),
    *((json.dumps(en), json.dumps(zh, ensure_ascii=False)) for en, zh in MESSAGES.items()),
)


def patch_bundle(script: str) -> str:
    """The admin's JavaScript with table names, messages and the time zone in Chinese terms."""
    for old, new in BUNDLE_PATCHES:
        script = script.replace(old, new)
    return script


def is_bundle(path: str) -> bool:
    """Whether a path (below the admin's mount) is one of its JavaScript assets."""
    # The mount hands paths on with a trailing slash.
    return bool(re.fullmatch(r"/assets/[\w.-]+\.js/?", path))


def with_own_etag(messages: list[Message]) -> list[Message]:
    """The patched bundle under an ETag of its own.

    A browser holding the unpatched file would otherwise be told "not modified" and keep it.
    """
    start = next(m for m in messages if m["type"] == "http.response.start")
    start["headers"] = [
        (name, value[:-1] + b'-zh"' if name.lower() == b"etag" and value.endswith(b'"') else value)
        for name, value in start.get("headers", [])
    ]
    return messages


def relabel_schema(table: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A table's schema answer with Chinese titles, help texts and labels of coded values."""
    extra = schema.setdefault("extra", {})
    extra["help_text"] = table_label(table)
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        title = column_label(table, name.removesuffix("_readable"))
        if title:
            prop["title"] = title
        prop_extra = prop.get("extra")
        if not isinstance(prop_extra, dict):
            continue
        help_text = prop_extra.get("help_text")
        # English notes written for developers: the Chinese title says enough.
        if isinstance(help_text, str) and not re.search(r"[\u4e00-\u9fff]", help_text):
            prop_extra["help_text"] = None
        choices, values = prop_extra.get("choices"), VALUE_LABELS.get(name, {})
        if isinstance(choices, dict):
            for choice in choices.values():
                if isinstance(choice, dict) and str(choice.get("value")) in values:
                    choice["display_name"] = values[str(choice["value"])]
    return schema


def _timestamp_columns(table: type[Table]) -> set[str]:
    return {c._meta.name for c in table._meta.columns if isinstance(c, Timestamptz)}


def _in_beijing(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(ZoneInfo(BEIJING)).isoformat()


def beijing_times(table: type[Table] | None, data: Any) -> Any:
    """Rows (a list answer, one row, or {"rows": …}) with timestamps in Beijing time."""
    if table is None:
        return data
    columns = _timestamp_columns(table)
    if not columns:
        return data
    rows: Any = data.get("rows", data) if isinstance(data, dict) else data
    for row in rows if isinstance(rows, list) else [rows]:
        if isinstance(row, dict):
            for name in columns & row.keys():
                row[name] = _in_beijing(row[name])
    return data
