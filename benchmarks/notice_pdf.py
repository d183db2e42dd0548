"""Time to render the notice list (公示名单) with many rows, and one certificate.

    python benchmarks/notice_pdf.py [--rows 200] [--repeat 3] [--out notice.pdf]

No database: the rows are Faker zh_CN organisations with realistic categories and courses.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The verify code is signed with the secret key: keep the generated one out of the repository.
os.environ.setdefault("REGISTRY_VAR_DIR", tempfile.mkdtemp(prefix="registry-bench-"))

from faker import Faker

from registry.documents.certificate import render_certificate
from registry.documents.notice import (
    Course,
    NoticeDocument,
    NoticeEntry,
    render_notice,
)
from registry.notices.certificates import Certificate, certificate_number, verify_code
from registry.reference import CATEGORY_LABELS
from workflows.states import State

COURSES = {
    "sports": ["少儿篮球", "足球基础", "跆拳道", "花样跳绳", "乒乓球"],
    "arts": ["硬笔书法", "国画", "合唱", "儿童话剧", "古筝"],
    "science": ["机器人搭建", "少儿编程", "航模制作", "科学实验"],
    "heritage": ["剪纸", "泥人张彩塑", "京剧启蒙", "风筝制作"],
    "reading": ["绘本阅读", "经典诵读"],
}
START = date(2026, 3, 3)


def fake_entries(rows: int, seed: int = 2026) -> list[NoticeEntry]:
    """`rows` providers on notice in 和平区."""
    fake = Faker("zh_CN")
    Faker.seed(seed)
    rng = random.Random(seed)
    entries = []
    for index in range(rows):
        categories = tuple(rng.sample(sorted(COURSES), k=rng.choice((1, 1, 2))))
        courses = tuple(
            Course(name, category, CATEGORY_LABELS[category])
            for category in categories
            for name in rng.sample(COURSES[category], k=rng.randint(1, 2))
        )
        start = START + timedelta(days=rng.randint(0, 3))
        entries.append(
            NoticeEntry(
                listing_id=index + 1,
                district_code="120101",
                district_name="和平区",
                organisation_name=f"天津市和平区{fake.company_prefix()}{fake.company_suffix()}",
                provider_kind="organisation",
                categories=categories,
                courses=courses,
                notice_start=start,
                notice_end=start + timedelta(days=6),
            )
        )
    return entries


def fake_certificate() -> Certificate:
    """One listed provider's certificate."""
    return Certificate(
        listing_id=123,
        number=certificate_number("120101", 2026, 123),
        code=verify_code(123),
        organisation_name="天津市和平区飞跃青少年篮球俱乐部有限公司",
        district_code="120101",
        district_name="和平区",
        categories=["体育"],
        courses=["少儿篮球", "花样跳绳"],
        listed_on=date(2026, 3, 16),
        valid_until=date(2029, 3, 16),
        state=State.listed,
        exited_on=None,
        exit_reason=None,
        rectification_due=None,
        organisation_id=1,
        district_id=1,
    )


def timed(label: str, repeat: int, work: object) -> bytes:
    """Run `work` repeat times (after one warm-up) and print the timings."""
    assert callable(work)
    pdf: bytes = work()  # warm-up: loads Pango and the fonts once
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        pdf = work()
        seconds.append(time.perf_counter() - began)
    print(
        f"{label}: median {statistics.median(seconds):.3f} s, "
        f"min {min(seconds):.3f} s over {repeat} runs ({len(pdf) / 1024:.0f} KiB)"
    )
    return pdf


def main() -> None:
    """Render and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="Also write the notice PDF here.")
    args = parser.parse_args()
    document = NoticeDocument(
        "120101",
        "和平区",
        date(2026, 3, 2),
        fake_entries(args.rows),
        "http://127.0.0.1:8000",
        "和平教〔2026〕1号",
    )
    pdf = timed(f"notice list, {args.rows} rows", args.repeat, lambda: render_notice(document))
    timed(
        "certificate",
        args.repeat,
        lambda: render_certificate(fake_certificate(), "http://127.0.0.1:8000"),
    )
    if args.out:
        args.out.write_bytes(pdf)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
