"""A form field's path in words, from the schema's titles: 课程 1 · 上课时段 2 · 结束时间.

Paths are the error notation every part of the registry shares (`courses[0].weekly_schedule[1]
.end`); people read the titles instead, each list item numbered from 1 as on the form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _resolve(root: Mapping[str, Any], node: Any) -> Mapping[str, Any]:
    """A node with its local `$ref` followed (keywords beside the $ref win)."""
    for _ in range(10):
        if not isinstance(node, Mapping) or not isinstance(node.get("$ref"), str):
            break
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node if isinstance(node, Mapping) else {}


def field_label(root: Mapping[str, Any], path: str) -> str:
    """The field at `path` in words; a part the schema does not know keeps its own name."""
    tokens = [(m.group(1), m.group(2)) for m in _TOKEN.finditer(path.removeprefix("form."))]
    node: Mapping[str, Any] = _resolve(root, root)
    parts: list[str] = []
    for position, (key, index) in enumerate(tokens):
        if index is not None:
            node = _resolve(root, node.get("items", {}))
            parts.append(f"{node.get('title') or '第'} {int(index) + 1}")
            continue
        properties = node.get("properties")
        child = properties.get(key) if isinstance(properties, Mapping) else None
        node = _resolve(root, child)
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        # A list followed by its index is named by the item ("课程 1"), not by the list too.
        if following is None or following[1] is None:
            parts.append(str(node.get("title") or key))
    return " · ".join(parts)
