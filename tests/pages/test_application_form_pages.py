"""The provider's application form: staff chosen by name, hints for people, each warning once."""

from __future__ import annotations

import re

from registry.access.personal_data import open_form
from registry.tables import Listing
from tests.api.conftest import Login, login  # noqa: F401  (the fixture)
from tests.cast import CAST, HEPING
from tests.factories import new_listing, valid_application
from tests.pages.test_provider_pages import form_fields, post_form


def _select(page: str, name: str) -> str:
    found = re.search(rf'<select name="{re.escape(name)}"[^>]*>.*?</select>', page, re.S)
    assert found is not None, name
    return found.group(0)


async def _draft(form: dict[str, object] | None = None) -> int:
    organisation, district = CAST.organisations["feiyue"], CAST.districts[HEPING]
    return await new_listing(organisation, district, form or valid_application())


async def test_course_staff_are_chosen_by_name_and_stored_as_numbers(login: Login) -> None:  # noqa: F811
    listing_id = await _draft()
    client = await login("provider")
    url = f"/provider/applications/{listing_id}"
    page = (await client.get(url)).text
    teacher = _select(page, "courses[0].staff[0]")
    assert 'data-choices="staff"' in teacher
    assert re.search(r'<option value="0" selected>张伟</option>', teacher)
    assert '<option value="1">赵助教</option>' in teacher
    # The upload form names staff members too, not numbers counted from 0.
    assert '<option value="1">赵助教</option>' in _select(page, "staff_index")
    assert "从0开始" not in page and "null" not in page and "长期有效的证书不填" in page

    # Choosing the assistant for the first slot stores the assistant's number, as the schema has.
    pairs = [
        (n, "1" if n == "courses[0].staff[0]" else v)
        for n, v in form_fields(page)
        if n != "courses[0].staff[1]"
    ]
    saved = await post_form(client, f"{url}/form", pairs)
    assert saved.status_code == 303
    query = Listing.select(Listing.form).where(Listing.id == listing_id)
    row = await query.output(load_json=True).first()
    assert row is not None and open_form(row["form"])["courses"][0]["staff"] == [1]


async def test_check_lists_a_warning_found_twice_once(login: Login) -> None:  # noqa: F811
    form = valid_application()
    for slot in form["courses"][0]["weekly_schedule"]:  # type: ignore[index]
        slot["end"] = "18:00"  # both slots end before 和平区's 18:30
    listing_id = await _draft(form)
    client = await login("provider")
    url = f"/provider/applications/{listing_id}"
    page = (await client.get(url)).text
    checked = await post_form(client, f"{url}/form", [*form_fields(page), ("_op", "check")])
    assert checked.status_code == 200
    section = checked.text[checked.text.index('id="problems"') :]
    section = section[: section.index("</section>")]
    lines = re.findall(r"<li[^>]*>(.*?)</li>", section, re.S)
    early = [line for line in lines if "结束时间18:00早于18:30" in line]
    assert len(early) == 1, lines
    assert "上课时段1" in early[0] and "上课时段2" in early[0]  # both places named
    assert len(lines) == len(set(lines))
