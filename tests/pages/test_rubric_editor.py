"""The rubric editor, driven like a browser: the clerk's form, JSON import and export."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from registry.tables import AuditEvent, Rubric
from schemas import city_default_rubric
from tests.api.conftest import Client, Login, login  # noqa: F401  (the fixture)
from tests.cast import HEPING
from tests.evaluation.helpers import CYCLE, listed_provider

FORM = "/bureau/rubric/form"
# What a page must never show a clerk: Python's parser and exception texts.
PYTHON_TEXT = ("Expecting", "JSONDecodeError", "Traceback", "line ", "column", "char ", "Error")


class _FormFields(HTMLParser):
    """The fields a browser would send from one form of a page (checked boxes only)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.select = action, False, ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = found.get("action") == self.action
        elif not self.inside or ("name" not in found and tag != "option"):
            return
        elif tag == "input" and found.get("type") not in ("checkbox", "file"):
            self.fields[found["name"]] = found.get("value", "")
        elif tag == "input" and found.get("type") == "checkbox" and "checked" in found:
            self.fields[found["name"]] = found.get("value", "on")
        elif tag == "select":
            self.select = found["name"]
        elif tag == "option" and self.select and "selected" in found:
            self.fields[self.select] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = ""


def form_fields(page: str, action: str = FORM) -> dict[str, str]:
    """What submitting the page's form unchanged would post."""
    parser = _FormFields(action)
    parser.feed(page)
    return parser.fields


def beside(page: str, name: str) -> str:
    """The markup of the field named `name`, up to the end of its label or table cell."""
    start = page.index(f'name="{name}"')
    end = min(i for i in (page.find("</label>", start), page.find("</td>", start)) if i > 0)
    return page[start:end]


async def stored() -> dict[str, Any] | None:
    """The district's own rubric as stored, if it has one."""
    rows = await Rubric.select(Rubric.body).where(Rubric.scope == HEPING).output(load_json=True)
    return rows[0]["body"] if rows else None


def no_python(page: str) -> None:
    shown = re.sub(r"<script.*?</script>|<style.*?</style>", "", page, flags=re.S)
    for text in PYTHON_TEXT:
        assert text not in shown, text


async def test_the_form_shows_the_rubric_in_force_and_saving_it_changes_the_rubric(
    login: Login,  # noqa: F811
) -> None:
    approver = await login("approver")
    page = (await approver.get("/bureau/rubric")).text
    fields = form_fields(page)
    default = city_default_rubric()
    assert fields["name"] == default["name"] and fields["district"] == HEPING
    assert fields["items[0].weight"] == "40" and fields["items[0].source"] == "school_feedback"
    assert fields["items[0].questions[1].label"] == "准时到岗"
    assert fields["items[1].points.satisfied"] == "80"
    assert fields["items[6].per_severity.serious"] == "10" and fields["items[6].cap"] == "30"
    assert fields["evidence.excellent.inspection"] == "1"
    assert "evidence.good.inspection" not in fields  # an unticked box is not sent
    assert fields["veto.fee_violation"] == "1" and fields["satisfaction.threshold"] == "80"
    assert '<option value="parent_satisfaction" selected>家长满意度（评分项）</option>' in page
    # An empty row for a new item, and empty question rows.
    assert fields["items[7].label"] == "" and fields["items[7].source"] == ""
    assert fields["items[0].questions[4].label"] == ""

    unchanged = await approver.post(FORM, data={**fields, "action": "save"})
    assert unchanged.status_code == 303, unchanged.text
    assert await stored() == default

    fields.update(
        {
            "name": "和平区评估细则（表单）",
            "items[0].weight": "35",
            "items[2].weight": "25",
            "items[0].questions[4].label": "课程安排",  # a new question, its code made up
            "items[3].late_score": "40.5",
            "items[5].remove": "1",  # no more complaint deductions
            "grades.pass": "65",
            "rectification_below": "72",
            "evidence.good.inspection": "1",
            "evidence.pass.parent_responses": "5",
            "satisfaction.min_responses": "",
            "veto.fee_violation": "",
        }
    )
    saved = await approver.post(FORM, data={**fields, "action": "save"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
    expected = city_default_rubric()
    expected["name"] = "和平区评估细则（表单）"
    expected["items"][0]["weight"] = 35
    expected["items"][0]["questions"].append({"key": "q1", "label": "课程安排"})
    expected["items"][2]["weight"] = 25
    expected["items"][3]["late_score"] = 40.5
    del expected["items"][5]
    expected["grades"]["pass"] = 65
    expected["rectification_below"] = 72
    expected["evidence"]["good"]["inspection"] = True
    expected["evidence"]["pass"]["parent_responses"] = 5
    expected["satisfaction"] = {"threshold": 80}
    expected["veto"]["fee_violation"] = False
    assert await stored() == expected
    after = (await approver.get(saved.headers["location"])).text
    assert "评估细则已保存" in after and "本区细则" in after and "和平区评估细则（表单）" in after
    assert form_fields(after)["items[5].label"] == "安全事故"


async def test_a_new_item_gets_a_code_from_its_source(login: Login) -> None:  # noqa: F811
    approver = await login("approver")
    fields = form_fields((await approver.get("/bureau/rubric")).text)
    # Complaints become a new row: the old one removed, the blank row filled in.
    fields.update(
        {
            "items[5].remove": "1",
            "items[7].label": "投诉",
            "items[7].source": "upheld_complaints",
            "items[7].per_complaint": "４",  # full-width digits, as a Chinese IME types them
            "items[7].cap": "16",
        }
    )
    saved = await approver.post(FORM, data={**fields, "action": "save"})
    assert saved.status_code == 303, saved.text
    rubric = await stored()
    assert rubric is not None
    assert rubric["items"][-1] == {
        "key": "upheld_complaints",
        "label": "投诉",
        "source": "upheld_complaints",
        "per_complaint": 4,
        "cap": 16,
    }


async def test_a_refused_form_keeps_what_was_typed_and_the_rubric_in_force(
    login: Login,  # noqa: F811
) -> None:
    approver = await login("approver")
    fields = form_fields((await approver.get("/bureau/rubric")).text)
    saved = await approver.post(FORM, data={**fields, "name": "和平区旧细则", "action": "save"})
    assert saved.status_code == 303
    before = (await stored(), await AuditEvent.count())
    typed = {
        **fields,
        "name": "改过的细则",
        "items[0].weight": "0",
        "items[1].label": "",
        "grades.pass": "-5",
        "items[2].weight": "二十",
        "items[4].cap": "8",  # the missing-self-report deduction has no cap
        "evidence.good.school_ratings": "1.5",
        "action": "save",
    }
    refused = await approver.post(FORM, data=typed)
    assert refused.status_code == 422
    page = refused.text
    assert "权重必须大于0" in beside(page, "items[0].weight")
    assert "项目名称为必填项" in beside(page, "items[1].label")
    assert "合格等级线不能小于0" in beside(page, "grades.pass")
    assert "权重应填写数字" in beside(page, "items[2].weight")
    assert "不填写扣分上限" in beside(page, "items[4].cap")
    assert "最少学校评价数应为整数" in beside(page, "evidence.good.school_ratings")
    assert "第1项（学校评价）" in page and "等级线" in page and "未保存" in page
    # What was typed is all still there, to correct rather than retype.
    again = form_fields(page)
    for name in ("name", "items[0].weight", "items[1].label", "grades.pass", "items[2].weight"):
        assert again[name] == typed[name], name
    assert again["items[0].questions[3].label"] == "家校沟通"
    no_python(page)
    assert before == (await stored(), await AuditEvent.count())

    # Rules between fields land on the section they concern.
    fields["items[0].weight"] = "50"
    fields["grades.good"] = "95"
    refused = await approver.post(FORM, data={**fields, "action": "save"})
    assert refused.status_code == 422
    assert "各评分项权重之和应为100，现为110" in refused.text
    assert "优秀等级线 &gt; 良好等级线 &gt; 合格等级线" in refused.text
    assert before == (await stored(), await AuditEvent.count())


async def test_the_form_refuses_a_reviewer_and_a_preview_without_a_cycle_saves_nothing(
    login: Login,  # noqa: F811
) -> None:
    reviewer, approver = await login("reviewer"), await login("approver")
    fields = form_fields((await approver.get("/bureau/rubric")).text)
    reviewer_page = (await reviewer.get("/bureau/rubric")).text
    assert FORM not in reviewer_page and "/bureau/rubric.json" in reviewer_page
    forbidden = await reviewer.post(FORM, data={**fields, "action": "save"})
    assert forbidden.status_code == 403 and await Rubric.count() == 0
    preview = await approver.post(FORM, data={**fields, "name": "试算", "action": "preview"})
    assert preview.status_code == 422 and "本区还没有评估周期" in preview.text
    assert form_fields(preview.text)["name"] == "试算" and await Rubric.count() == 0


async def test_a_form_preview_scores_the_current_cycle_and_keeps_the_form(
    login: Login,  # noqa: F811
) -> None:
    await listed_provider("天津市和平区启航体育培训中心")
    reviewer, approver = await login("reviewer"), await login("approver")
    opened = await reviewer.post("/bureau/evaluation", data={**CYCLE, "district": HEPING})
    assert opened.status_code == 303, opened.text
    fields = form_fields((await approver.get("/bureau/rubric")).text)
    before = (await Rubric.count(), await AuditEvent.count())
    typed = {**fields, "name": "试算细则", "grades.pass": "70", "rectification_below": "75"}
    response = await approver.post(FORM, data={**typed, "action": "preview"})
    assert response.status_code == 200, response.text
    assert '<strong class="evaluated">1</strong>' in response.text
    again = form_fields(response.text)
    assert again["name"] == "试算细则" and again["grades.pass"] == "70"
    assert before == (await Rubric.count(), await AuditEvent.count())


async def test_broken_json_gets_a_chinese_message_and_no_python_text(
    login: Login,  # noqa: F811
) -> None:
    approver = await login("approver")
    saved = city_default_rubric()
    saved["name"] = "和平区现行细则"
    assert (await approver.put(f"/api/v1/districts/{HEPING}/rubric", json=saved)).is_success
    pasted = {
        '{"name": "x",\n  "items": [1, 2,]\n}': "第2行第18列",
        "{name: 1": "第1行第2列",
        '{"name": "x"} 多余': "第1行第15列",
        '{"name": "未写完': "缺少结尾的英文双引号",
        "": "内容为空",
        "   ": "内容为空",
        "[1, 2]": "应为一个 JSON 对象",
        '"细则"': "应为一个 JSON 对象",
        '{"a": NaN}': "NaN",
        '{"name": 5, "items": "全部"}': "细则名称应为文本",
    }
    for text, expected in pasted.items():
        response = await approver.post(
            "/bureau/rubric", data={"district": HEPING, "action": "save", "body": text}
        )
        assert response.status_code == 422, text
        assert expected in response.text, (text, expected)
        no_python(response.text)
    uploads = {
        '{"name": "细则"'.encode("gbk"): "不是 UTF-8 编码",
        b"\xff\xfe{\x00}\x00": "不是 UTF-8 编码",
        b'{"name": }': "第1行第10列",
        json.dumps(["不是对象"]).encode(): "应为一个 JSON 对象",
    }
    for data, expected in uploads.items():
        response = await approver.post(
            "/bureau/rubric",
            data={"district": HEPING, "action": "save", "body": ""},
            files={"file": ("细则.json", data, "application/json")},
        )
        assert response.status_code == 422, data
        assert expected in response.text, (data, expected)
        no_python(response.text)
    assert await stored() == saved


async def test_the_export_imports_again_unchanged(login: Login) -> None:  # noqa: F811
    approver, reviewer = await login("approver"), await login("reviewer")
    fields = form_fields((await approver.get("/bureau/rubric")).text)
    fields.update({"name": "导出再导入", "grades.excellent": "92.5"})
    del fields["evidence.fail.inspection"]
    assert (await approver.post(FORM, data={**fields, "action": "save"})).status_code == 303
    mine = await stored()

    exported = await reviewer.get(f"/bureau/rubric.json?district={HEPING}")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/json")
    assert exported.headers["content-disposition"].startswith("attachment;")
    assert json.loads(exported.content.decode("utf-8")) == mine

    reset = await approver.post("/bureau/rubric", data={"district": HEPING, "action": "reset"})
    assert reset.status_code == 303 and await stored() is None
    imported = await approver.post(
        "/bureau/rubric",
        data={"district": HEPING, "action": "save", "body": ""},
        files={"file": ("rubric.json", exported.content, "application/json")},
    )
    assert imported.status_code == 303, imported.text
    assert await stored() == mine
    # Pasted into the textarea, the same file saves the same rubric.
    pasted = await approver.post(
        "/bureau/rubric",
        data={"district": HEPING, "action": "save", "body": exported.text},
    )
    assert pasted.status_code == 303 and await stored() == mine
    # The form shows the imported rubric as it will be saved again.
    again = form_fields((await approver.get("/bureau/rubric")).text)
    assert again["grades.excellent"] == "92.5" and "evidence.fail.inspection" not in again


async def test_another_districts_staff_cannot_export(login: Login) -> None:  # noqa: F811
    binhai = await login("reviewer_binhai")
    assert (await binhai.get(f"/bureau/rubric.json?district={HEPING}")).status_code == 404
    own = await binhai.get("/bureau/rubric.json")
    assert own.status_code == 200 and json.loads(own.text) == city_default_rubric()
    assert (await (await login("school")).get("/bureau/rubric.json")).status_code == 404
