"""The notice list and certificate PDFs: read back, fonts embedded, QR code, who may download."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from pypdf import PdfReader

from registry.documents.certificate import certificate_html
from registry.documents.notice import notice_document, notice_html
from registry.notices.certificates import certificate_of, verify_code
from tests.api.conftest import Login, login  # noqa: F401  (the fixture, for this package)
from tests.cast import BINHAI, listing_in
from tests.cli_runner import registry
from workflows.states import State

ORGANISATION = "天津市和平区飞跃青少年篮球俱乐部有限公司"


def _text(pdf: bytes) -> str:
    """The PDF's text without line breaks (a long name may wrap)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def _fonts(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (Debian package poppler-utils) is not installed")
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    ).stdout


def _assert_cjk_font_embedded(pdf: bytes, tmp_path: Path) -> None:
    fonts = [line for line in _fonts(pdf, tmp_path).splitlines() if "CJK" in line]
    assert fonts, "no CJK font in the PDF: Chinese would render as empty boxes"
    # Columns: name, type, encoding, emb, sub, uni: every CJK font embedded.
    assert all(re.search(r"Identity-H\s+yes", line) for line in fonts), fonts


async def test_notice_pdf_has_the_title_and_the_providers(
    anonymous: httpx.AsyncClient, tmp_path: Path
) -> None:
    await listing_in(State.in_public_notice)
    await listing_in(State.in_public_notice, organisation="other", district=BINHAI)
    response = await anonymous.get("/api/v1/notices.pdf", params={"district": "120101"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("''")[1]).startswith("和平区公示名单-")
    text = _text(response.content)
    assert "天津市和平区教育局文件" in text
    assert "关于和平区课后服务非学科类培训机构入库名单的公示" in text
    assert ORGANISATION in text and "少儿篮球" in text and "体育" in text
    assert "天津滨海墨香书法培训中心" not in text
    assert "http://testserver/notices" in text and "匿名异议不予受理" in text
    assert "—1—" in text  # the page number
    _assert_cjk_font_embedded(response.content, tmp_path)
    unknown = await anonymous.get("/api/v1/notices.pdf", params={"district": "999999"})
    assert unknown.status_code == 400


async def test_empty_notice_list_still_renders(db: object) -> None:
    document = await notice_document("120116", date(2026, 3, 2), "http://127.0.0.1:8000")
    assert document is not None and document.entries == []
    assert "暂无处于公示期" in notice_html(document)
    assert await notice_document("999999", date(2026, 3, 2), "http://x") is None


async def test_certificate_pdf_for_the_provider(login: Login, tmp_path: Path) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    response = await (await login("provider")).get(f"/api/v1/listings/{listing_id}/certificate")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("''")[1]) == f"入库证书-{ORGANISATION}.pdf"
    text = _text(response.content)
    assert "入库证书" in text
    assert ORGANISATION in text and "和平区" in text and "少儿篮球" in text
    assert f"120101-{listing_id:06d}" in text
    _assert_cjk_font_embedded(response.content, tmp_path)
    url = f"http://testserver/verify/{verify_code(listing_id)}"
    assert url in text
    if shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None:
        pytest.skip("zbarimg (zbar-tools) or pdftoppm missing: the QR code is not decoded")
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=False
    )
    assert decoded.stdout.strip() == url


async def test_certificate_html_carries_the_qr_code(db: object) -> None:
    listing_id = await listing_in(State.listed)
    certificate = await certificate_of(listing_id)
    assert certificate is not None
    html = certificate_html(certificate, "https://whitelist.example.cn/")
    assert "<svg" in html and "viewBox" in html
    assert f"https://whitelist.example.cn/verify/{verify_code(listing_id)}" in html


async def test_certificate_only_for_its_provider_and_district_staff(
    anonymous: httpx.AsyncClient,
    login: Login,  # noqa: F811
) -> None:
    listing_id = await listing_in(State.listed)
    url = f"/api/v1/listings/{listing_id}/certificate"
    for allowed in ("reviewer", "approver"):
        assert (await (await login(allowed)).get(url)).status_code == 200, allowed
    for outsider in ("provider_other", "reviewer_binhai", "school", "city"):
        assert (await (await login(outsider)).get(url)).status_code == 404, outsider
    assert (await anonymous.get(url)).status_code == 404


async def test_no_certificate_before_listing(login: Login) -> None:  # noqa: F811
    provider = await login("provider")
    on_notice = await listing_in(State.in_public_notice)
    assert (await provider.get(f"/api/v1/listings/{on_notice}/certificate")).status_code == 404
    assert (await provider.get("/api/v1/listings/999999/certificate")).status_code == 404


async def test_exited_provider_still_gets_its_certificate(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.exited)
    response = await (await login("provider")).get(f"/api/v1/listings/{listing_id}/certificate")
    assert response.status_code == 200  # the verify page, not the paper, says it has exited


async def test_cli_exports_the_notice_pdf(db: object, tmp_path: Path) -> None:
    await listing_in(State.in_public_notice)
    out = tmp_path / "公示名单.pdf"
    run = await registry(
        db, "export", "notice", "--district", "120101", "--out", str(out), "--date", "2026-03-02"
    )
    assert run.code == 0, run.err
    assert "1 listings" in run.out
    text = _text(out.read_bytes())
    assert "和平教〔2026〕1号" in text and ORGANISATION in text and "2026年3月2日" in text
    unknown = await registry(db, "export", "notice", "--district", "999999", "--out", str(out))
    assert unknown.code != 0 and "999999" in unknown.err and "Traceback" not in unknown.err
    bad_date = await registry(
        db, "export", "notice", "--district", "120101", "--out", str(out), "--date", "3/2/2026"
    )
    assert bad_date.code == 2 and "--date" in bad_date.err
