"""Importing a district's existing whitelist: CSV/XLSX, Chinese/English headers, CLI and page."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from pathlib import Path

import httpx
from openpyxl import Workbook
from piccolo.engine.base import Engine

from registry.importing import import_whitelist, name_key
from registry.tables import AuditEvent, Listing, Organisation, WhitelistEntry
from tests.api import conftest as api_fixtures
from tests.cast import BINHAI, CAST, HEPING
from tests.cli_runner import registry
from workflows import timesource
from workflows.audit import verify
from workflows.identity import uscc_check_char

login = api_fixtures.login  # the API's login fixture: the same session serves the pages


def uscc(body: str) -> str:
    """A valid USCC from its first 17 characters."""
    return body + uscc_check_char(body)


TONGXIN = uscc("91120101MA05T9WX3")
KEXUEJIA = uscc("91120116MA07QR8K2")
FEIYUE = "91120101MA06B2C3DU"  # the cast's provider, already registered (not listed)
CN_HEADER = ["序号", "机构名称", "类别", "项目", "统一社会信用代码", "有效期至"]
GOOD_CN = [
    ["1", "天津市和平区童心美术培训中心", "艺术、文化艺术", "少儿美术；书法", TONGXIN, "2099/8/31"],
    ["2", "天津市和平区小小科学家俱乐部", "科技，综合实践", "机器人编程;创客", "", "2099年8月31日"],
    ["3", "天津市和平区飞跃青少年篮球俱乐部有限公司", "体育", "少儿篮球", FEIYUE, ""],
]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    """A CSV file as Excel writes it."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


async def counts() -> tuple[int, int, int, int]:
    """Organisations, listings, projection rows and audit events."""
    return (
        await Organisation.count(),
        await Listing.count(),
        await WhitelistEntry.count(),
        await AuditEvent.count(),
    )


async def test_csv_with_chinese_headers_lists_through_the_engine(db: Engine) -> None:
    before = await counts()
    report = await import_whitelist(csv_bytes([CN_HEADER, *GOOD_CN]), HEPING, "tester")
    assert report.applied and not report.problems and not report.skipped
    assert [r.row for r in report.imported] == [2, 3, 4]
    assert [r.new_organisation for r in report.imported] == [True, True, False]
    assert report.imported[2].organisation_id == CAST.organisations["feiyue"]
    entries = {
        e["organisation_name"]: e
        for e in await WhitelistEntry.select().where(WhitelistEntry.district_code == HEPING)
    }
    tongxin = entries["天津市和平区童心美术培训中心"]
    assert tongxin["categories"] == "arts" and tongxin["courses"] == "少儿美术\n书法"
    assert tongxin["valid_until"] == date(2099, 8, 31) and tongxin["state"] == "listed"
    kexuejia = entries["天津市和平区小小科学家俱乐部"]
    assert kexuejia["categories"] == "science labour"  # 综合实践 is practice/labour
    assert kexuejia["courses"] == "机器人编程\n创客"
    feiyue = entries["天津市和平区飞跃青少年篮球俱乐部有限公司"]
    assert feiyue["valid_until"] is not None and feiyue["valid_until"] > timesource.local_today()
    listings = await Listing.select().where(
        Listing.id.is_in([r.listing_id for r in report.imported])
    )
    assert {row["state"] for row in listings} == {"listed"}
    events = await AuditEvent.select().where(AuditEvent.action == "import")
    assert len(events) == 3
    assert {(e["actor_name"], e["role"], e["to_state"]) for e in events} == {
        ("import:tester", "system", "listed")
    }
    after = await counts()
    # Each listing: its creation event, then the import transition.
    assert after == (before[0] + 2, before[1] + 3, before[2] + 3, before[3] + 6)
    assert (await verify()).ok

    again = await import_whitelist(csv_bytes([CN_HEADER, *GOOD_CN]), HEPING, "tester")
    assert not again.imported and [s.row for s in again.skipped] == [2, 3, 4]
    assert again.skipped[0].reason == "已在白名单中"
    assert await counts() == after


async def test_every_imported_listing_has_its_creation_event_before_the_import(
    db: Engine,
) -> None:
    report = await import_whitelist(csv_bytes([CN_HEADER, *GOOD_CN]), HEPING, "tester")
    imported = [r.listing_id for r in report.imported]
    events = await (
        AuditEvent.select()
        .where(AuditEvent.listing.is_in(imported))
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    for listing_id in imported:
        own = [e for e in events if e["listing"] == listing_id]
        assert [(e["action"], e["from_state"], e["to_state"]) for e in own] == [
            ("application.created", None, "draft"),
            ("import", "draft", "listed"),
        ]
        created = own[0]
        assert (created["actor_name"], created["role"]) == ("import:tester", "system")
        assert created["payload"] == {"listing": listing_id, "district": HEPING}
    result = await verify()
    assert result.ok, result.problem
    assert result.checked == await AuditEvent.count()


async def test_xlsx_with_english_headers_and_date_cells(db: Engine, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["滨海新区课后服务机构白名单（2024年版）"])  # a title row above the header
    sheet.append(["No.", "Name", "Category", "Projects", "USCC", "Valid Until"])
    sheet.append([1, "天津滨海新区启航科技教育中心", "science", "编程；无人机", KEXUEJIA, None])
    sheet.append(
        [2, "天津滨海新区非遗剪纸工作室", "非遗、其它", "剪纸", None, datetime(2098, 7, 1)]
    )
    path = tmp_path / "binhai.xlsx"
    book.save(path)
    report = await import_whitelist(path.read_bytes(), BINHAI, "tester")
    assert not report.problems and [r.row for r in report.imported] == [3, 4]
    rows = {
        e["organisation_name"]: e
        for e in await WhitelistEntry.select().where(WhitelistEntry.district_code == BINHAI)
    }
    assert rows["天津滨海新区启航科技教育中心"]["courses"] == "编程\n无人机"
    assert rows["天津滨海新区非遗剪纸工作室"]["categories"] == "heritage other"
    assert rows["天津滨海新区非遗剪纸工作室"]["valid_until"] == date(2098, 7, 1)
    organisation = await Organisation.select().where(Organisation.uscc == KEXUEJIA).first()
    assert organisation["kind"] == "organisation"


BAD = [
    ["机构名称", "类别", "项目", "统一社会信用代码", "有效期至"],
    ["天津市和平区童心美术培训中心", "艺术", "少儿美术", TONGXIN, ""],
    ["天津市和平区墨韵书画院", "书画", "国画", "", ""],
    ["天津市和平区某某培训中心", "体育", "足球", "91120101MA05T9WX3A", ""],
    ["", "体育", "游泳", "", ""],
    ["天津市和平区晨光阅读馆", "阅读", "绘本阅读", "", "2020-01-31"],
    ["天津市和平区童心美术培训中心", "艺术", "少儿美术", "", ""],
    ["天津市和平区悦心心理工作室", "心理健康", "情绪管理", "", "2099-13-01"],
]


async def test_bad_rows_import_nothing_unless_partial(db: Engine) -> None:
    before = await counts()
    report = await import_whitelist(csv_bytes(BAD), HEPING, "tester")
    assert not report.applied and report.refused and not report.imported
    texts = [p.text for p in report.problems]
    assert texts[0] == "第3行 类别：未知的类别“书画”"
    assert texts[1].startswith("第4行 统一社会信用代码：第18位校验码应为")
    assert texts[2] == "第5行 机构名称：机构名称为空"
    assert texts[3] == "第6行 有效期至：有效期已于 2020-01-31 届满"
    assert texts[4] == "第7行 整行：与第2行重复"
    assert texts[5].startswith("第8行 有效期至：日期格式有误")
    assert await counts() == before

    partial = await import_whitelist(csv_bytes(BAD), HEPING, "tester", partial=True)
    assert partial.applied and [r.row for r in partial.imported] == [2]
    assert len(partial.problems) == 6 and not partial.refused


async def test_full_width_brackets_match_the_registered_name(db: Engine) -> None:
    written = "天津市河西区小星星(艺术)培训中心"
    created = await Organisation.insert(Organisation(name=written)).returning(Organisation.id)
    assert name_key("天津市河西区小星星（艺术） 培训中心") == name_key(written)
    rows = [["机构名称", "类别", "项目"], ["天津市河西区小星星（艺术）培训中心 ", "艺术", "舞蹈"]]
    report = await import_whitelist(csv_bytes(rows), HEPING, "tester")
    assert report.imported[0].organisation_id == created[0]["id"]
    assert not report.imported[0].new_organisation
    entry = await WhitelistEntry.select().where(WhitelistEntry.district_code == HEPING).first()
    assert entry["organisation_name"] == written  # displayed as registered, not rewritten


async def test_new_names_are_stored_as_written(db: Engine) -> None:
    rows = [["机构名称", "类别", "项目"], ["  天津市和平区ＡＢＣ（英语）戏剧社 ", "艺术", "戏剧"]]
    report = await import_whitelist(csv_bytes(rows), HEPING, "tester")
    organisation = (
        await Organisation.select()
        .where(Organisation.id == report.imported[0].organisation_id)
        .first()
    )
    assert organisation["name"] == "天津市和平区ＡＢＣ（英语）戏剧社"


async def test_gbk_csv(db: Engine) -> None:
    data = csv_bytes([CN_HEADER, *GOOD_CN[:2]], encoding="gbk")
    report = await import_whitelist(data, HEPING, "tester")
    assert [r.name for r in report.imported] == [GOOD_CN[0][1], GOOD_CN[1][1]]


async def test_cli_end_to_end(db: Engine, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(csv_bytes([CN_HEADER, *GOOD_CN[:2]]))
    bad.write_bytes(csv_bytes(BAD))
    args = ("import", "whitelist", "--district", HEPING, "--operator", "cli-test")

    refused = await registry(db, *args, str(bad))
    assert refused.code == 1 and "第3行 类别：未知的类别“书画”" in refused.out
    assert "未导入任何机构" in refused.out and await WhitelistEntry.count() == 0

    done = await registry(db, *args, str(good))
    assert done.code == 0, done.err
    assert "导入 2 家" in done.out
    names = await AuditEvent.select(AuditEvent.actor_name).where(AuditEvent.action == "import")
    assert {n["actor_name"] for n in names} == {"import:cli-test"}
    twice = await registry(db, *args, str(good))
    assert twice.code == 0 and "导入 0 家" in twice.out and "跳过 2 家" in twice.out

    partial = await registry(db, *args, "--partial", str(bad))
    assert partial.code == 0 and "第4行 统一社会信用代码" in partial.out

    unknown = await registry(db, "import", "whitelist", "--district", "999999", str(good))
    assert unknown.code == 2 and "未知的区代码" in unknown.err and "Traceback" not in unknown.err
    missing = await registry(db, *args, str(tmp_path / "nope.csv"))
    assert missing.code == 2 and "无法读取文件" in missing.err and "Traceback" not in missing.err
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04 not really a workbook")
    broken = await registry(db, *args, str(garbage))
    assert broken.code == 2 and "XLSX" in broken.err and "Traceback" not in broken.err


async def test_upload_page_for_district_staff(
    login: api_fixtures.Login, db: Engine, anonymous: httpx.AsyncClient
) -> None:
    reviewer = await login("reviewer")
    page = await reviewer.get("/bureau/import")
    assert page.status_code == 200 and "和平区（120101）" in page.text
    assert "滨海新区" not in page.text
    bad = await reviewer.post(
        "/bureau/import",
        data={"district": HEPING},
        files={"file": ("白名单.csv", csv_bytes(BAD), "text/csv")},
    )
    assert bad.status_code == 422 and "未知的类别“书画”" in bad.text and "第3行" in bad.text
    ok = await reviewer.post(
        "/bureau/import",
        data={"district": HEPING, "partial": "on"},
        files={"file": ("白名单.csv", csv_bytes(BAD), "text/csv")},
    )
    assert ok.status_code == 200 and "天津市和平区童心美术培训中心" in ok.text
    event = await AuditEvent.select().where(AuditEvent.action == "import").first()
    assert event["actor_name"] == "import:reviewer"
    assert event["actor_id"] == CAST.users["reviewer"]
    other_district = await reviewer.post(
        "/bureau/import",
        data={"district": BINHAI},
        files={"file": ("白名单.csv", csv_bytes(BAD), "text/csv")},
    )
    assert other_district.status_code == 422 and "请选择本区" in other_district.text

    provider = await login("provider")
    assert (await provider.get("/bureau/import")).status_code == 404
    posted = await provider.post(
        "/bureau/import",
        data={"district": HEPING},
        files={"file": ("a.csv", csv_bytes(GOOD_CN), "text/csv")},
    )
    assert posted.status_code == 404
    away = await anonymous.get("/bureau/import")
    assert away.status_code == 303 and away.headers["location"].startswith("/login")


async def test_two_imports_at_once_list_each_provider_once(db: Engine) -> None:
    data = csv_bytes([CN_HEADER, *GOOD_CN])
    first, second = await asyncio.gather(
        import_whitelist(data, HEPING, "one"), import_whitelist(data, HEPING, "two")
    )
    assert len(first.imported) + len(second.imported) == 3
    assert len(first.skipped) + len(second.skipped) == 3
    assert await WhitelistEntry.count() == 3
    assert await Organisation.count().where(Organisation.uscc == TONGXIN) == 1


async def test_upload_over_10_mb_is_refused(login: api_fixtures.Login, db: Engine) -> None:
    reviewer = await login("reviewer")
    big = csv_bytes([CN_HEADER]) + b"x" * (10 * 1024 * 1024)
    response = await reviewer.post(
        "/bureau/import", data={"district": HEPING}, files={"file": ("big.csv", big, "text/csv")}
    )
    assert response.status_code == 413 and await WhitelistEntry.count() == 0


async def test_imported_providers_are_found_by_search(
    db: Engine, anonymous: httpx.AsyncClient
) -> None:
    await import_whitelist(csv_bytes([CN_HEADER, *GOOD_CN]), HEPING, "tester")
    found = await anonymous.get("/api/v1/whitelist", params={"q": "美术", "district": HEPING})
    assert found.status_code == 200
    assert [i["name"] for i in found.json()["items"]] == ["天津市和平区童心美术培训中心"]
