"""A form rendered from a JSON Schema, and the posted fields parsed back into JSON.

`build` walks the schema (objects become fieldsets with their `title`, arrays repeated rows
with a blank `<template>` row, strings/numbers/dates/enums/booleans inputs) and returns a tree
of `Field`s that `provider/_fields.html` renders. Field names are paths in the schemas' error
notation, `courses[0].weekly_schedule[1].end`, so a validation error's `field` finds its input.
`parse_fields` turns the posted names and values back into the nested JSON, typed by the schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from registry.reference import CATEGORY_LABELS
from workflows.checks import GRADE_BANDS

Path = tuple[str | int, ...]

# Labels of enum values the schema does not label itself (an `x-labels` map wins).
ENUM_LABELS: dict[str, str] = {
    **CATEGORY_LABELS,
    **GRADE_BANDS,
    "organisation": "机构",
    "individual": "个人",
}
# Integer fields shown as a choice, by property name.
INTEGER_CHOICES: dict[str, dict[int, str]] = {
    "weekday": {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五"},
}
# Page hints in place of the schema's descriptions where those are written for API clients
# ("填 null", "序号从0开始"), by the path's names without row numbers.
PAGE_HINTS: dict[tuple[str, ...], str] = {
    ("courses", "staff"): "从上面填写的从业人员中选择；新增或改名的从业人员会出现在选项里。",
    ("staff", "certificates", "valid_until"): "长期有效的证书不填。",
}
# Lists whose items point at a staff member by number: chosen by name from the staff list.
STAFF_REFERENCES: tuple[str, ...] = ("courses", "staff")
_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")
_NAME_RE = re.compile(r"^[A-Za-z_]\w*(\[\d+\])*(\.[A-Za-z_]\w*(\[\d+\])*)*$")
_TOKEN_RE = re.compile(r"[A-Za-z_]\w*|\[(\d+)\]")


@dataclass
class Field:
    """One node of the rendered form."""

    kind: str  # object, array, text, textarea, number, date, time, select, checks
    name: str
    title: str
    description: str = ""
    required: bool = False
    value: Any = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    template: Field | None = None
    placeholder: str = ""
    item_title: str = ""
    # A select whose options the page keeps in step with another part of the form ("staff").
    source: str = ""

    @property
    def anchor(self) -> str:
        """An id-safe form of the name, for links from the problem list."""
        return anchor_of(self.name)


def anchor_of(name: str) -> str:
    """f-courses-0-name from courses[0].name."""
    return "f-" + re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-")


def field_name(path: Iterable[str | int]) -> str:
    """courses[0].weekly_schedule[1].end from ('courses', 0, 'weekly_schedule', 1, 'end')."""
    out = ""
    for part in path:
        if isinstance(part, int) or part.startswith("__"):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def resolve(root: Mapping[str, Any], node: Any) -> dict[str, Any]:
    """A schema node with local `$ref`s merged in (keywords beside the $ref win)."""
    for _ in range(10):
        if not isinstance(node, Mapping) or not isinstance(node.get("$ref"), str):
            break
        target: Any = root
        for token in node["$ref"].removeprefix("#/").split("/"):
            target = target.get(token, {}) if isinstance(target, Mapping) else {}
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}, "x-ref": node["$ref"]}
    return dict(node) if isinstance(node, Mapping) else {}


def _types(node: Mapping[str, Any]) -> list[str]:
    kind = node.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _label(node: Mapping[str, Any], value: object) -> str:
    labels = node.get("x-labels") or {}
    return str(labels.get(str(value)) or ENUM_LABELS.get(str(value)) or value)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _keys(path: Path) -> tuple[str, ...]:
    """The path's property names, without row numbers or template placeholders."""
    return tuple(p for p in path if isinstance(p, str) and not p.startswith("__"))


def _description(node: Mapping[str, Any], path: Path) -> str:
    return PAGE_HINTS.get(_keys(path), str(node.get("description") or ""))


def staff_options(form: object) -> list[tuple[str, str]]:
    """(number, name) of each staff member in the form, the number being what is stored."""
    staff = form.get("staff") if isinstance(form, Mapping) else None
    rows = staff if isinstance(staff, list) else []
    return [
        (str(index), str(row.get("name") or "").strip() if isinstance(row, Mapping) else "")
        for index, row in enumerate(rows)
    ]


def _named(options: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(value, name or f"从业人员 {int(value) + 1}") for value, name in options]


def staff_choices(form: object) -> list[tuple[int, str]]:
    """(number, name) to choose a staff member by name (a nameless one by its row)."""
    return [(int(value), name) for value, name in _named(staff_options(form))]


def _scalar(
    node: dict[str, Any],
    path: Path,
    value: object,
    required: bool,
    staff: list[tuple[str, str]] | None = None,
) -> Field:
    title = str(node.get("title") or path[-1])
    common = {"name": field_name(path), "title": title, "required": required}
    common["description"] = _description(node, path)
    types = _types(node)
    key = next((p for p in reversed(path) if isinstance(p, str) and not p.startswith("__")), "")
    if _keys(path) == STAFF_REFERENCES and len(path) > len(STAFF_REFERENCES):
        # Stored as the staff member's number, as the schema expects; chosen by name.
        options = _keep(_named(staff or []), value)
        return Field("select", value=_text(value), options=options, source="staff", **common)
    if "enum" in node:
        options = [(str(v), _label(node, v)) for v in node["enum"]]
        return Field("select", value=_text(value), options=_keep(options, value), **common)
    if "boolean" in types:
        options = [("true", "是"), ("false", "否")]
        return Field("select", value=_text(value), options=_keep(options, value), **common)
    if "integer" in types and key in INTEGER_CHOICES:
        options = [(str(k), v) for k, v in INTEGER_CHOICES[key].items()]
        return Field("select", value=_text(value), options=_keep(options, value), **common)
    if "integer" in types or "number" in types:
        return Field("number", value=_text(value), **common)
    if node.get("format") == "date":
        return Field("date", value=_text(value), **common)
    if str(node.get("x-ref", "")).endswith("/hhmm"):
        return Field("time", value=_text(value), **common)
    if int(node.get("maxLength") or 0) > 500 or int(node.get("minLength") or 0) >= 10:
        return Field("textarea", value=_text(value), **common)
    return Field("text", value=_text(value), **common)


def _keep(options: list[tuple[str, str]], value: object) -> list[tuple[str, str]]:
    # A value the schema does not allow is still shown, so what was typed is not lost.
    text = _text(value)
    if text and text not in {v for v, _ in options}:
        return [*options, (text, text)]
    return options


def build(
    root: Mapping[str, Any],
    value: object,
    errors: Mapping[str, list[str]] | None = None,
    node: Any = None,
    path: Path = (),
    required: bool = False,
    depth: int = 0,
    staff: list[tuple[str, str]] | None = None,
) -> Field:
    """The Field tree of `value` under the schema `root` (or its sub-`node` at `path`)."""
    errors = errors or {}
    if staff is None:
        staff = staff_options(value)  # the whole form: whom course staff may name
    node = resolve(root, root if node is None else node)
    name = field_name(path)
    title = str(node.get("title") or (path[-1] if path else ""))
    description = _description(node, path)
    types = _types(node)
    if "object" in types and "properties" in node:
        current = value if isinstance(value, Mapping) else {}
        needed = set(node.get("required", []))
        children = [
            build(root, current.get(key), errors, sub, (*path, key), key in needed, depth, staff)
            for key, sub in node["properties"].items()
        ]
        own = list(errors.get(name, [])) if name else []
        return Field("object", name, title, description, required, None, [], own, children)
    if "array" in types:
        item = resolve(root, node.get("items", {}))
        if "enum" in item:
            chosen = [_text(v) for v in value] if isinstance(value, list) else []
            options = [(str(v), _label(item, v)) for v in item["enum"]]
            for extra in chosen:
                options = _keep(options, extra)
            result = Field("checks", name, title, description, required, chosen, options)
        else:
            rows = list(value) if isinstance(value, list) else []
            if not rows and int(node.get("minItems") or 0) > 0:
                rows = [None]  # show one blank row of a list that needs at least one
            children = [
                build(root, row, errors, item, (*path, index), False, depth + 1, staff)
                for index, row in enumerate(rows)
            ]
            placeholder = f"__{depth}__"
            template = build(root, None, {}, item, (*path, placeholder), False, depth + 1, staff)
            result = Field(
                "array", name, title, description, required, None, [], [], children, template
            )
            result.placeholder = placeholder
            result.item_title = str(item.get("title") or "一项")
        result.errors = list(errors.get(name, []))
        return result
    result = _scalar(node, path, value, required, staff)
    result.errors = list(errors.get(name, []))
    return result


def names(tree: Field) -> set[str]:
    """Every field name rendered (for finding problems that have no field on the page)."""
    found = {tree.name}
    for child in tree.children:
        found |= names(child)
    return found


def location(root: Mapping[str, Any], name: str) -> str:
    """Which rows a field is in, for a list of problems: '课程 3 · 上课时段 1'."""
    path = split_name(name) or []
    parts = []
    for end, part in enumerate(path):
        node = schema_at(root, path[: end + 1]) if isinstance(part, int) else None
        if node is not None and isinstance(part, int):
            parts.append(f"{node.get('title') or '第'}{part + 1}")
    return " · ".join(parts)


# --- parsing -------------------------------------------------------------------------------


class _Rows(dict[int, Any]):
    """An array being assembled: index → item (indexes may have gaps after deletions)."""


def split_name(name: str) -> list[str | int] | None:
    """('courses', 0, 'end') from 'courses[0].end'; None for a name that is not a field path."""
    if not _NAME_RE.fullmatch(name):
        return None
    return [int(m.group(1)) if m.group(1) else m.group(0) for m in _TOKEN_RE.finditer(name)]


def schema_at(root: Mapping[str, Any], path: Iterable[str | int]) -> dict[str, Any] | None:
    """The schema describing the value at `path`, or None if the schema has no such place."""
    node = resolve(root, root)
    for part in path:
        if isinstance(part, int):
            if "array" not in _types(node):
                return None
            node = resolve(root, node.get("items", {}))
        else:
            properties = node.get("properties")
            if not isinstance(properties, Mapping) or part not in properties:
                return None
            node = resolve(root, properties[part])
    return node


def coerce(node: Mapping[str, Any], text: str) -> Any:
    """A posted string as the JSON value the schema expects; the text itself if it is not one."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return None
    types = set(_types(node))
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    for option in node.get("anyOf", []):
        types |= set(_types(option)) if isinstance(option, Mapping) else set()
    if types & {"integer", "number"} and _NUMBER_RE.fullmatch(text):
        if "." not in text:
            return int(text)
        # 1.5 where only integers are allowed stays text, so the error names it.
        return float(text) if "number" in types else text
    return text


def parse_fields(pairs: Iterable[tuple[str, str]], root: Mapping[str, Any]) -> dict[str, Any]:
    """The nested JSON of posted fields; blank inputs and fully blank rows are left out."""
    tree: dict[str, Any] = {}
    for name, raw in pairs:
        path = split_name(name)
        node = schema_at(root, path) if path else None
        if path is None or node is None or not isinstance(raw, str):
            continue  # control fields (_csrf_token, _op, version) and unknown names
        types = _types(node)
        many = "array" in types and "enum" in resolve(root, node.get("items", {}))
        if many:
            value: Any = raw.strip() or None
        elif {"object", "array"} & set(types):
            continue  # a whole section posted as one value: not something the form sends
        else:
            value = coerce(node, raw)
        if value is None and "null" not in types:
            continue
        _put(tree, path, value, many)
    return _finish(tree)


def _put(tree: dict[str, Any], path: list[str | int], value: Any, many: bool) -> None:
    container: Any = tree
    for part, following in zip(path, [*path[1:], None], strict=True):
        if following is None:
            if many:
                container.setdefault(part, []).append(value)
            else:
                container[part] = value
            return
        if part not in container:
            container[part] = _Rows() if isinstance(following, int) else {}
        container = container[part]
        if not isinstance(container, dict):
            return  # a clash between a value and a section of the same name: ignore it


def _blank(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_blank(v) for v in value.values())
    return value is None


def _finish(value: Any) -> Any:
    if isinstance(value, _Rows):
        items = [_finish(value[index]) for index in sorted(value)]
        return [item for item in items if not _blank(item)]
    if isinstance(value, dict):
        done = {key: _finish(item) for key, item in value.items()}
        return {key: item for key, item in done.items() if item not in ([], {})}
    return value


def edit_rows(form: dict[str, Any], op: str, root: Mapping[str, Any]) -> dict[str, Any]:
    """Apply an 'add:courses' or 'remove:courses[1]' button pressed without JavaScript."""
    verb, _, target = op.partition(":")
    path = split_name(target)
    node = schema_at(root, path) if path else None
    if not path or node is None:
        return form
    parent: Any = form
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return form
    last = path[-1]
    if verb == "add" and isinstance(parent, dict) and "array" in _types(node):
        rows = parent.setdefault(last, [])
        item = resolve(root, node.get("items", {}))
        if isinstance(rows, list):
            rows.append({} if "object" in _types(item) else None)
    elif (
        verb == "remove"
        and isinstance(parent, list)
        and isinstance(last, int)
        and last < len(parent)
    ):
        del parent[last]
    return form
