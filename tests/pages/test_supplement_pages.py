"""The supplement loop on the pages: the reviewer asks item by item, the provider answers each."""

from __future__ import annotations

import re

from registry.tables import AuditEvent, Listing
from tests.api.conftest import Login, login  # noqa: F401  (the fixture)
from tests.cast import listing_in
from tests.factories import state_of
from tests.pages.test_bureau_pages import _post_form
from tests.pages.test_provider_pages import form_fields, post_form
from workflows.states import State

PDF = b"%PDF-1.4\n%%EOF\n"


async def _requested(login: Login) -> int:  # noqa: F811
    """A listing in review, sent back by the reviewer's page with two numbered items."""
    listing_id = await listing_in(State.in_review)
    reviewer = await login("reviewer")
    url = f"/bureau/listings/{listing_id}"
    sent = await _post_form(
        reviewer,
        url,
        f"{url}/actions/request_supplement",
        supplement_list="1. 场地安全检查报告\r\n\r\n2、说明教练的健康证明何时续期\r\n",
        message="请在期限内上传。",
    )
    assert sent.status_code == 303, sent.text
    return listing_id


async def test_reviewer_items_answered_one_by_one_and_shown_beside_each_item(
    login: Login,  # noqa: F811
) -> None:
    listing_id = await _requested(login)
    provider = await login("provider")
    url = f"/provider/applications/{listing_id}"
    page = (await provider.get(url)).text
    # Each item numbered on its own (the reviewer's "1." and "2、" are not doubled).
    assert "<strong>补正事项 1</strong>：场地安全检查报告" in page
    assert "<strong>补正事项 2</strong>：说明教练的健康证明何时续期" in page
    assert "请在期限内上传。" in page
    assert 'name="supplement_answer_1" form="application-form"' in page

    # Resubmitting before answering names the first item left open.
    refused = await post_form(provider, f"{url}/form", [*form_fields(page), ("_op", "submit")])
    assert refused.status_code == 422
    assert "补正事项 1「场地安全检查报告」尚未答复" in refused.text
    assert 'href="#supplement-item-1"' in refused.text
    checked = await post_form(provider, f"{url}/form", [*form_fields(page), ("_op", "check")])
    assert "补正事项 1 尚未答复" in checked.text and "补正事项 2 尚未答复" in checked.text

    # Item 1 answered by a document uploaded under it, item 2 by a text saved with the draft.
    uploaded = await provider.post(
        f"{url}/documents",
        data={"kind": "supplement", "supplement_item": "1"},
        files={"file": ("场地安全检查报告.pdf", PDF, "application/pdf")},
    )
    assert uploaded.status_code == 303
    assert uploaded.headers["location"].endswith("#supplement-item-1")
    page = (await provider.get(url)).text
    item_1 = page[page.index('id="supplement-item-1"') : page.index('id="supplement-item-2"')]
    assert "场地安全检查报告.pdf" in item_1
    answer = [("supplement_answer_2", "健康证明已于11月续期，新证明见从业人员材料。")]
    saved = await post_form(provider, f"{url}/form", [*form_fields(page), *answer])
    assert saved.status_code == 303
    page = (await provider.get(url)).text
    assert "健康证明已于11月续期" in page  # kept, shown again in its box

    done = await post_form(provider, f"{url}/form", [*form_fields(page), ("_op", "submit")])
    assert done.status_code == 303, done.text
    assert (await state_of(listing_id))[0] == State.in_review

    # The reviewer reads each item beside its answer and its document.
    reviewer = await login("reviewer")
    review = (await reviewer.get(f"/bureau/listings/{listing_id}")).text
    section = review[review.index('id="supplement"') : review.index('id="changes"')]
    rows = re.findall(r"<tr id=\"supplement-\d+-(\d)\">(.*?)</tr>", section, re.S)
    assert [number for number, _ in rows] == ["1", "2"]
    assert "场地安全检查报告" in rows[0][1] and "场地安全检查报告.pdf" in rows[0][1]
    assert "补正材料" in rows[0][1] and "（未填写答复）" in rows[0][1]
    assert "说明教练的健康证明何时续期" in rows[1][1] and "健康证明已于11月续期" in rows[1][1]
    assert "已随补正材料提交" in section

    # The API tells the same, round by round.
    api = (await reviewer.get(f"/api/v1/listings/{listing_id}/supplement")).json()
    (only,) = api["rounds"]
    assert only["open"] is False and only["submitted_version"] is not None
    assert [(i["number"], i["text"], i["answered"]) for i in only["items"]] == [
        (1, "场地安全检查报告", True),
        (2, "说明教练的健康证明何时续期", True),
    ]
    assert only["items"][0]["documents"][0]["original_name"] == "场地安全检查报告.pdf"


async def test_a_second_round_keeps_the_first_rounds_answers(login: Login) -> None:  # noqa: F811
    listing_id = await _requested(login)
    provider = await login("provider")
    answered = await provider.put(
        f"/api/v1/listings/{listing_id}/supplement",
        json={"answers": [{"number": 1, "answer": "已上传"}, {"number": 2, "answer": "12月"}]},
    )
    assert answered.status_code == 200, answered.text
    _, version = await state_of(listing_id)
    resubmitted = await provider.post(
        f"/api/v1/listings/{listing_id}/transitions",
        json={"action": "resubmit", "version": version},
    )
    assert resubmitted.status_code == 200, resubmitted.text
    reviewer = await login("reviewer")
    _, version = await state_of(listing_id)
    again = await reviewer.post(
        f"/api/v1/listings/{listing_id}/transitions",
        json={"action": "request_supplement", "version": version, "reason": "仍缺",
              "supplement_items": ["消防验收意见书"]},
    )  # fmt: skip
    assert again.status_code == 200, again.text
    review = (await reviewer.get(f"/bureau/listings/{listing_id}")).text
    assert "第 2 次补正" in review and "机构答复中，尚未提交" in review
    assert "第 1 次补正" in review and "消防验收意见书" in review and "12月" in review
    # Only the open round is the provider's to answer; an earlier item is not.
    late = await provider.put(
        f"/api/v1/listings/{listing_id}/supplement",
        json={"answers": [{"number": 2, "answer": "改一下"}]},
    )
    assert late.status_code == 422 and "没有第 2 项补正事项" in late.text
    page = (await provider.get(f"/provider/applications/{listing_id}")).text
    assert "<strong>补正事项 1</strong>：消防验收意见书" in page and "以往补正事项" in page


async def test_answers_are_the_providers_own_and_only_while_supplementing(
    login: Login,  # noqa: F811
) -> None:
    listing_id = await _requested(login)
    other = await login("provider_other")
    body = {"answers": [{"number": 1, "answer": "x"}]}
    refused = await other.put(f"/api/v1/listings/{listing_id}/supplement", json=body)
    assert refused.status_code == 404
    reviewer = await login("reviewer")
    staff = await reviewer.put(f"/api/v1/listings/{listing_id}/supplement", json=body)
    assert staff.status_code == 403
    provider = await login("provider")
    long = {"answers": [{"number": 1, "answer": "长" * 2001}]}
    too_long = await provider.put(f"/api/v1/listings/{listing_id}/supplement", json=long)
    assert too_long.status_code == 422 and "补正事项 1 的答复不能超过 2000 字" in too_long.text
    stray = await provider.post(
        f"/provider/applications/{listing_id}/documents",
        data={"kind": "supplement", "supplement_item": "7"},
        files={"file": ("a.pdf", PDF, "application/pdf")},
    )
    assert stray.status_code == 422 and "没有第 7 项补正事项" in stray.text
    row = await Listing.select(Listing.state).where(Listing.id == listing_id).first()
    assert row is not None and row["state"] == State.needs_supplement
    # The answer's words stay out of the audit trail (they may quote ID or phone numbers).
    await provider.put(f"/api/v1/listings/{listing_id}/supplement", json=body)
    events = (
        await AuditEvent.select(AuditEvent.payload)
        .where(AuditEvent.action == "supplement.answered")
        .output(load_json=True)
    )
    assert events and events[-1]["payload"] == {"items": [1]}
