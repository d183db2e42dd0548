"""The tokeniser: documents and queries are cut the same way (no database)."""

from __future__ import annotations

from registry.public.search.postgres import tsquery
from registry.public.search.sqlite import match_expression
from registry.public.search.tokens import (
    document_tokens,
    highlight,
    name_sort_key,
    parse_query,
    split_syllables,
)


def test_document_tokens_cover_unigrams_bigrams_and_pinyin() -> None:
    tokens = set(document_tokens("少儿篮球", "Python编程").split())
    assert {"篮", "球", "篮球", "lan", "qiu", "lanqiu", "lq", "儿篮"} <= tokens
    assert {"python", "编程", "biancheng", "bc"} <= tokens
    assert "少儿篮球" not in tokens  # unigrams, bigrams and dictionary words (少儿 | 篮球)
    assert "el" not in tokens  # no initials of a bigram across two words (儿篮)


def test_initials_come_from_whole_words() -> None:
    # Issue 13: "lq" matched 东丽区 (dong-Li-Qu) and 杨柳青年画 through bigram initials.
    for text in ("东丽区", "杨柳青年画"):
        assert "lq" not in document_tokens(text).split(), text
    assert {"dlq", "ylq", "nh", "ylqnh"} <= set(document_tokens("东丽区", "杨柳青年画").split())
    assert "lqjlb" in document_tokens("篮球俱乐部").split()  # a pair of adjacent words


def test_full_width_input_is_normalised() -> None:
    assert "python" in document_tokens("ＰＹＴＨＯＮ").split()


def test_query_lengths() -> None:
    assert parse_query("舞") == [[["舞"]]]
    assert parse_query("篮球") == [[["篮球"]]]
    # Read as words (issue 13); a 3+ character word is its bigrams or the whole word.
    assert parse_query("篮球俱乐部") == [[["篮球"]], [["俱乐", "乐部"], ["俱乐部"]]]


def test_pinyin_queries() -> None:
    assert parse_query("lanqiu") == [[["lanqiu"]]]
    assert parse_query("lan qiu") == [[["lanqiu"]]]  # syllables typed apart are one word
    assert parse_query("lq") == [[["lq"]]]
    assert parse_query("shu fa ban")[0] == [["shufa", "faban"], ["shufaban"]]
    assert ["shufa", "faban"] in parse_query("shufaban")[0]
    # Initials of adjacent words are indexed whole (lqjlb), no longer as bigram initials.
    assert parse_query("lqjlb") == [[["lqjlb"]]]


def test_mixed_query_is_an_and_of_clauses() -> None:
    assert parse_query("lq 和平") == [[["lq"]], [["和平"]]]


def test_split_syllables() -> None:
    assert split_syllables("lanqiu") == ["lan", "qiu"]
    assert split_syllables("xian") == ["xian"]  # fewest syllables
    assert split_syllables("python") is None


def test_engine_expressions_quote_or_escape_nothing_dangerous() -> None:
    query = parse_query('lq "OR" 和平')
    assert match_expression(query) == '(("lq")) AND (("or")) AND (("和平"))'
    assert tsquery(parse_query("lq 和平")) == "((lq)) & ((和平))"
    assert parse_query("!!! ???") == []


def test_name_sort_uses_phrases_for_polyphones() -> None:
    assert name_sort_key("长江").startswith("chang jiang")
    assert name_sort_key("重庆").startswith("chong qing")
    names = ["中华武术馆", "重庆路围棋社", "安心美术", "长江合唱团", "北辰科技"]
    assert sorted(names, key=name_sort_key) == [
        "安心美术",
        "北辰科技",
        "长江合唱团",
        "重庆路围棋社",
        "中华武术馆",
    ]


def test_highlight_escapes_then_marks() -> None:
    assert str(highlight("<b>少儿篮球</b>", parse_query("lq"))) == (
        "&lt;b&gt;少儿<mark>篮球</mark>&lt;/b&gt;"
    )
    assert str(highlight("少儿篮球", parse_query("lan qiu"))) == "少儿<mark>篮球</mark>"
    assert str(highlight("中国舞", parse_query("舞"))) == "中国<mark>舞</mark>"
    assert str(highlight("Python编程", parse_query("python"))) == "<mark>Python</mark>编程"


def test_highlight_marks_synonym_and_pinyin_matches() -> None:
    # Issue 13: the words matched are marked, however they matched.
    cases = [
        ("天津东丽区篮球俱乐部", "lq", "天津东丽区<mark>篮球</mark>俱乐部"),  # not 丽区
        ("天津东丽区篮球俱乐部", "dlq", "天津<mark>东丽区</mark>篮球俱乐部"),
        ("天津东丽区篮球俱乐部", "lqjlb", "天津东丽区<mark>篮球俱乐部</mark>"),
        ("杨柳青年画", "lq", "杨柳青年画"),
        ("中国舞", "舞蹈", "<mark>中国舞</mark>"),
        ("街舞", "wudao", "<mark>街舞</mark>"),
        ("少儿编程", "编程", "<mark>少儿编程</mark>"),
        ("南开区游泳馆", "南開", "<mark>南开</mark>区游泳馆"),
    ]
    for text, query, marked in cases:
        assert str(highlight(text, parse_query(query))) == marked, (text, query)
