"""Versioned JSON Schemas (application form, district policy) and their validation.

Every schema is a package file ``<name>.json`` with an ``$id``; a stored submission keeps the
``$id`` it was validated against. Validation reports every problem at once, each as a
``FieldError`` whose message is Chinese and names the field by its schema ``title``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

__all__ = [
    "APPLICATION",
    "FEEDBACK",
    "POLICY",
    "RUBRIC",
    "SCHEMA_VERSION",
    "SELF_REPORT",
    "FieldError",
    "city_default_policy",
    "city_default_rubric",
    "city_policy_under",
    "load_schema",
    "merge_policy",
    "schema_id",
    "validate",
]

APPLICATION = "application.v1"
POLICY = "policy.v1"
RUBRIC = "rubric.v1"
FEEDBACK = "feedback.v1"
SELF_REPORT = "self_report.v1"
SCHEMA_VERSION = f"{APPLICATION}+{POLICY}"

_NAME_RE = re.compile(r"^[a-z][a-z_]*\.v[0-9]+$")
_CITY_POLICY_FILE = "city_policy.json"
_CITY_RUBRIC_FILE = "city_rubric.json"


@dataclass(frozen=True)
class FieldError:
    """One validation problem: where (dotted/indexed path), what (keyword), a Chinese message."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Return the error as a plain dict for JSON responses."""
        return {"field": self.field, "code": self.code, "message": self.message}


# --- loading -------------------------------------------------------------------------------


def _read_json(filename: str) -> Any:
    return json.loads(resources.files(__name__).joinpath(filename).read_text(encoding="utf-8"))


@functools.cache
def _schema(name: str) -> dict[str, Any]:
    # The name becomes a file name, so only well-formed schema names are accepted.
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"unknown schema: {name!r}")
    try:
        schema = _read_json(f"{name}.json")
    except FileNotFoundError:
        raise ValueError(f"unknown schema: {name!r}") from None
    Draft202012Validator.check_schema(schema)
    return schema


def load_schema(name: str) -> dict[str, Any]:
    """Return the schema ``name`` (e.g. ``APPLICATION``); read once, a fresh copy per call."""
    # A copy, so a caller that edits the dict cannot change what later validations check.
    return copy.deepcopy(_schema(name))


def schema_id(name: str) -> str:
    """Return the ``$id`` of the schema ``name``."""
    return str(_schema(name)["$id"])


@functools.cache
def _city_policy() -> dict[str, Any]:
    return _read_json(_CITY_POLICY_FILE)


def city_default_policy() -> dict[str, Any]:
    """Return a deep copy of the city's default policy (``city_policy.json``)."""
    return copy.deepcopy(_city_policy())


def city_policy_under(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The city's default policy with a district's overrides merged in: a new dict.

    merge_policy copies the default itself, so the file's policy is copied once, not twice
    (each transition reads its district's policy)."""
    return merge_policy(_city_policy(), overrides)


@functools.cache
def _city_rubric() -> dict[str, Any]:
    return _read_json(_CITY_RUBRIC_FILE)


def city_default_rubric() -> dict[str, Any]:
    """Return a deep copy of the city's default evaluation rubric (``city_rubric.json``)."""
    return copy.deepcopy(_city_rubric())


def merge_policy(default: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge a district's overrides onto a default: dicts merge key-wise, the rest replace."""
    merged = copy.deepcopy(dict(default))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_policy(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# --- validator classes ---------------------------------------------------------------------

# jsonschema reports a missing key or an unknown key on the parent object; these two keywords
# report one error per key, on the key's own path, so a form can mark the exact field.


def _required(
    validator: Any, required: list[str], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for prop in required:
        if prop not in instance:
            yield ValidationError(f"{prop!r} is a required property", path=(prop,))


def _required_skipped(
    validator: Any, required: list[str], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    # Partial mode: a district override (or a draft) legitimately omits keys.
    yield from ()


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if additional is not False or not validator.is_type(instance, "object"):
        yield from Draft202012Validator.VALIDATORS["additionalProperties"](
            validator, additional, instance, schema
        )
        return
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    for key in instance:
        if key not in known and not any(re.search(p, str(key)) for p in patterns):
            yield ValidationError(f"{key!r} is not allowed", path=(key,))


_FullValidator = validators.extend(
    Draft202012Validator,
    {"required": _required, "additionalProperties": _additional_properties},
)
_PartialValidator = validators.extend(
    Draft202012Validator,
    {"required": _required_skipped, "additionalProperties": _additional_properties},
)


@functools.cache
def _validator(name: str, partial: bool) -> Any:
    cls = _PartialValidator if partial else _FullValidator
    # Without a FormatChecker jsonschema treats "format" as an annotation and checks nothing.
    return cls(_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(name: str, instance: object, *, partial: bool = False) -> list[FieldError]:
    """Return every problem of ``instance`` against schema ``name``, sorted by field path."""
    # partial=True skips missing required keys at every level (district policy overrides,
    # drafts); everything that is present is still checked.
    schema = _schema(name)
    found: dict[tuple[Any, ...], FieldError] = {}
    for error in _validator(name, partial).iter_errors(instance):
        field_error = _to_field_error(error, schema)
        # Keyed by content: combinators can report the same problem twice.
        key = (_path_key(error.path), field_error.code, field_error.message)
        found.setdefault(key, field_error)
    return [found[key] for key in sorted(found)]


def _path_key(path: Iterable[str | int]) -> tuple[tuple[int, int, str], ...]:
    # Indexes compare as numbers, so courses[2] comes before courses[10].
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in path)


def _field_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


# --- messages ------------------------------------------------------------------------------

_TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是或否",
    "array": "列表",
    "object": "对象",
    "null": "空值",
}

_TEMPLATES = {
    "required": "{title}为必填项",
    "type": "{title}应为{expected}",
    "pattern": "{title}格式不正确",
    "format": "{title}格式不正确",
    "minimum": "{title}不能小于{limit}",
    "maximum": "{title}不能大于{limit}",
    "exclusiveMinimum": "{title}必须大于{limit}",
    "exclusiveMaximum": "{title}必须小于{limit}",
    "multipleOf": "{title}必须是{limit}的整数倍",
    "minLength": "{title}不能少于{limit}个字",
    "maxLength": "{title}不能超过{limit}个字",
    "minItems": "{title}至少需要{limit}项",
    "maxItems": "{title}最多只能有{limit}项",
    "uniqueItems": "{title}中有重复项",
    "enum": "{title}的取值“{value}”不在允许范围内",
    "const": "{title}的取值不正确",
    "additionalProperties": "“{name}”不是{title}中允许的字段",
    "minProperties": "{title}至少需要{limit}项",
    "maxProperties": "{title}最多只能有{limit}项",
    "not": "{title}的取值不被允许",
}
_FALLBACK = "{title}不符合要求"
_FORMAT_TEMPLATES = {"date": "{title}不是有效日期，应为YYYY-MM-DD格式"}
_AT_LEAST_ONE = {"minLength": "{title}不能为空", "minItems": "{title}至少需要填写1项"}


def _to_field_error(error: ValidationError, root: Mapping[str, Any]) -> FieldError:
    """Turn one jsonschema error into a FieldError; the only place messages are made."""
    keyword = str(error.validator) if error.validator is not None else "false"
    path = list(error.path)
    if keyword == "additionalProperties" and path:
        # The unknown key has no schema of its own: name it and its parent's title.
        node = _subschema(root, path[:-1])
    else:
        node = _subschema(root, path)
    title = _title(node, error, path, root)
    limit = error.validator_value

    template = _custom_template(error.schema, keyword) or _custom_template(node, keyword)
    if template is None:
        if keyword == "format":
            template = _FORMAT_TEMPLATES.get(str(limit), _TEMPLATES["format"])
        elif keyword in _AT_LEAST_ONE and limit == 1:
            template = _AT_LEAST_ONE[keyword]
        else:
            template = _TEMPLATES.get(keyword, _FALLBACK)
    values = {
        "title": title,
        "limit": _number(limit),
        "expected": _type_names(limit) if keyword == "type" else "",
        "name": str(path[-1]) if path else "",
        # Only enum/const echo the value: others may be personal data (ID numbers).
        "value": _short(error.instance) if keyword in ("enum", "const") else "",
    }
    return FieldError(_field_path(path), keyword, template.format_map(_Blank(values)))


class _Blank(dict[str, str]):
    # A schema-supplied template may name a placeholder this keyword has no value for.
    def __missing__(self, key: str) -> str:
        return ""


def _custom_template(schema: object, keyword: str) -> str | None:
    if isinstance(schema, Mapping):
        template = schema.get("x-messages", {}).get(keyword)
        if isinstance(template, str):
            return template
    return None


def _title(
    node: Mapping[str, Any] | None,
    error: ValidationError,
    path: list[str | int],
    root: Mapping[str, Any],
) -> str:
    if node is not None and node.get("title"):
        return str(node["title"])
    if isinstance(error.schema, Mapping) and error.schema.get("title"):
        return str(error.schema["title"])
    named = [p for p in path if isinstance(p, str)]
    return named[-1] if named else str(root.get("title", ""))


def _subschema(root: Mapping[str, Any], path: Iterable[str | int]) -> Mapping[str, Any] | None:
    """Find the schema that describes the instance at ``path`` (properties/items, local $refs)."""
    node: Any = root
    for part in path:
        node = _resolve(root, node)
        if not isinstance(node, Mapping):
            return None
        node = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
    node = _resolve(root, node)
    return node if isinstance(node, Mapping) else None


def _resolve(root: Mapping[str, Any], node: Any) -> Any:
    # Keywords beside a $ref (title, x-messages) win over the referenced definition's.
    for _ in range(10):
        if not isinstance(node, Mapping) or not isinstance(node.get("$ref"), str):
            return node
        target = _pointer(root, node["$ref"])
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _pointer(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    if not ref.startswith("#/"):
        return {}
    node: Any = root
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node.get(token) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def _type_names(expected: object) -> str:
    names = [expected] if isinstance(expected, str) else list(expected or [])
    return "或".join(_TYPE_NAMES.get(str(n), str(n)) for n in names)


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _short(value: object, limit: int = 20) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"
