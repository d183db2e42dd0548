"""Queries as parents and teachers type them, each with what must come first.

A case names the providers that are relevant by a rule over the demo-like world (district,
name, courses), not by a fixed list: the world is the demo planner's providers, so the rules
say what a person means ("南开篮球": a basketball provider in 南开区) and the suite measures
precision at 5: of the first min(5, relevant) results, the share that is relevant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
Rule = Callable[[Row], bool]


def in_name_or_course(*words: str) -> Rule:
    """Any of the words in the provider's name or one of its course names."""
    return lambda row: any(w in row["name"] or any(w in c for c in row["courses"]) for w in words)


def in_district(district: str, rule: Rule) -> Rule:
    """The rule, in the district (its name without 区/新区)."""
    return lambda row: row["district_name"].startswith(district) and rule(row)


def in_category(code: str) -> Rule:
    return lambda row: code in row["categories"]


@dataclass(frozen=True)
class Case:
    """A query, the rule for a relevant result, and what else the answer must say."""

    kind: str
    query: str
    relevant: Rule
    # A typo: the corrections the page may offer (the pinyin or its word); judged on that alone,
    # since what a typo finds as typed is no measure of the search.
    suggestion: tuple[str, ...] = ()
    partial: bool = False  # nothing matches every word: a partial match, said so
    top: int = 5
    extra: dict[str, Any] = field(default_factory=dict)


BASKETBALL = in_name_or_course("篮球")
FOOTBALL = in_name_or_course("足球")
CALLIGRAPHY = in_name_or_course("书法")
GO = in_name_or_course("围棋")
DANCE = in_name_or_course("舞", "街舞", "拉丁舞")
CODING = in_name_or_course("编程", "Scratch")
DRAWING = in_name_or_course("国画", "素描", "美术")
INSTRUMENT = in_name_or_course("非洲鼓", "尤克里里", "音乐")
PINGPONG = in_name_or_course("乒乓球")
TAEKWONDO = in_name_or_course("跆拳道")
ROBOT = in_name_or_course("机器人")
POTTERY = in_name_or_course("陶艺")
PAPERCUT = in_name_or_course("剪纸")
SKATING = in_name_or_course("轮滑")
ROPE = in_name_or_course("跳绳")

CASES: tuple[Case, ...] = (
    # Two words joined, as nobody types the space.
    Case("连写", "南开篮球", in_district("南开", BASKETBALL)),
    Case("连写", "和平陶艺", in_district("和平", POTTERY)),
    Case("连写", "河西书法", in_district("河西", CALLIGRAPHY)),
    Case("连写", "西青轮滑", in_district("西青", SKATING)),
    Case("连写", "滨海编程", in_district("滨海", CODING)),
    Case("连写", "河东乒乓球", in_district("河东", PINGPONG)),
    Case("连写", "红桥跆拳道", in_district("红桥", TAEKWONDO)),
    Case("连写", "北辰机器人", in_district("北辰", ROBOT)),
    Case("连写", "东丽陶艺", in_district("东丽", POTTERY)),
    Case("连写", "津南围棋", in_district("津南", GO)),
    Case("连写", "少儿篮球俱乐部", BASKETBALL),
    Case("连写", "小白鸽篮球", lambda r: "小白鸽" in r["name"] and BASKETBALL(r), top=1),
    Case("连写", "明辰篮球", lambda r: "明辰" in r["name"] and BASKETBALL(r), top=1),
    # District and course apart.
    Case("区+课程", "南开 篮球", in_district("南开", BASKETBALL)),
    Case("区+课程", "南开区 书法", in_district("南开", CALLIGRAPHY)),
    Case("区+课程", "武清 街舞", in_district("武清", DANCE)),
    Case("区+课程", "宝坻 围棋", in_district("宝坻", GO)),
    Case("区+课程", "滨海新区 非洲鼓", in_district("滨海", in_name_or_course("非洲鼓"))),
    # Synonyms: the word a parent uses, the course the provider lists.
    Case("同义词", "舞蹈", DANCE),
    Case("同义词", "跳舞", DANCE),
    Case("同义词", "编程", CODING),
    Case("同义词", "画画", DRAWING),
    Case("同义词", "美术", DRAWING),
    Case("同义词", "乐器", INSTRUMENT),
    Case("同义词", "棋类", GO),
    # Pinyin, with and without spaces.
    Case("全拼", "lanqiu", BASKETBALL),
    Case("全拼", "lan qiu", BASKETBALL),
    Case("全拼", "shufa", CALLIGRAPHY),
    Case("全拼", "weiqi", GO),
    Case("全拼", "zuqiu", FOOTBALL),
    Case("全拼", "taiquandao", TAEKWONDO),
    Case("全拼", "taoyi", POTTERY),
    Case("全拼", "nankai lanqiu", in_district("南开", BASKETBALL)),
    # Initials: at the start of a word only.
    Case("首字母", "lq", BASKETBALL),
    Case("首字母", "sf", CALLIGRAPHY),
    Case("首字母", "wq", GO),
    Case("首字母", "zq", FOOTBALL),
    Case("首字母", "tqd", TAEKWONDO),
    # Typos in pinyin: the page offers the correction.
    Case("拼写错误", "lanqui", BASKETBALL, suggestion=("lanqiu", "篮球")),
    Case("拼写错误", "shuf", CALLIGRAPHY, suggestion=("shufa", "书法")),
    Case("拼写错误", "weiqqi", GO, suggestion=("weiqi", "围棋")),
    Case("拼写错误", "taoyii", POTTERY, suggestion=("taoyi", "陶艺")),
    Case("拼写错误", "zuqio", FOOTBALL, suggestion=("zuqiu", "足球")),
    # Full-width letters and traditional characters.
    Case("全角", "ｌａｎｑｉｕ", BASKETBALL),
    Case("全角", "ＬＱ", BASKETBALL),
    Case("全角", "Ｓｃｒａｔｃｈ", in_name_or_course("Scratch")),
    Case("繁体", "籃球", BASKETBALL),
    Case("繁体", "書法", CALLIGRAPHY),
    Case("繁体", "圍棋", GO),
    Case("繁体", "南開籃球", in_district("南开", BASKETBALL)),
    Case("繁体", "機器人", ROBOT),
    # Single course words and categories.
    Case("课程", "篮球", BASKETBALL),
    Case("课程", "足球", FOOTBALL),
    Case("课程", "跆拳道", TAEKWONDO),
    Case("课程", "机器人", ROBOT),
    Case("课程", "陶艺", POTTERY),
    Case("课程", "剪纸", PAPERCUT),
    Case("课程", "跳绳", ROPE),
    Case("类别", "体育", in_category("sports")),
    Case("类别", "科技", lambda r: in_category("science")(r) or "科技" in r["name"]),
    Case("类别", "非遗", in_category("heritage")),
    # More words than any provider holds: the best partial match, said so.
    Case("部分匹配", "南开 篮球 游泳", in_district("南开", BASKETBALL), partial=True),
    Case("部分匹配", "和平书法钢琴", in_district("和平", CALLIGRAPHY), partial=True),
    Case("部分匹配", "篮球 足球 围棋", lambda r: BASKETBALL(r) and FOOTBALL(r), partial=True),
)
