"""The rubric as a JSON file: export it, and read an import with Chinese messages only.

A clerk who pastes or uploads a broken file sees where it breaks ("第3行第5列") and what is
wrong in Chinese; Python's own parser messages never reach the page.
"""

from __future__ import annotations

import json
from typing import Any

from workflows.context import Refusal
from workflows.engine import Refused

FIELD = "body"
# The parser's messages (CPython's json module, C and Python scanners alike), in Chinese.
_REASONS = (
    ("Expecting value", "此处应为一个值（数字、带双引号的文本、true、false、null、[…] 或 {…}）"),
    ("Expecting property name enclosed in double quotes", "此处应为用英文双引号括起的字段名"),
    ("Expecting ':' delimiter", "字段名后应为英文冒号“:”"),
    ("Expecting ',' delimiter", "此处缺少英文逗号“,”，或括号没有配对"),
    ("Unterminated string starting at", "文本缺少结尾的英文双引号"),
    ("Invalid control character", "文本中有换行或制表符等控制字符，请删除或改写为 \\n"),
    ("Invalid \\uXXXX escape", "文本中的 \\u 转义应为四位十六进制数字"),
    ("Invalid \\escape", "文本中的反斜杠“\\”用法不正确（需要写成 \\\\）"),
    ("Extra data", "JSON 内容结束后还有多余的字符"),
)


def _refused(message: str) -> Refused:
    return Refused(message, [Refusal(FIELD, "json", message)])


def _reason(parser_message: str) -> str:
    for prefix, reason in _REASONS:
        if parser_message.startswith(prefix):
            return reason
    return "不是有效的 JSON"


def _no_constant(name: str) -> Any:
    # json.loads accepts NaN and Infinity, which are not JSON and not scores.
    raise ValueError(name)


def parse_text(text: str) -> object:
    """The JSON value of an import, or a refusal in Chinese that says where it breaks."""
    if not text.strip():
        raise _refused("内容为空：请粘贴评估细则的 JSON，或选择导出的 .json 文件")
    try:
        return json.loads(text.removeprefix("\ufeff"), parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        where = f"第{error.lineno}行第{error.colno}列"
        raise _refused(f"JSON 格式有误：{where}附近，{_reason(error.msg)}") from None
    except ValueError:
        raise _refused("JSON 格式有误：NaN 和 Infinity 不是有效的数字") from None
    except RecursionError:
        raise _refused("JSON 格式有误：括号嵌套层数过多") from None


def decode_file(data: bytes) -> str:
    """An uploaded file's text: UTF-8 (with or without a byte-order mark), else a refusal."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _refused(
            f"文件不是 UTF-8 编码的文本（第{error.start + 1}个字节无法识别）："
            "请用导出的 .json 文件，或在编辑器中另存为 UTF-8 编码后再导入"
        ) from None


def parse_object(text: str) -> dict[str, Any]:
    """An import that must be one JSON object (the rubric), not a list, number or text."""
    value = parse_text(text)
    if not isinstance(value, dict):
        raise _refused("导入的内容应为一个 JSON 对象（以“{”开头、“}”结尾的评估细则）")
    return value


def export_text(rubric: dict[str, Any]) -> str:
    """The rubric as the file a clerk downloads and can import again unchanged."""
    return json.dumps(rubric, ensure_ascii=False, indent=2) + "\n"
