"""The rubric as a clerk's form: flat field names in, a rubric dict and field messages out.

A form field is named by the rubric path it fills ("items[2].weight", "grades.pass",
"evidence.good.inspection"), the same path the schema's messages name, so a refusal lands
beside the input that caused it. Rows are numbered as the form numbers them; blank and removed
rows are skipped, so `Built.place` maps the rubric's indexes back to the form's rows.
No HTTP here: plain strings in, plain values out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas import FieldError
from workflows.scoring import GRADE_ORDER, SOURCE_LABELS

# Rows the form reads at most (the schema allows 12 items and 20 questions per item).
MAX_ROWS = 24
MAX_QUESTIONS = 30
BLANK_QUESTIONS = 2

TALLY_FIELDS = ("very_satisfied", "satisfied", "neutral", "dissatisfied")
SEVERITY_FIELDS = ("minor", "serious", "major")
# Which numbers each source takes; anything else typed in a row is refused, never dropped.
SOURCE_NUMBERS: dict[str, tuple[str, ...]] = {
    "school_feedback": ("weight",),
    "parent_satisfaction": ("weight", *(f"points.{k}" for k in TALLY_FIELDS)),
    "inspection": ("weight",),
    "self_report": ("weight", "late_score"),
    "upheld_complaints": ("per_complaint", "cap"),
    "safety_incidents": (*(f"per_severity.{k}" for k in SEVERITY_FIELDS), "cap"),
    "missing_self_report": ("deduct",),
}
ITEM_NUMBERS = tuple(dict.fromkeys(n for names in SOURCE_NUMBERS.values() for n in names))
NUMBER_TITLES = {
    "weight": "权重",
    "late_score": "逾期提交得分",
    "points.very_satisfied": "非常满意分值",
    "points.satisfied": "满意分值",
    "points.neutral": "一般分值",
    "points.dissatisfied": "不满意分值",
    "per_complaint": "每件查实投诉扣分",
    "per_severity.minor": "一般事故扣分",
    "per_severity.serious": "较大事故扣分",
    "per_severity.major": "重大事故扣分",
    "cap": "扣分上限",
    "deduct": "未提交自查报告扣分",
    "grades.excellent": "优秀等级线",
    "grades.good": "良好等级线",
    "grades.pass": "合格等级线",
    "satisfaction.threshold": "满意度退出线",
    "satisfaction.min_responses": "满意度规则最少问卷数",
    "rectification_below": "整改线",
    **{f"evidence.{g}.school_ratings": "最少学校评价数" for g in GRADE_ORDER},
    **{f"evidence.{g}.parent_responses": "最少家长问卷数" for g in GRADE_ORDER},
}
TOP_NUMBERS = (
    "grades.excellent",
    "grades.good",
    "grades.pass",
    *(f"evidence.{g}.{k}" for g in GRADE_ORDER for k in ("school_ratings", "parent_responses")),
    "satisfaction.threshold",
    "satisfaction.min_responses",
    "rectification_below",
)
CHECKBOXES = (
    "veto.major_incident",
    "veto.fee_violation",
    *(f"evidence.{g}.inspection" for g in GRADE_ORDER),
)
SECTION_TITLES = {
    "name": "细则名称",
    "items": "评估项目",
    "grades": "等级线",
    "evidence": "各等级最低证据",
    "satisfaction": "家长满意度规则",
    "rectification_below": "整改线",
    "veto": "一票否决",
}

_ROW = re.compile(r"^items\[(\d{1,3})\]\.")
_QUESTION = re.compile(r"^items\[(\d{1,3})\]\.questions\[(\d{1,3})\]\.")
_INTEGER = re.compile(r"^[+-]?\d{1,12}$")
_DECIMAL = re.compile(r"^[+-]?(\d{1,12}\.\d{0,6}|\.\d{1,6})$")
_ITEM_PATH = re.compile(r"^items\[(\d+)\](.*)$")
_QUESTION_PATH = re.compile(r"^\.questions\[(\d+)\](.*)$")


# --- rubric → form --------------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def form_values(rubric: Mapping[str, Any]) -> dict[str, str]:
    """The rubric's fields under their form names (tolerant of odd stored data)."""
    values: dict[str, str] = {"name": _text(rubric.get("name"))}

    def walk(prefix: str, node: object) -> None:
        if isinstance(node, Mapping):
            for key, child in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), child)
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(f"{prefix}[{index}]", child)
        else:
            values[prefix] = _text(node)

    for key in ("items", "grades", "evidence", "satisfaction", "rectification_below", "veto"):
        walk(key, rubric.get(key))
    return values


@dataclass(frozen=True)
class Row:
    """One item row of the form and the question rows inside it."""

    index: int
    questions: list[int]


def form_rows(values: Mapping[str, str], blank_rows: int = 0) -> list[Row]:
    """The item rows the values name, then `blank_rows` empty ones for new items.

    A fresh form (blank rows asked for) offers two empty question rows in every item row; a
    form posted back keeps the rows it had, and gives a row without questions two empty ones.
    """
    rows: dict[int, set[int]] = {}
    for name in values:
        found = _ROW.match(name)
        if found and int(found.group(1)) < MAX_ROWS:
            questions = rows.setdefault(int(found.group(1)), set())
            asked = _QUESTION.match(name)
            if asked and int(asked.group(2)) < MAX_QUESTIONS:
                questions.add(int(asked.group(2)))
    out = [Row(i, sorted(q)) for i, q in sorted(rows.items())]
    start = out[-1].index + 1 if out else 0
    out += [Row(start + n, []) for n in range(blank_rows)]
    return [
        Row(r.index, r.questions + _after(r.questions, BLANK_QUESTIONS))
        if blank_rows or not r.questions
        else r
        for r in out
    ]


def _after(taken: list[int], count: int) -> list[int]:
    start = max(taken) + 1 if taken else 0
    return [start + n for n in range(count) if start + n < MAX_QUESTIONS]


# --- form → rubric --------------------------------------------------------------------------


def _number(values: Mapping[str, str], name: str, title: str, problems: list[FieldError]) -> Any:
    """A typed number (int when whole), None when blank; a message when it is not a number."""
    typed = unicodedata.normalize("NFKC", values.get(name, "")).strip()
    if not typed:
        return None
    if _INTEGER.match(typed):
        return int(typed)
    if _DECIMAL.match(typed):
        return float(typed)
    problems.append(FieldError(name, "number", f"{title}应填写数字，例如 40 或 12.5"))
    return None


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


@dataclass
class Built:
    """A rubric built from the form, the form's own problems, and where each item came from."""

    rubric: dict[str, Any]
    problems: list[FieldError] = field(default_factory=list)
    item_rows: list[int] = field(default_factory=list)
    question_rows: list[list[int]] = field(default_factory=list)

    def place(self, errors: Iterable[Any]) -> list[FieldError]:
        """Schema and service messages renamed to the form fields they are about."""
        placed = []
        for error in errors:
            name = self._form_name(str(error.field))
            placed.append(FieldError(name, str(error.code), str(error.message)))
        return placed

    def _form_name(self, path: str) -> str:
        found = _ITEM_PATH.match(path)
        if not found or int(found.group(1)) >= len(self.item_rows):
            return path
        item, rest = int(found.group(1)), found.group(2)
        asked = _QUESTION_PATH.match(rest)
        questions = self.question_rows[item]
        if asked and int(asked.group(1)) < len(questions):
            rest = f".questions[{questions[int(asked.group(1))]}]{asked.group(2)}"
        return f"items[{self.item_rows[item]}]{rest}"


def build(values: Mapping[str, str]) -> Built:
    """The rubric the form describes; numbers that are not numbers become messages."""
    built = Built({})
    rubric = built.rubric
    rubric["name"] = values.get("name", "").strip()
    keys = {values.get(f"items[{r.index}].key", "").strip() for r in form_rows(values)}
    items = []
    for row in form_rows(values):
        item = _item(values, row, built, keys)
        if item is not None:
            items.append(item)
    rubric["items"] = items
    for name in TOP_NUMBERS:
        number = _number(values, name, NUMBER_TITLES[name], built.problems)
        if number is not None:
            _set(rubric, name, number)
    for name in CHECKBOXES:
        _set(rubric, name, bool(values.get(name)))
    for section in ("grades", "satisfaction"):
        rubric.setdefault(section, {})
    for grade in GRADE_ORDER:
        rubric["evidence"].setdefault(grade, {})
    if not rubric["name"]:
        del rubric["name"]
    return built


def _item(values: Mapping[str, str], row: Row, built: Built, keys: set[str]) -> Any:
    prefix = f"items[{row.index}]"
    if values.get(f"{prefix}.remove"):
        return None
    text = {k: values.get(f"{prefix}.{k}", "").strip() for k in ("key", "label", "source")}
    questions = [
        (
            q,
            values.get(f"{prefix}.questions[{q}].key", "").strip(),
            values.get(f"{prefix}.questions[{q}].label", "").strip(),
        )
        for q in row.questions
    ]
    questions = [(q, k, label) for q, k, label in questions if k or label]
    typed_numbers = [n for n in ITEM_NUMBERS if values.get(f"{prefix}.{n}", "").strip()]
    if not any(text.values()) and not questions and not typed_numbers:
        return None  # an empty row for a new item, left empty
    source = text["source"]
    item: dict[str, Any] = {
        "key": text["key"] or _new_key(source or "item", keys),
        "label": text["label"],
        "source": source,
    }
    for name in ("key", "label", "source"):
        if not item[name]:
            del item[name]
    if values.get(f"{prefix}.when_missing"):
        item["when_missing"] = values[f"{prefix}.when_missing"]
    allowed = SOURCE_NUMBERS.get(source)
    asked_rows: list[int] = []
    if allowed is not None:
        _numbers(values, prefix, source, allowed, item, built)
        asked_rows = _questions(prefix, source, questions, item, built)
    built.item_rows.append(row.index)
    built.question_rows.append(asked_rows)
    return item


def _numbers(
    values: Mapping[str, str],
    prefix: str,
    source: str,
    allowed: tuple[str, ...],
    item: dict[str, Any],
    built: Built,
) -> None:
    """The row's numbers that its source takes; one typed where it takes none is refused."""
    for name in ITEM_NUMBERS:
        form_name = f"{prefix}.{name}"
        if name not in allowed:
            if values.get(form_name, "").strip():
                message = (
                    f"数据来源为“{SOURCE_LABELS[source]}”的项目不填写{NUMBER_TITLES[name]}，请清空"
                )
                built.problems.append(FieldError(form_name, "not_applicable", message))
            continue
        number = _number(values, form_name, NUMBER_TITLES[name], built.problems)
        if number is not None:
            _set(item, name, number)


def _questions(
    prefix: str,
    source: str,
    questions: list[tuple[int, str, str]],
    item: dict[str, Any],
    built: Built,
) -> list[int]:
    """School-feedback questions (codes made up for rows left without one); their form rows."""
    if source != "school_feedback":
        message = f"数据来源为“{SOURCE_LABELS[source]}”的项目没有学校评价题目，请清空"
        for q, _, _ in questions:
            name = f"{prefix}.questions[{q}].label"
            built.problems.append(FieldError(name, "not_applicable", message))
        return []
    taken = {k for _, k, _ in questions if k}
    item["questions"] = []
    for _, key, label in questions:
        question = {"key": key or _new_key("q", taken, numbered=True), "label": label}
        if not label:
            del question["label"]
        item["questions"].append(question)
    return [q for q, _, _ in questions]


def _new_key(base: str, taken: set[str], *, numbered: bool = False) -> str:
    """A code for a row left without one: the source's name, or q1, q2… for questions."""
    candidates = (
        (f"{base}{n}" for n in range(1, 1000))
        if numbered
        else (base if n == 1 else f"{base}_{n}" for n in range(1, 1000))
    )
    key = next(c for c in candidates if c not in taken)
    taken.add(key)
    return key


# --- messages for the page -------------------------------------------------------------------


_SECTION_ORDER = ("name", "items", "grades", "rectification_below", "evidence", "satisfaction")


def order(field_name: str) -> tuple[int, int, str]:
    """A message's place on the form, top to bottom, for the list above it."""
    found = _ITEM_PATH.match(field_name)
    if found:
        return (1, int(found.group(1)), found.group(2))
    section = field_name.split(".")[0]
    rank = _SECTION_ORDER.index(section) if section in _SECTION_ORDER else len(_SECTION_ORDER)
    return (rank, -1, field_name)


def where(field_name: str, values: Mapping[str, str]) -> str:
    """Where a message belongs, in words: "第2项（家长满意度）", "等级线"…"""
    found = _ITEM_PATH.match(field_name)
    if found:
        row = int(found.group(1))
        label = values.get(f"items[{row}].label", "").strip()
        source = SOURCE_LABELS.get(values.get(f"items[{row}].source", ""), "")
        named = label or source
        return f"第{row + 1}项" + (f"（{named}）" if named else "")
    return SECTION_TITLES.get(field_name.split(".")[0].split("[")[0], "评估细则")
