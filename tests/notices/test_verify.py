"""The verify page a certificate's QR code opens: what it says, now; forged codes are 404s."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, timedelta

import httpx

from registry.keys import keyring, rotate
from registry.notices.certificates import certificate_number, listing_id_of, verify_code
from registry.settings import get_settings
from registry.tables import Listing
from tests.cast import T0, actor, listing_in, listing_row
from tests.factories import step
from workflows.states import State


async def _page(client: httpx.AsyncClient, listing_id: int) -> httpx.Response:
    return await client.get(f"/verify/{verify_code(listing_id)}")


def _legacy_code(listing_id: int) -> str:
    """A code as certificates printed before they had their own key: signed with the secret."""
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"certificate:{listing_id}".encode(), hashlib.sha256).digest()
    return f"{listing_id}-{base64.b32encode(digest[:10]).decode().rstrip('=')}"


def test_verify_code_round_trip_and_forgery() -> None:
    code = verify_code(42)
    kid = keyring("certificate").current_id.upper()
    assert code.startswith(f"42-{kid}") and len(code.split("-")[1]) == len(kid) + 16
    assert listing_id_of(code) == 42
    assert listing_id_of(code.lower()) == 42  # typed from paper in lower case
    signature = code.split("-")[1]
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for forged in (
        f"43-{signature}", f"42-{flipped}", "42", "42-", "abc", "-x", "9" * 40 + "-A",
        f"42-{signature[len(kid):]}",  # the new signature passed off as a legacy code
        f"42-K99{signature[len(kid):]}",  # a key id the ring does not hold
    ):  # fmt: skip
        assert listing_id_of(forged) is None, forged


def test_legacy_codes_still_verify() -> None:
    legacy = _legacy_code(42)
    assert len(legacy.split("-")[1]) == 16
    assert listing_id_of(legacy) == 42 and listing_id_of(legacy.lower()) == 42
    assert listing_id_of(f"43-{legacy.split('-')[1]}") is None


async def test_rotating_the_certificate_key_keeps_printed_codes(
    anonymous: httpx.AsyncClient,
) -> None:
    listing_id = await listing_in(State.listed)
    before = verify_code(listing_id)
    legacy = _legacy_code(listing_id)
    new_kid = rotate("certificate")
    after = verify_code(listing_id)
    assert after != before and after.startswith(f"{listing_id}-{new_kid.upper()}")
    for code in (before, before.lower(), legacy, after):
        response = await anonymous.get(f"/verify/{code}")
        assert response.status_code == 200, code
        assert "天津市和平区飞跃青少年篮球俱乐部有限公司" in response.text
    signature = after.split("-")[1][len(new_kid) :]
    old_kid = before.split("-")[1][: -len(signature)]
    # The new key's signature under the old key id, and a flipped signature: both forged.
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for forged in (f"{listing_id}-{old_kid}{signature}", f"{listing_id}-{new_kid}{flipped}"):
        response = await anonymous.get(f"/verify/{forged}")
        assert response.status_code == 404, forged
        assert "未找到该证书" in response.text


def test_certificate_number_is_readable() -> None:
    assert certificate_number("120101", 2026, 123) == "津课服白〔2026〕120101-000123"


async def test_listed_certificate_is_valid(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    row = await listing_row(listing_id)
    response = await _page(anonymous, listing_id)
    assert response.status_code == 200
    until = row["valid_until"]
    assert f"已入库，有效期至{until.year}年{until.month}月{until.day}日" in response.text
    assert "天津市和平区飞跃青少年篮球俱乐部有限公司" in response.text
    assert "和平区" in response.text and "少儿篮球" in response.text
    assert f"津课服白〔{T0.year}〕120101-{listing_id:06d}" in response.text
    assert response.headers["cache-control"] == "no-store"


async def test_rectifying_and_suspended(anonymous: httpx.AsyncClient) -> None:
    rectifying = await listing_in(State.under_rectification)
    assert "整改中" in (await _page(anonymous, rectifying)).text
    suspended = await listing_in(State.suspended, organisation="other")
    text = (await _page(anonymous, suspended)).text
    assert "暂停" in text and "不能作为提供课后服务的依据" in text


async def test_exited_says_when_and_why(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.exited)
    text = (await _page(anonymous, listing_id)).text
    exited = (T0 + timedelta(days=31)).date()
    assert f"已退出：{exited.year}年{exited.month}月{exited.day}日退出白名单（自愿退出）" in text


async def test_expired_by_the_clock(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    until = (await listing_row(listing_id))["valid_until"]
    await step(listing_id, "expire", await actor("clock"), now=T0.replace(year=until.year + 1))
    text = (await _page(anonymous, listing_id)).text
    assert f"已过期：有效期已于{until.year}年{until.month}月{until.day}日届满" in text


async def test_expired_before_the_clock_runs(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    await Listing.update({Listing.valid_until: date(2020, 1, 1)}).where(Listing.id == listing_id)
    assert "已过期" in (await _page(anonymous, listing_id)).text


async def test_forged_unknown_and_unlisted_codes_are_chinese_404_pages(
    anonymous: httpx.AsyncClient,
) -> None:
    listed = await listing_in(State.listed)
    on_notice = await listing_in(State.in_public_notice, organisation="other")
    signature = verify_code(listed).split("-")[1]
    for code in (f"{on_notice}-{signature}", "not-a-code", "1", verify_code(999_999),
                 verify_code(on_notice)):  # fmt: skip
        response = await anonymous.get(f"/verify/{code}")
        assert response.status_code == 404, code
        assert "text/html" in response.headers["content-type"]
        assert "未找到该证书" in response.text


async def test_a_code_typed_or_pasted_opens_its_verify_page(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    code = verify_code(listing_id)
    form = await anonymous.get("/verify")
    assert form.status_code == 200 and 'name="code"' in form.text
    typed_from_paper = f" {code[:6].lower()} {code[6:].lower()} "
    for typed in (code, typed_from_paper, f"https://registry.example/verify/{code}/"):
        answer = await anonymous.get("/verify", params={"code": typed})
        assert answer.status_code == 303 and answer.headers["location"] == f"/verify/{code}"
    page = await anonymous.get(f"/verify/{code}")
    assert "已入库" in page.text
    forged = await anonymous.get(
        "/verify", params={"code": "1-NOTASIGNATURE00000"}, follow_redirects=True
    )
    assert forged.status_code == 404 and "未找到该证书" in forged.text
