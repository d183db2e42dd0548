"""A district's whitelist exported as CSV, XLSX, JSON and the announcement PDF, read back."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.cast import BINHAI, CAST, HEPING, PATHS, PROVIDER_OF, T0, actor, listing_in
from tests.cli_runner import registry
from tests.factories import individual_application, new_listing, state_of
from workflows import engine
from workflows.states import State

FEIYUE = "天津市和平区飞跃青少年篮球俱乐部有限公司"
OTHER = "天津滨海墨香书法培训中心"


async def listed_arts_provider() -> int:
    """The calligraphy centre listed in Heping with an arts course, then under rectification."""
    listing_id = await new_listing(
        CAST.organisations["other"], CAST.districts[HEPING], individual_application()
    )
    for action, who, options in PATHS[State.under_rectification]:
        who = PROVIDER_OF["other"] if who == "provider" else who
        _, version = await state_of(listing_id)
        await engine.fire(
            listing_id, action, await actor(who), version=version, **{"now": T0, **options}
        )
    return listing_id


async def whitelist() -> tuple[int, int]:
    """Two providers on Heping's whitelist, and one in Binhai that must not show."""
    feiyue = await listing_in(State.listed)
    other = await listed_arts_provider()
    await listing_in(State.listed, organisation="feiyue", district=BINHAI)
    return feiyue, other


async def export(client: httpx.AsyncClient, fmt: str) -> httpx.Response:
    response = await client.get(
        "/api/v1/whitelist/export", params={"district": HEPING, "format": fmt}
    )
    assert response.status_code == 200, response.text
    return response


async def test_csv_opens_with_the_chinese_names(anonymous: httpx.AsyncClient) -> None:
    await whitelist()
    response = await export(anonymous, "csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert unquote(disposition.split("''")[1]).startswith("和平区白名单-")
    assert disposition.endswith(".csv") and 'filename="whitelist-120101-' in disposition
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["序号", "机构名称"]
    assert sorted(r[1] for r in rows[1:]) == sorted([FEIYUE, OTHER])
    feiyue = next(r for r in rows if r[1] == FEIYUE)
    assert "少儿篮球" in feiyue and "体育" in feiyue and "小学低年级、小学高年级" in feiyue
    assert "150" in feiyue and "少儿篮球：周一 16:30-18:30、周三 16:30-18:30" in feiyue
    assert "整改中" in next(r for r in rows if r[1] == OTHER)


async def test_xlsx_has_a_sheet_for_all_and_one_per_category(
    anonymous: httpx.AsyncClient,
) -> None:
    await whitelist()
    response = await export(anonymous, "xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["全部", "体育", "艺术"]
    sheet = workbook["全部"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    assert sheet.column_dimensions["B"].width >= 30
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted([FEIYUE, OTHER])
    sports = [r[1] for r in workbook["体育"].iter_rows(min_row=2, values_only=True)]
    arts = [r[4] for r in workbook["艺术"].iter_rows(min_row=2, values_only=True)]
    assert sports == [FEIYUE] and arts == ["硬笔书法"]


async def test_json_parses_and_carries_no_personal_data(anonymous: httpx.AsyncClient) -> None:
    feiyue, other = await whitelist()
    response = await export(anonymous, "json")
    body = json.loads(response.content)
    assert body["district"] == HEPING and body["total"] == 2
    items = {item["listing_id"]: item for item in body["items"]}
    assert set(items) == {feiyue, other}
    assert items[feiyue]["courses"][0]["name"] == "少儿篮球"
    assert items[other]["rectifying"] is True
    assert "resident_id" not in response.text and "13820001234" not in response.text


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


async def test_announcement_pdf(anonymous: httpx.AsyncClient, tmp_path: Path) -> None:
    await whitelist()
    response = await export(anonymous, "pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert unquote(response.headers["content-disposition"].split("''")[1]).startswith(
        "和平区白名单公告-"
    )
    text = _text(response.content)
    assert "天津市和平区教育局文件" in text
    assert "关于公布和平区课后服务非学科类培训机构白名单的公告" in text
    assert FEIYUE in text and "体育类（1家）" in text and "艺术类（1家）" in text
    assert f"{OTHER}（整改中）" in text and "特此公告" in text
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (Debian package poppler-utils) is not installed")
    path = tmp_path / "announcement.pdf"
    path.write_bytes(response.content)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    cjk = [line for line in fonts.stdout.splitlines() if "CJK" in line]
    assert cjk and all(re.search(r"Identity-H\s+yes", line) for line in cjk), fonts.stdout


async def test_bad_requests_say_what_is_wrong(anonymous: httpx.AsyncClient) -> None:
    for params, field in (
        ({"district": "999999", "format": "csv"}, "district"),
        ({"format": "csv"}, "district"),
        ({"district": HEPING, "format": "doc"}, "format"),
    ):
        response = await anonymous.get("/api/v1/whitelist/export", params=params)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == field


async def test_cli_writes_each_format(db: object, tmp_path: Path) -> None:
    await whitelist()
    for fmt in ("csv", "xlsx", "json", "pdf"):
        out = tmp_path / f"白名单.{fmt}"
        run = await registry(
            db, "export", "whitelist", "--district", HEPING, "--format", fmt, "--out", str(out)
        )
        assert run.code == 0, run.err
        assert "2 listings" in run.out
        assert out.stat().st_size > 0
    assert FEIYUE in (tmp_path / "白名单.csv").read_bytes().decode("utf-8-sig")
    assert json.loads((tmp_path / "白名单.json").read_text(encoding="utf-8"))["total"] == 2
    assert load_workbook(tmp_path / "白名单.xlsx").sheetnames[0] == "全部"
    assert (tmp_path / "白名单.pdf").read_bytes().startswith(b"%PDF")
    unknown = await registry(
        db, "export", "whitelist", "--district", "999999", "--format", "csv", "--out", str(out)
    )
    assert unknown.code == 2 and "999999" in unknown.err and "Traceback" not in unknown.err
