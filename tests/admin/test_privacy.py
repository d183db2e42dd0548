"""The admin's masks and refusals on their own, for the shapes a request or an answer can take."""

from __future__ import annotations

import json

import pytest

from admin import privacy
from registry.access.personal_data import (
    PHONE,
    RESIDENT_ID,
    lookup_hashes,
    organisation_values,
    plain,
)
from tests.factories import COACH_ID, INDIVIDUAL_ID


@pytest.mark.parametrize(
    ("contact", "shown"),
    [
        ("13811112222", "138****2222"),
        ("022-23456789", "022****6789"),
        ("wang.xd@example.cn", "w***@example.cn"),
        ("微信 wxd1980", "微*********"),
    ],
)
def test_a_contact_is_masked_whatever_its_form(contact: str, shown: str) -> None:
    assert privacy.mask_contact(contact) == shown


def test_an_individuals_address_keeps_only_the_district() -> None:
    row = {"kind": "individual", "address": "天津市河西区友谊路28号"}
    assert privacy.scrub("organisation", row)["address"] == "天津市河西区******"
    business = {"kind": "organisation", "address": "天津市和平区南京路189号"}
    assert privacy.scrub("organisation", business)["address"] == "天津市和平区南京路189号"
    # Without the kind in the answer nobody can tell: masked.
    assert privacy.scrub("organisation", {"address": "天津市和平区南京路189号"}) == {
        "address": "天津市和平区******"
    }


def test_json_held_in_a_column_is_scrubbed_inside() -> None:
    payload = json.dumps(
        {"changes": {"contact_phone": "13700001111", "note": f"身份证{COACH_ID}"}},
        ensure_ascii=False,
    )
    shown = privacy.scrub("audit_event", {"rows": [{"id": 1, "payload": payload}]})
    inner = json.loads(shown["rows"][0]["payload"])
    assert inner["changes"]["contact_phone"] == "137****1111"
    assert inner["changes"]["note"] == "身份证1201************30"


def test_numbers_inside_hashes_are_left_alone() -> None:
    digest = "ab13811112222cd" + "0" * 49
    assert privacy.scrub("audit_event", {"hash": digest}) == {"hash": digest}


def test_forms_and_address_hashes_are_dropped() -> None:
    row = {"id": 3, "form": json.dumps({"staff": [{"resident_id": INDIVIDUAL_ID}]})}
    assert privacy.scrub("listing", row) == {"id": 3}
    assert privacy.scrub("complaint", {"id": 1, "client_hash": "f" * 64}) == {"id": 1}


@pytest.mark.parametrize(
    "query",
    [
        "resident_id=1",
        "resident_id[]=1&resident_id[]=2",
        "contact_phone__match=starts&contact_phone=138",
        "__order=name,-address",
        "__visible_fields=id,listing.organisation.resident_id",
        "client_hash=abc",
        "form=%7B%7D",
    ],
)
def test_a_query_naming_a_personal_column_is_refused(query: str) -> None:
    refusal = privacy.refused_parameter(query)
    assert refusal is not None and "个人信息" in refusal


@pytest.mark.parametrize(
    "query", ["", "name=刘", "__page=2&__page_size=50&__readable=true", "__order=-id"]
)
def test_other_queries_pass(query: str) -> None:
    assert privacy.refused_parameter(query) is None


def test_the_edit_forms_masks_are_not_written_back() -> None:
    body = {"name": "刘书文", "resident_id": "1201************62", "contact_phone": "13700001111"}
    written = privacy.unchanged_masks(body)
    assert set(written) == {"name", "contact_phone"}
    # The number typed anew is written sealed.
    assert plain(written["contact_phone"], PHONE) == "13700001111" != written["contact_phone"]


def test_a_resident_id_typed_in_the_admin_is_sealed_with_its_hash() -> None:
    written = privacy.unchanged_masks({"resident_id": INDIVIDUAL_ID})
    assert plain(written["resident_id"], RESIDENT_ID) == INDIVIDUAL_ID != written["resident_id"]
    assert written["resident_id_hash"] in lookup_hashes(INDIVIDUAL_ID, RESIDENT_ID)


def test_a_sealed_value_is_shown_masked_and_its_hash_not_at_all() -> None:
    row = {"kind": "individual", **organisation_values(INDIVIDUAL_ID, "15902212345")}
    shown = privacy.scrub("organisation", row)
    assert shown == {"kind": "individual", "resident_id": "1201************62",
                     "contact_phone": "159****2345"}  # fmt: skip
