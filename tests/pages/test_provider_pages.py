"""Provider pages through HTTP: sign-up, my applications, the schema-rendered form, submit."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import httpx

from registry.access.personal_data import open_form
from registry.pages.formrender import parse_fields
from registry.tables import Listing
from schemas import APPLICATION, load_schema
from tests.api.conftest import Client, Login, login  # noqa: F401  (the fixture)
from tests.cast import BINHAI, CAST, HEPING, actor, listing_in
from tests.factories import new_listing, state_of, step, valid_application
from workflows.engine import local_today
from workflows.states import State

SCHEMA = load_schema(APPLICATION)


class FormFields(HTMLParser):
    """The (name, value) pairs a browser would post from the application form."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.in_form = False
        self.templates = 0
        self.select: str | None = None
        self.selected: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.in_form = "appform" in a.get("class", "")
        if not self.in_form:
            return
        if tag == "template":
            self.templates += 1
        if self.templates:
            return
        if tag == "input" and a.get("name"):
            # Checkboxes post only when checked; every other input always posts.
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.selected = a["name"], ""
        elif tag == "option" and self.select is not None and "selected" in a:
            self.selected = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.pairs.append((a["name"], ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "template" and self.in_form:
            self.templates -= 1
        elif tag == "select" and self.select is not None:
            self.pairs.append((self.select, self.selected or ""))
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.in_form = False

    def handle_data(self, data: str) -> None:
        if self.textarea and not self.templates:
            name, text = self.pairs[-1]
            self.pairs[-1] = (name, text + data)


def form_fields(html: str) -> list[tuple[str, str]]:
    parser = FormFields()
    parser.feed(html)
    return parser.pairs


def current_application() -> dict[str, Any]:
    """The factory's application with certificates and insurance valid from today on."""
    today = local_today()
    form = valid_application()
    for person in form["staff"]:
        person["no_criminal_record_valid_until"] = str(today + timedelta(days=365))
        person["health_certificate_valid_until"] = str(today + timedelta(days=365))
    form["staff"][0]["certificates"][1]["valid_until"] = str(today + timedelta(days=700))
    form["insurance"]["valid_from"] = str(today - timedelta(days=30))
    form["insurance"]["valid_until"] = str(today + timedelta(days=365))
    return form


async def draft(form: dict[str, Any] | None = None) -> int:
    return await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING], form)


def field_block(html: str, name: str) -> str:
    """The HTML of one field's block (its input, hint and error messages)."""
    anchor = "f-" + re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-")
    match = re.search(
        rf'id="{anchor}">(.*?)</(div|fieldset)>\s*(?=<div class="field|<fieldset|</div>)',
        html,
        re.S,
    )
    assert match, f"no field {name}"
    return match.group(1)


async def post_form(client: Client, url: str, pairs: list[tuple[str, str]]) -> httpx.Response:
    """POST repeated field names, as a browser does (httpx's `data=` takes a dict)."""
    return await client.post(
        url,
        content=urlencode(pairs).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


async def stored_form(listing_id: int) -> dict[str, Any]:
    """The listing's form as the app reads it (stored, its numbers are sealed)."""
    row = (
        await Listing.select(Listing.form)
        .where(Listing.id == listing_id)
        .output(load_json=True)
        .first()
    )
    form: dict[str, Any] = open_form(row["form"])
    return form


# --- the parser, unit by unit --------------------------------------------------------------


def test_field_names_parse_back_into_nested_json() -> None:
    pairs = [
        ("courses[3].name", "书法"),
        ("courses[0].name", "少儿篮球"),
        ("courses[0].grade_bands", "lower_primary"),
        ("courses[0].grade_bands", "middle"),
        ("courses[0].weekly_schedule[1].end", "18:30"),
        ("courses[0].weekly_schedule[1].weekday", "3"),
        ("courses[0].fee_per_student_month", "150.5"),
        ("courses[0].evening_study", "false"),
        ("courses[0].staff[0]", "0"),
        ("courses[0].staff[2]", "赵助教"),
        ("courses[1].name", ""),  # a blank row is left out
        ("staff[0].certificates[0].valid_until", ""),  # nullable, but the row is blank
        ("insurance.coverage_yuan", "一百万"),  # not a number: kept as typed
        ("organisation.years_in_operation", "2.5"),  # not an integer: kept as typed
        ("_csrf_token", "x"),
        ("nonsense[0]", "y"),
    ]
    assert parse_fields(pairs, SCHEMA) == {
        "courses": [
            {
                "name": "少儿篮球",
                "grade_bands": ["lower_primary", "middle"],
                "weekly_schedule": [{"end": "18:30", "weekday": 3}],
                "fee_per_student_month": 150.5,
                "evening_study": False,
                "staff": [0, "赵助教"],
            },
            {"name": "书法"},
        ],
        "insurance": {"coverage_yuan": "一百万"},
        "organisation": {"years_in_operation": "2.5"},
    }


# --- sign-up -------------------------------------------------------------------------------


async def _csrf(client: httpx.AsyncClient, path: str) -> str:
    await client.get(path)
    return client.cookies["registry_csrf"]


async def test_signup_page_keeps_values_and_marks_the_bad_field(anonymous: Client) -> None:
    token = await _csrf(anonymous, "/signup")
    data = {
        "_csrf_token": token,
        "kind": "organisation",
        "name": "天津市南开区青禾美术培训学校",
        "uscc": "91120101MA05T9WX3B",
        "contact_name": "周敏",
        "contact_phone": "13612345678",
        "username": "qinghe",
        "password": "meishu-2026",
        "password2": "meishu-2026",
    }
    bad = await anonymous.post("/signup", data=data)
    assert bad.status_code == 422
    assert "第18位校验码" in field_block(bad.text, "uscc")
    assert 'value="天津市南开区青禾美术培训学校"' in bad.text and 'value="qinghe"' in bad.text
    assert "meishu-2026" not in bad.text  # passwords are never echoed
    good = await anonymous.post("/signup", data={**data, "uscc": "91120101MA05T9WX3N"})
    assert good.status_code == 303 and good.headers["location"] == "/provider"
    page = await anonymous.get("/provider")
    assert page.status_code == 200 and "新建申请" in page.text


async def test_signup_page_for_an_individual(anonymous: Client) -> None:
    token = await _csrf(anonymous, "/signup")
    response = await anonymous.post(
        "/signup",
        data={
            "_csrf_token": token,
            "kind": "individual",
            "name": "刘书文",
            "uscc": "typed before switching",
            "resident_id": "120104195809244562",
            "contact_name": "刘书文",
            "contact_phone": "15902212345",
            "username": "liushuwen",
            "password": "shufa-2026",
            "password2": "shufa-2027",
        },
    )
    assert response.status_code == 422
    assert "两次输入的密码不一致" in field_block(response.text, "password2")
    assert "统一社会信用代码" not in "".join(re.findall(r"field-error[^>]*>([^<]*)", response.text))


# --- my applications -----------------------------------------------------------------------


async def test_dashboard_lists_applications_and_the_inbox(login: Login) -> None:  # noqa: F811
    await listing_in(State.needs_supplement)
    client = await login("provider")
    page = await client.get("/provider")
    assert page.status_code == 200
    assert "和平区" in page.text and "待补正" in page.text and "要求补正材料" in page.text
    assert "缺少场地安全证明" not in page.text  # the reviewer's internal note
    created = await client.post("/provider/applications", data={"district": BINHAI})
    assert created.status_code == 303
    assert re.fullmatch(r"/provider/applications/\d+", created.headers["location"])
    again = await client.post("/provider/applications", data={"district": BINHAI})
    assert again.status_code == 422 and "已有进行中的申请" in again.text


async def test_pages_need_a_provider_login(login: Login, anonymous: Client) -> None:  # noqa: F811
    listing_id = await draft()
    response = await anonymous.get(f"/provider/applications/{listing_id}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    other = await login("provider_other")
    assert (await other.get(f"/provider/applications/{listing_id}")).status_code == 404
    reviewer = await login("reviewer")
    assert (await reviewer.get("/provider")).status_code == 403


# --- the application form ------------------------------------------------------------------


async def test_form_is_rendered_from_the_schema_in_chinese(login: Login) -> None:  # noqa: F811
    client = await login("provider")
    created = (await client.post("/api/v1/listings", json={"district": HEPING})).json()
    page = await client.get(f"/provider/applications/{created['id']}")
    assert page.status_code == 200
    titles = "申请主体信息 统一社会信用代码 服务类别 课程项目 每周上课时间 收费标准 从业人员"
    for title in [*titles.split(), "无犯罪记录证明有效期至", "保险信息", "安全保障方案"]:
        assert title in page.text, title
    for label in (
        "体育",
        "小学低年级",
        "周一",
        "添加课程",
        "添加上课时段",
        "保存草稿",
        "检查",
        "提交申请",
    ):
        assert label in page.text, label
    assert 'value="天津市和平区飞跃青少年篮球俱乐部有限公司"' in page.text  # prefilled
    assert 'name="courses[__0__].weekly_schedule[__1__].start"' in page.text  # row template


async def test_posted_page_form_round_trips_into_the_same_json(login: Login) -> None:  # noqa: F811
    listing_id = await draft()
    client = await login("provider")
    page = await client.get(f"/provider/applications/{listing_id}")
    pairs = form_fields(page.text)
    assert ("courses[0].weekly_schedule[1].weekday", "3") in pairs
    response = await post_form(
        client, f"/provider/applications/{listing_id}/form", [*pairs, ("_op", "save")]
    )
    assert response.status_code == 303, response.text
    assert await stored_form(listing_id) == valid_application()
    assert await state_of(listing_id) == ("draft", 1)


async def test_rows_are_added_and_removed_without_javascript(login: Login) -> None:  # noqa: F811
    listing_id = await draft()
    client = await login("provider")
    pairs = form_fields((await client.get(f"/provider/applications/{listing_id}")).text)
    url = f"/provider/applications/{listing_id}/form"
    added = await post_form(client, url, [*pairs, ("_op", "add:courses")])
    assert added.status_code == 200 and 'name="courses[1].name"' in added.text
    removed = await post_form(client, url, [*pairs, ("_op", "remove:staff[1]")])
    assert 'name="staff[1].name"' not in removed.text and 'name="staff[0].name"' in removed.text
    assert await stored_form(listing_id) == valid_application()  # nothing saved by either


async def test_submit_with_problems_shows_each_next_to_its_field(login: Login) -> None:  # noqa: F811
    client = await login("provider")
    created = (await client.post("/api/v1/listings", json={"district": HEPING})).json()
    url = f"/provider/applications/{created['id']}"
    typed = dict(form_fields((await client.get(url)).text))
    typed.update({
        "courses[0].name": "少儿篮球",
        "courses[0].fee_per_student_month": "一百五",
        "staff[0].name": "张伟",
        "staff[0].resident_id": "120101198003151231",
        "organisation.contact_phone": "12345",
    })  # fmt: skip
    response = await client.post(f"{url}/form", data={**typed, "_op": "submit"})
    assert response.status_code == 422
    html = response.text
    assert "不能执行「提交申请」" in html
    assert "收费标准应为数字" in field_block(html, "courses[0].fee_per_student_month")
    assert 'value="一百五"' in html and 'value="少儿篮球"' in html  # what was typed is kept
    assert "联系电话格式不正确" in field_block(html, "organisation.contact_phone")
    assert "校验码" in field_block(html, "staff[0].resident_id")
    assert "课程大纲为必填项" in field_block(html, "courses[0].outline")
    assert "保险信息为必填项" in html and "安全保障方案为必填项" in html
    assert await state_of(created["id"]) == ("draft", 1)
    assert (await stored_form(created["id"]))["courses"][0]["fee_per_student_month"] == "一百五"


async def test_check_shows_findings_next_to_fields(login: Login) -> None:  # noqa: F811
    form = current_application()
    form["courses"][0]["fee_per_student_month"] = 300
    listing_id = await draft(form)
    client = await login("provider")
    pairs = form_fields((await client.get(f"/provider/applications/{listing_id}")).text)
    response = await post_form(
        client, f"/provider/applications/{listing_id}/form", [*pairs, ("_op", "check")]
    )
    assert response.status_code == 200
    assert "检查结果" in response.text
    assert "180" in field_block(response.text, "courses[0].fee_per_student_month")
    assert await state_of(listing_id) == ("draft", 1)


async def test_submit_of_a_valid_form_moves_it_to_submitted(login: Login) -> None:  # noqa: F811
    listing_id = await draft(current_application())
    client = await login("provider")
    pairs = form_fields((await client.get(f"/provider/applications/{listing_id}")).text)
    response = await post_form(
        client, f"/provider/applications/{listing_id}/form", [*pairs, ("_op", "submit")]
    )
    assert response.status_code == 303, response.text
    assert await state_of(listing_id) == ("submitted", 2)
    page = await client.get(response.headers["location"])
    assert "申请已提交" in page.text and "已提交" in page.text
    assert "提交申请" in page.text  # in the history
    assert 'value="check"' not in page.text  # no longer editable


async def test_stale_page_save_is_refused_keeping_what_was_typed(login: Login) -> None:  # noqa: F811
    listing_id = await draft()
    client = await login("provider")
    pairs = form_fields((await client.get(f"/provider/applications/{listing_id}")).text)
    colleague = await login("provider")
    first = await post_form(
        colleague, f"/provider/applications/{listing_id}/form", [*pairs, ("_op", "save")]
    )
    assert first.status_code == 303
    changed = [(n, "新名称" if n == "courses[0].name" else v) for n, v in pairs]
    changed_again = [*changed, ("organisation.description", "别人改过")]
    await post_form(
        colleague, f"/provider/applications/{listing_id}/form", [*changed_again, ("_op", "save")]
    )
    stale = await post_form(
        client, f"/provider/applications/{listing_id}/form", [*changed, ("_op", "save")]
    )
    assert (
        stale.status_code == 409 and "已被他人修改" in stale.text and 'value="新名称"' in stale.text
    )


async def test_upload_on_the_page(login: Login) -> None:  # noqa: F811
    listing_id = await draft()
    client = await login("provider")
    url = f"/provider/applications/{listing_id}/documents"
    bad = await client.post(
        url, data={"kind": "licence"}, files={"file": ("a.pdf", b"GIF89a...", "application/pdf")}
    )
    assert bad.status_code == 422 and "仅支持 PDF、JPEG、PNG" in bad.text
    ok = await client.post(
        url,
        data={"kind": "licence"},
        files={"file": ("执照.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    assert ok.status_code == 303
    page = await client.get(ok.headers["location"])
    assert (
        "执照.pdf" in page.text and "营业执照/办学许可证" in page.text and "材料已上传" in page.text
    )


async def test_withdraw_asks_for_confirmation(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.needs_supplement)
    client = await login("provider")
    page = await client.get(f"/provider/applications/{listing_id}")
    assert "区教育局要求补正材料" in page.text and "提交补正材料" in page.text
    assert "缺少场地安全证明" not in page.text  # the internal note, in the history too
    url = f"/provider/applications/{listing_id}/actions"
    _, version = await state_of(listing_id)
    unconfirmed = await client.post(url, data={"_action": "withdraw", "version": str(version)})
    assert unconfirmed.status_code == 422 and "请勾选确认" in unconfirmed.text
    done = await client.post(
        url, data={"_action": "withdraw", "version": str(version), "confirm": "yes"}
    )
    assert done.status_code == 303
    assert (await state_of(listing_id))[0] == "withdrawn"


async def test_supplement_answered_and_resubmitted_on_the_page(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.in_review)
    yesterday = local_today() - timedelta(days=1)
    await step(
        listing_id,
        "request_supplement",
        await actor("reviewer"),
        reason="健康证明过期",
        params={"due": str(yesterday + timedelta(days=11))},  # still open when answered
    )
    expired = valid_application()
    expired["staff"][1]["health_certificate_valid_until"] = str(yesterday)
    await Listing.update({Listing.form: expired}).where(Listing.id == listing_id)
    client = await login("provider")
    url = f"/provider/applications/{listing_id}"
    pairs = form_fields((await client.get(url)).text)
    refused = await post_form(client, f"{url}/form", [*pairs, ("_op", "submit")])
    assert refused.status_code == 422 and "不能执行「提交补正材料」" in refused.text
    assert "健康证明" in field_block(refused.text, "staff[1].health_certificate_valid_until")
    renewed = str(yesterday + timedelta(days=366))
    fixed = [
        (n, renewed if n == "staff[1].health_certificate_valid_until" else v)
        for n, v in form_fields(refused.text)
    ]
    done = await post_form(client, f"{url}/form", [*fixed, ("_op", "submit")])
    assert done.status_code == 303, done.text
    assert (await state_of(listing_id))[0] == "in_review"


async def test_appeal_on_the_page_within_its_window(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.in_review)
    await step(
        listing_id, "reject", await actor("reviewer"), reason="内部意见", message="场地面积不足"
    )
    client = await login("provider")
    url = f"/provider/applications/{listing_id}"
    page = await client.get(url)
    assert (
        "场地面积不足" in page.text and "复核申请陈述" in page.text and "内部意见" not in page.text
    )
    upload = await client.post(
        f"{url}/documents",
        data={"kind": "appeal"},
        files={"file": ("场地证明.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    assert upload.status_code == 303
    _, version = await state_of(listing_id)
    empty = await client.post(f"{url}/actions", data={"_action": "appeal", "version": str(version)})
    assert empty.status_code == 422 and "须填写理由" in empty.text
    appealed = await client.post(
        f"{url}/actions",
        data={"_action": "appeal", "version": str(version), "statement": "场地已扩建，附证明"},
    )
    assert appealed.status_code == 303
    assert (await state_of(listing_id))[0] == "in_review"
