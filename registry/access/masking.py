"""How resident ID and phone numbers are shown: masked, in every output, for every role.

One place for the masks (`1201************67`, `138****1234`) and for the application form's
personal fields, wherever they sit in it. A full number is shown only where its owner edits
its own draft, or when a district reviewer or approver asks for it with a reason
(registry.access.reveal), which is audited.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from workflows.identity import mask_resident_id

__all__ = [
    "FORM_FIELDS",
    "MASK",
    "is_masked",
    "mask_contact",
    "mask_email",
    "mask_form",
    "mask_phone",
    "mask_resident_id",
    "mask_text",
    "masked_leaf",
    "parse_path",
    "personal_paths",
    "restore_masked",
    "value_at",
]

MASK = "*"
# A landline as written in forms: 022-23456789, (022)2345-6789.
PHONE_CHARACTERS = re.compile(r"[\d\s()+\-]{7,}")
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def mask_phone(value: str) -> str:
    """138****1234: the first three and the last four digits of a phone number stay."""
    digits = [c for c in value if c.isdigit()]
    if len(digits) < 7:
        return MASK * len(value)
    return "".join(digits[:3]) + MASK * (len(digits) - 7) + "".join(digits[-4:])


def mask_email(value: str) -> str:
    """l***@feiyue.cn: the first character of the mailbox and the domain stay."""
    name, at, domain = value.partition("@")
    if not at:
        return mask_text(value)
    return (name[:1] + MASK * 3 + at + domain) if name else MASK * 3 + at + domain


def mask_text(value: str) -> str:
    """The first character and stars (free-text contact details)."""
    return value[:1] + MASK * max(len(value) - 1, 3) if value else value


def mask_contact(value: str) -> str:
    """A complaint's or objection's contact, whatever its form (phone, e-mail, other)."""
    if "@" in value:
        return mask_email(value.strip())
    if PHONE_CHARACTERS.fullmatch(value.strip()):
        return mask_phone(value)
    return mask_text(value)


def is_masked(value: object) -> bool:
    """Whether a value is (or contains) a mask: it was shown masked and sent back."""
    return isinstance(value, str) and MASK in value


# The application form's personal leaves, by key, wherever they are (organisation, staff[i],
# safety_plan), and how each is shown.
FORM_FIELDS: dict[str, Callable[[str], str]] = {
    "resident_id": mask_resident_id,
    "contact_phone": mask_phone,
    "emergency_phone": mask_phone,
}


def mask_form(form: Any) -> Any:
    """A copy of a form (or any JSON) with every personal leaf masked, at any depth."""
    if isinstance(form, dict):
        return {
            key: (
                FORM_FIELDS[key](value)
                if key in FORM_FIELDS and isinstance(value, str) and value
                else mask_form(value)
            )
            for key, value in form.items()
        }
    if isinstance(form, list):
        return [mask_form(item) for item in form]
    return form


def masked_leaf(path: str, value: Any) -> Any:
    """A single leaf of a form (as in a diff, by its path) masked when it is personal."""
    key = path.rsplit(".", 1)[-1].split("[", 1)[0]
    if key in FORM_FIELDS and isinstance(value, str) and value:
        return FORM_FIELDS[key](value)
    return value


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """(path, key, value) of every personal leaf, in the form's order."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key in FORM_FIELDS and isinstance(item, str):
                if item:
                    yield path, key, item
            else:
                yield from _leaves(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{prefix}[{index}]")


def personal_paths(form: Any) -> list[str]:
    """The paths of the form's personal leaves that hold a value (`staff[1].resident_id`)."""
    return [path for path, _, _ in _leaves(form)]


def parse_path(path: str) -> list[str | int] | None:
    """`staff[1].resident_id` as ["staff", 1, "resident_id"]; None if it is not such a path."""
    steps: list[str | int] = []
    for part in path.split("."):
        match = _STEP.fullmatch(part)
        if match is None:
            return None
        steps.append(match.group(1))
        steps += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    return steps


def value_at(form: Any, path: str) -> str | None:
    """The personal leaf at `path` of a form, or None (not personal, absent, not text)."""
    steps = parse_path(path)
    if not steps or steps[-1] not in FORM_FIELDS:
        return None
    node = form
    for step in steps:
        node = _child(node, step)
    return node if isinstance(node, str) and node else None


def _child(node: Any, step: str | int) -> Any:
    """node[step] when it exists, else None."""
    if isinstance(step, int):
        return node[step] if isinstance(node, list) and step < len(node) else None
    return node.get(step) if isinstance(node, dict) else None


def restore_masked(sent: Any, stored: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """The sent form with every mask sent back replaced by the stored number it stands for.

    A client shown a masked form may save it back: a mask is never a new value. It stands for
    the stored number at the same path when that number shows as this mask, else for the one
    stored number of the same kind that does (a staff row moved). The paths of masks that
    stand for no stored number are returned: the save must be refused, not store a mask.
    """
    by_mask: dict[tuple[str, str], list[str]] = {}
    at_path: dict[str, str] = {}
    for path, key, value in _leaves(stored):
        at_path[path] = value
        by_mask.setdefault((key, FORM_FIELDS[key](value)), []).append(value)
    restored = copy.deepcopy(sent)
    unresolved: list[str] = []
    for path, key, value in list(_leaves(restored)):
        if not is_masked(value):
            continue
        same = at_path.get(path)
        if same is not None and FORM_FIELDS[key](same) == value:
            original = same
        else:
            candidates = set(by_mask.get((key, value), []))
            if len(candidates) != 1:
                unresolved.append(path)
                continue
            original = candidates.pop()
        _set(restored, path, original)
    return restored, unresolved


def _set(form: Any, path: str, value: str) -> None:
    steps = parse_path(path)
    assert steps
    node = form
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = value
