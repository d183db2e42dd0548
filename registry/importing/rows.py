"""Normalising and validating a whitelist's rows: headers, categories, projects, names, dates."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.importing.reading import ImportFileError, RawRow
from workflows.identity import uscc_problem

NAME_MAX = 128
# Header words (normalised: NFKC, no spaces, lower case) → our field.
HEADERS: dict[str, str] = {
    **dict.fromkeys(("机构名称", "名称", "机构", "单位名称", "name", "organisation"), "name"),
    **dict.fromkeys(("organization", "organisationname", "organizationname"), "name"),
    **dict.fromkeys(("类别", "类型", "服务类别", "项目类别", "category", "categories"), "category"),
    **dict.fromkeys(("项目", "服务项目", "课程", "课程名称", "projects", "courses"), "projects"),
    **dict.fromkeys(("统一社会信用代码", "信用代码", "uscc"), "uscc"),
    **dict.fromkeys(
        ("有效期至", "有效期", "有效期截止", "valid_until", "validuntil"), "valid_until"
    ),
}
REQUIRED = ("name", "category", "projects")
FIELD_LABELS = {
    "name": "机构名称",
    "category": "类别",
    "projects": "项目",
    "uscc": "统一社会信用代码",
    "valid_until": "有效期至",
    "row": "整行",
}
# The words districts have used → our category codes. 综合实践 (comprehensive practice) is, in
# Tianjin's after-school lists, hands-on practice and labour education, so it maps to labour.
CATEGORY_WORDS: dict[str, str] = {
    **dict.fromkeys(("体育", "sports", "sport"), "sports"),
    **dict.fromkeys(("艺术", "文化艺术", "文艺", "arts", "art"), "arts"),
    **dict.fromkeys(("科技", "科学", "科创", "科技创新", "science"), "science"),
    **dict.fromkeys(("劳动", "劳动教育", "综合实践", "劳动实践", "labour", "labor"), "labour"),
    **dict.fromkeys(("阅读", "reading"), "reading"),
    **dict.fromkeys(("传统文化", "非遗", "传统文化/非遗", "heritage"), "heritage"),
    **dict.fromkeys(("思政", "红色文化", "思政/红色文化", "civics"), "civics"),
    **dict.fromkeys(("心理健康", "心理", "mental_health", "mentalhealth"), "mental_health"),
    **dict.fromkeys(("其他", "其它", "other"), "other"),
}
# After NFKC, full-width ，； are , ; — so these cover both widths.
CATEGORY_SPLIT = re.compile(r"[、,;\s]+")
PROJECT_SPLIT = re.compile(r"[;；、\n]+")
DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)


def fold(text: str) -> str:
    """Full-width → half-width (letters, digits, brackets, spaces), as Unicode NFKC does."""
    return unicodedata.normalize("NFKC", text)


def name_key(name: str) -> str:
    """The key names are matched by: widths, brackets, spaces and case do not count."""
    return re.sub(r"\s+", "", fold(name)).casefold()


def header_field(cell: Any) -> str | None:
    """Our field for a header cell, or None for a column we do not read (序号, 备注…)."""
    word = re.sub(r"[\s\-]+", "_", fold(str(cell)).strip()).lower()
    return HEADERS.get(word) or HEADERS.get(word.replace("_", ""))


@dataclass(frozen=True)
class Problem:
    """A bad row: its number as Excel shows it, the field and the reason (Chinese)."""

    row: int
    field: str
    message: str

    @property
    def label(self) -> str:
        """The field's Chinese name."""
        return FIELD_LABELS.get(self.field, self.field)

    @property
    def text(self) -> str:
        """第5行 类别：未知的类别“书画”."""
        return f"第{self.row}行 {self.label}：{self.message}"


@dataclass(frozen=True)
class Row:
    """A good row, normalised; `name` is as written (trimmed), `key` is what matches."""

    number: int
    name: str
    key: str
    categories: tuple[str, ...]
    projects: tuple[str, ...]
    uscc: str | None
    valid_until: date | None


@dataclass
class Parsed:
    """The good rows and the problems of one file."""

    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def find_header(raw: list[RawRow]) -> tuple[int, dict[int, str]]:
    """The header row (a title row above it is allowed) and its column → field map."""
    for index, row in enumerate(raw[:10]):
        columns = {i: f for i, c in enumerate(row.cells) if (f := header_field(c))}
        if "name" in columns.values():
            missing = [FIELD_LABELS[f] for f in REQUIRED if f not in columns.values()]
            if missing:
                raise ImportFileError(f"表头缺少列：{'、'.join(missing)}")
            return index, columns
    raise ImportFileError("找不到表头：第一行应包含 机构名称/name、类别/category、项目/projects")


def parse_categories(text: str) -> tuple[list[str], list[str]]:
    """Our codes for a category cell, and the words we do not know."""
    codes: list[str] = []
    unknown: list[str] = []
    for word in CATEGORY_SPLIT.split(fold(text).strip()):
        if not word:
            continue
        code = CATEGORY_WORDS.get(word.lower())
        if code is None:
            unknown.append(word)
        elif code not in codes:
            codes.append(code)
    return codes, unknown


def parse_projects(text: str) -> tuple[str, ...]:
    """Project names as written, trimmed, without repeats."""
    names = [p.strip() for p in PROJECT_SPLIT.split(text)]
    return tuple(dict.fromkeys(n for n in names if n))


def parse_date(value: Any) -> date:
    """A date from an Excel date cell, 2027-08-31, 2027/8/31 or 2027年8月31日."""
    if isinstance(value, date):
        return value
    text = re.sub(r"\s+", "", fold(str(value)))
    for pattern in DATE_PATTERNS:
        if match := pattern.match(text):
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
    raise ValueError(text)


def _row(raw: RawRow, columns: dict[int, str], today: date) -> tuple[Row | None, list[Problem]]:
    values: dict[str, Any] = {f: "" for f in HEADERS.values()}
    for index, name in columns.items():
        if index < len(raw.cells) and values[name] in ("", None):
            values[name] = raw.cells[index]
    problems: list[Problem] = []

    def bad(field_name: str, message: str) -> None:
        problems.append(Problem(raw.number, field_name, message))

    name = str(values["name"]).strip()
    if not name:
        bad("name", "机构名称为空")
    elif len(name) > NAME_MAX:
        bad("name", f"机构名称过长（{len(name)}字，最多{NAME_MAX}字）")
    categories, unknown = parse_categories(str(values["category"]))
    for word in unknown:
        bad("category", f"未知的类别“{word}”")
    if not categories and not unknown:
        bad("category", "类别为空")
    uscc = re.sub(r"\s+", "", fold(str(values["uscc"]))).upper() or None
    if uscc is not None and (problem := uscc_problem(uscc)):
        bad("uscc", problem)
    valid_until: date | None = None
    if values["valid_until"] not in ("", None):
        try:
            valid_until = parse_date(values["valid_until"])
        except ValueError:
            bad("valid_until", f"日期格式有误“{values['valid_until']}”，应如 2027-08-31")
        else:
            if valid_until < today:
                bad("valid_until", f"有效期已于 {valid_until} 届满")
    if problems:
        return None, problems
    row = Row(
        raw.number,
        name,
        name_key(name),
        tuple(categories),
        parse_projects(str(values["projects"])),
        uscc,
        valid_until,
    )
    return row, []


def parse(raw: list[RawRow], today: date) -> Parsed:
    """Validate every row after the header; a row repeated in the file is a problem too."""
    header, columns = find_header(raw)
    parsed = Parsed()
    seen: dict[str, int] = {}
    for line in raw[header + 1 :]:
        if all(str(c).strip() == "" for c in line.cells):
            continue
        row, problems = _row(line, columns, today)
        parsed.problems.extend(problems)
        if row is None:
            continue
        keys = [f"name:{row.key}"] + ([f"uscc:{row.uscc}"] if row.uscc else [])
        first = next((seen[k] for k in keys if k in seen), None)
        if first is not None:
            parsed.problems.append(Problem(row.number, "row", f"与第{first}行重复"))
            continue
        seen.update(dict.fromkeys(keys, row.number))
        parsed.rows.append(row)
    if not parsed.rows and not parsed.problems:
        raise ImportFileError("文件中没有数据行")
    return parsed
