"""The bureau's pages: the review console and a listing's review page, driven like a browser."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any

import httpx

from registry import review
from registry.tables import District, Document, Listing, Membership
from tests.api import conftest as api_fixtures
from tests.cast import CAST, HEPING, T0, actor, listing_in, listing_row
from tests.factories import COACH_ID, state_of, step, valid_application
from workflows import timesource
from workflows.identity import mask_resident_id
from workflows.states import Role, State

login = api_fixtures.login  # the API's login fixture: the same session serves the pages

FEIYUE = "天津市和平区飞跃青少年篮球俱乐部有限公司"
OTHER = "天津滨海墨香书法培训中心"


def _form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to `action` (CSRF token, version)."""
    start = page.index(f'action="{action}"')
    form = page[start : page.index("</form>", start)]
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))


async def _post_form(client: httpx.AsyncClient, page_url: str, action: str, **data: Any) -> Any:
    page = (await client.get(page_url)).text
    return await client.post(action, data={**_form_fields(page, action), **data})


async def test_console_shows_queue_counts_and_filters(login, db: object) -> None:
    submitted = await listing_in(State.submitted)
    in_review = await listing_in(State.in_review, organisation="other")
    form = valid_application()
    form["categories"] = ["arts"]
    await Listing.update({Listing.form: form, Listing.assigned_to: CAST.users["reviewer"]}).where(
        Listing.id == in_review
    )
    reviewer = await login("reviewer")
    page = (await reviewer.get("/bureau")).text
    assert "审核工作台" in page and "和平区" in page
    tabs = dict(re.findall(r'>\s*([^<>]+?) <span class="count[^"]*">(\d+)</span>', page))
    assert tabs["全部待办"] == "2" and tabs["已提交"] == "1" and tabs["审核中"] == "1"
    assert tabs["待补正"] == "0" and tabs["待审批"] == "0" and tabs["公示中"] == "0"
    assert FEIYUE in page and OTHER in page and "未分配" in page
    only_review = (await reviewer.get("/bureau", params={"state": "in_review"})).text
    assert f"/bureau/listings/{in_review}" in only_review
    assert f"/bureau/listings/{submitted}" not in only_review
    mine = (await reviewer.get("/bureau", params={"assigned": "mine"})).text
    assert OTHER in mine and FEIYUE not in mine
    unassigned = (await reviewer.get("/bureau", params={"assigned": "unassigned"})).text
    assert FEIYUE in unassigned and OTHER not in unassigned
    arts = (await reviewer.get("/bureau", params={"category": "arts"})).text
    assert OTHER in arts and FEIYUE not in arts
    later = (await reviewer.get("/bureau", params={"from": "2026-03-03"})).text
    assert "没有符合条件的申请" in later
    # Malformed filters are ignored rather than answered with an error page.
    odd = await reviewer.get("/bureau", params={"from": "yesterday", "state": "x", "page": "-1"})
    assert odd.status_code == 200 and FEIYUE in odd.text


async def test_bureau_pages_are_404_outside_scope(login, db: object, anonymous) -> None:
    listing_id = await listing_in(State.in_review)
    binhai = await login("reviewer_binhai")
    assert FEIYUE not in (await binhai.get("/bureau")).text
    response = await binhai.get(f"/bureau/listings/{listing_id}")
    assert response.status_code == 404 and "页面不存在" in response.text
    provider = await login("provider")
    assert (await provider.get("/bureau")).status_code == 404
    assert (await provider.get(f"/bureau/listings/{listing_id}")).status_code == 404
    response = await anonymous.get(f"/bureau/listings/{listing_id}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def _reviewed_after_supplement() -> int:
    """In review again after a supplement that raised the fee and added a subject word."""
    listing_id = await listing_in(State.submitted)
    await step(
        listing_id,
        "request_supplement",
        await actor("reviewer"),
        reason="缺少场地安全证明",
        message="请补充场地安全证明",
        now=T0,
    )
    form = valid_application()
    form["courses"][0]["fee_per_student_month"] = 170
    form["courses"][0]["outline"] += "穿插数学思维小游戏。"
    await Listing.update({Listing.form: form}).where(Listing.id == listing_id)
    await step(listing_id, "resubmit", await actor("provider"), now=T0 + timedelta(days=1))
    return listing_id


async def test_detail_shows_application_checks_documents_history_and_actions(
    login, db: object
) -> None:
    listing_id = await _reviewed_after_supplement()
    image, pdf = await Document.insert(
        Document(
            listing=listing_id,
            kind="licence",
            sha256="a" * 64,
            original_name="营业执照.png",
            mime_type="image/png",
            size=20480,
        ),
        Document(
            listing=listing_id,
            kind="insurance",
            sha256="b" * 64,
            original_name="保险单.pdf",
            mime_type="application/pdf",
            size=40960,
        ),
    ).returning(Document.id)
    reviewer = await login("reviewer")
    page = (await reviewer.get(f"/bureau/listings/{listing_id}")).text
    # The application, readable, with staff IDs masked.
    assert "少儿篮球" in page and "周一 16:30–18:30" in page and "170 元/生/月" in page
    assert COACH_ID not in page and mask_resident_id(COACH_ID) in page
    # The automatic checks, as the checks module words them.
    found = await review.findings(await listing_row(listing_id), await actor("reviewer"))
    assert any(f.code == "subject_tutoring" for f in found)
    for finding in found:
        assert html.escape(finding.message) in page
    # What changed since the last submission.
    assert "courses[0].fee_per_student_month" in page
    # Documents inline: the image shown, the PDF linked.
    assert f'<img class="doc-image" src="/api/v1/documents/{image["id"]}?inline=true"' in page
    assert f'href="/api/v1/documents/{pdf["id"]}?inline=true"' in page and "保险单.pdf" in page
    # History with the internal note and the message to the provider.
    assert "要求补正" in page and "缺少场地安全证明" in page and "请补充场地安全证明" in page
    # Exactly the actions the API offers.
    api = (await reviewer.get(f"/api/v1/listings/{listing_id}/actions")).json()
    offered = set(re.findall(rf'action="/bureau/listings/{listing_id}/actions/(\w+)"', page))
    assert (
        offered
        == {a["action"] for a in api["actions"]}
        == {
            "request_supplement",
            "recommend",
            "reject",
        }
    )
    assert 'name="exit_reason"' not in page


async def test_request_supplement_from_the_page_sets_the_deadline(login, db: object) -> None:
    listing_id = await listing_in(State.in_review)
    reviewer = await login("reviewer")
    url = f"/bureau/listings/{listing_id}"
    page = (await reviewer.get(url)).text
    prefilled = re.search(r'name="due" required value="(\d{4}-\d{2}-\d{2})"', page)
    assert prefilled and date.fromisoformat(prefilled.group(1)) > timesource.local_today()
    due = timesource.local_today() + timedelta(days=21)
    response = await _post_form(
        reviewer,
        url,
        f"{url}/actions/request_supplement",
        supplement_list="1. 场地安全检查报告\n2. 教练健康证明",
        due=due.isoformat(),
        message="请在期限内上传。",
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{url}?done=request_supplement"
    row = await listing_row(listing_id)
    assert row["state"] == State.needs_supplement and row["supplement_due"] == due
    assert row["provider_message"].startswith("1. 场地安全检查报告")
    done = (await reviewer.get(response.headers["location"])).text
    assert "已完成「要求补正」" in done


async def test_refusals_rerender_the_page_with_the_engine_message(login, db: object) -> None:
    listing_id = await listing_in(State.submitted)
    reviewer = await login("reviewer")
    url = f"/bureau/listings/{listing_id}"
    page = (await reviewer.get(url)).text
    fields = _form_fields(page, f"{url}/actions/request_supplement")
    past = await reviewer.post(
        f"{url}/actions/request_supplement",
        data={**fields, "supplement_list": "缺营业执照", "due": "2020-01-01"},
    )
    assert past.status_code == 422 and "补正期限必须晚于今天" in past.text
    assert "缺营业执照" in past.text  # what was typed is kept
    await step(listing_id, "accept", await actor("reviewer2"))
    stale = await reviewer.post(
        f"{url}/actions/request_supplement",
        data={**fields, "supplement_list": "缺营业执照", "due": "2099-01-01"},
    )
    assert stale.status_code == 409 and "已被他人修改，请刷新" in stale.text
    assert (await state_of(listing_id))[0] == State.in_review


async def test_approver_sees_the_recommendation_and_four_eyes_refusal(login, db: object) -> None:
    listing_id = await listing_in(State.in_review)
    await Membership.insert(
        Membership(
            user=CAST.users["reviewer"], role=Role.approver.value, district=CAST.districts[HEPING]
        )
    )
    await step(
        listing_id,
        "recommend",
        await actor("reviewer"),
        reason="资质齐全，建议入库",
        message="已通过资格审查",
    )
    approver = await login("approver")
    page = (await approver.get(f"/bureau/listings/{listing_id}")).text
    assert "审核员推荐意见" in page and "资质齐全，建议入库" in page and "已通过资格审查" in page
    assert "您是本申请的推荐人" not in page
    both = await login("reviewer")
    url = f"/bureau/listings/{listing_id}"
    own = (await both.get(url)).text
    assert "您是本申请的推荐人" in own
    refused = await _post_form(both, url, f"{url}/actions/approve")
    assert refused.status_code == 422 and "审批人不能是提出推荐意见的审核员" in refused.text
    approved = await _post_form(approver, url, f"{url}/actions/approve", message="进入公示")
    assert approved.status_code == 303
    assert (await state_of(listing_id))[0] == State.in_public_notice


async def test_course_and_assignment_forms(login, db: object) -> None:
    listing_id = await listing_in(State.in_review)
    reviewer = await login("reviewer")
    url = f"/bureau/listings/{listing_id}"
    no_reason = await _post_form(reviewer, url, f"{url}/courses/0", reason="")
    assert no_reason.status_code == 422 and "删去课程须填写理由" in no_reason.text
    last = await _post_form(reviewer, url, f"{url}/courses/0", reason="内容不合适")
    assert last.status_code == 422 and "至少须保留一门通过的课程" in last.text
    assigned = await _post_form(
        reviewer, url, f"{url}/assignee", reviewer_id=str(CAST.users["reviewer2"])
    )
    assert assigned.status_code == 303
    assert (await listing_row(listing_id))["assigned_to"] == CAST.users["reviewer2"]
    page = (await reviewer.get(assigned.headers["location"])).text
    assert "已更新承办审核员" in page and "分配给 reviewer2" in page


async def test_expert_scoring_form_when_policy_requires_it(login, db: object) -> None:
    listing_id = await listing_in(State.in_review)
    reviewer = await login("reviewer")
    url = f"/bureau/listings/{listing_id}"
    assert 'name="score_compliance"' not in (await reviewer.get(url)).text
    row = await (
        District.select(District.policy)
        .where(District.code == HEPING)
        .output(load_json=True)
        .first()
    )
    policy = {**row["policy"], "expert_review": {"required": True, "tolerance": 10}}
    await District.update({District.policy: policy}).where(District.code == HEPING)
    page = (await reviewer.get(url)).text
    assert "专家评审" in page and 'name="score_compliance"' in page
    scores = {
        "score_compliance": "20",
        "score_course_quality": "20",
        "score_staff": "18",
        "score_safety": "18",
        "score_experience": "8",
    }
    too_high = await _post_form(
        reviewer, url, f"{url}/expert-scores", **{**scores, "score_staff": "30"}
    )
    assert too_high.status_code == 422 and "「师资力量」应为 0–20 的整数分" in too_high.text
    saved = await _post_form(reviewer, url, f"{url}/expert-scores", **scores, comment="良好")
    assert saved.status_code == 303
    page = (await reviewer.get(url)).text
    hidden = "您提交自己的评分后才能查看"
    assert hidden not in page and ">84<" in page and "良好" in page
    other = (await (await login("reviewer2")).get(url)).text
    assert hidden in other and ">84<" not in other and 'name="score_compliance"' in other
    assert "总分 84" not in other and "良好" not in other  # nor in the history


async def test_reviewer_sees_and_decides_objections_on_the_detail_page(login, db: object) -> None:
    from registry.notices.objections import ObjectionIn, lodge

    listing_id = await listing_in(State.in_public_notice)
    facts = "该机构教练在校外培训中收取高额费用，且上课时间与学校课后服务冲突，请核实。"
    first = await lodge(
        listing_id, ObjectionIn(name="王晓东", contact="13820001234", facts=facts), "a"
    )
    second = await lodge(
        listing_id, ObjectionIn(name="李红", contact="13920005678", facts=facts), "b"
    )
    reviewer = await login("reviewer")
    page = await reviewer.get(f"/bureau/listings/{listing_id}")
    assert "公示期异议（2）" in page.text and "王晓东" in page.text
    token = reviewer.cookies["registry_csrf"]
    empty = await reviewer.post(
        f"/bureau/objections/{first}/dismiss", data={"text": " ", "_csrf_token": token}
    )
    assert empty.status_code == 422 and "答复意见" in empty.text
    dismissed = await reviewer.post(
        f"/bureau/objections/{first}/dismiss",
        data={"text": "经核实收费符合标准", "_csrf_token": token},
    )
    assert dismissed.status_code == 303
    upheld = await reviewer.post(
        f"/bureau/objections/{second}/uphold", data={"text": "", "_csrf_token": token}
    )
    assert upheld.status_code == 303
    assert (await state_of(listing_id))[0] == State.rejected
    outsider = await login("reviewer_binhai")
    page = await outsider.get(f"/bureau/listings/{listing_id}")
    assert page.status_code == 404
