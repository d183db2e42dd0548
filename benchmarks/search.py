"""Search speed: in-process search, the API through a real server, a bare Litestar ceiling.

    python benchmarks/search.py [--rows 100000] [--postgres URL] [--requests 400]

Builds a fresh database of listed providers (SQLite in a temporary folder, or the empty
PostgreSQL database at URL), then for 1-, 2- and 4-character Chinese queries, a pinyin query,
an initials query and a filter-only query measures p50/p95 latency and queries per second of
(a) `registry.public.search.search` in-process (sequential), (b) `GET /api/v1/whitelist` against
`registry serve` (one worker), (c) a bare Litestar endpoint returning a fixed JSON of the same
size served by the same uvicorn, and a LIKE '%…%' scan over the plain table as the naive peer.
(b) and (c) are driven by one async httpx client with 32 concurrent connections; (b) is also
measured through one connection, which shows the per-request cost without queueing.

Targets (issue 4): p95 of (b) within 2x of (a) p95 plus encoding (building the items with their
highlights and encoding the JSON, measured in-process); (b) at least 30% of (c) requests per
second; a 2-character query within 2x of a 4-character one. With 32 connections on one worker
a request waits for the ones ahead of it, so (b) p95 near 32 / parallelism x the service time
is what queueing alone predicts; the 1-connection column isolates the server's own overhead.

The rows are written in bulk (organisations, listings and whitelist_entry with its tokens),
bypassing the workflow engine: the engine path is measured by benchmarks/transitions.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUERIES: list[tuple[str, str, dict[str, object]]] = [
    ("1 字", "舞", {}),
    ("2 字", "篮球", {}),
    ("4 字", "花样跳绳", {}),
    ("全拼", "lanqiu", {}),
    ("首字母", "lq", {}),
    ("2 词", "南开篮球", {}),  # two words joined (issue 13): district + course
    ("同义词", "舞蹈", {}),
    ("繁体", "籃球", {}),
    ("错拼", "lanqui", {}),  # a pinyin typo: no exact match, a suggestion
    ("部分", "篮球 游泳 围棋", {}),  # no provider has all three: the best partial match
    ("仅筛选", "", {"district": ["120101"], "category": ["sports"]}),
]
COURSES = {
    "sports": ["少儿篮球", "足球基础", "跆拳道", "花样跳绳", "乒乓球", "武术", "轮滑", "游泳"],
    "arts": ["硬笔书法", "国画", "合唱", "儿童话剧", "古筝", "中国舞", "街舞", "素描"],
    "science": ["机器人搭建", "少儿编程", "航模制作", "科学实验", "创客"],
    "labour": ["烹饪", "木工", "种植", "手工"],
    "reading": ["绘本阅读", "经典诵读"],
    "heritage": ["剪纸", "泥塑", "围棋", "象棋", "京剧"],
}
OUTLINES = [
    "基本功训练与分组练习",
    "循序渐进，注重兴趣培养",
    "小组合作完成作品展示",
    "规范动作要领",
]


def setup_env(postgres: str | None) -> str:
    """Point the registry at a fresh database before anything imports the tables."""
    folder = Path(tempfile.mkdtemp(prefix="registry-search-bench-"))
    os.environ["REGISTRY_VAR_DIR"] = str(folder)
    os.environ["REGISTRY_CLOCK_INTERVAL"] = "0"
    url = postgres or f"sqlite:///{folder / 'bench.sqlite'}"
    os.environ["REGISTRY_DATABASE_URL"] = url
    return url


def generate(size: int, seed: int = 7) -> list[tuple[object, ...]]:
    """Whitelist rows (Faker zh_CN names, realistic course words) with their tokens."""
    from faker import Faker

    from registry.public.search.tokens import entry_tokens, name_sort_key
    from registry.reference import DISTRICTS

    fake, rng = Faker("zh_CN"), random.Random(seed)
    Faker.seed(seed)
    prefixes = list({fake.company_prefix() for _ in range(3000)})
    kinds = ["体育俱乐部有限公司", "艺术培训中心", "教育科技有限公司", "文化发展有限公司", "工作室"]
    rows = []
    for i in range(1, size + 1):
        code, district, _ = rng.choice(DISTRICTS)
        categories = rng.sample(list(COURSES), rng.choice([1, 1, 2]))
        courses = [c for cat in categories for c in rng.sample(COURSES[cat], rng.randint(1, 2))]
        name = f"天津市{district}{rng.choice(prefixes)}{rng.choice(kinds)}"[:120] + f"{i:05d}"
        outline = rng.choice(OUTLINES)
        description = f"{name[-12:]}主要开设{'、'.join(courses)}等课程。"
        tokens = entry_tokens(name, courses, [outline], description, district)
        fees = sorted(rng.choice([80, 100, 120, 150, 180, 200, 260]) for _ in courses)
        listed = datetime(2025, 1, 1, tzinfo=UTC).timestamp() + rng.randint(0, 600) * 86400
        rows.append(
            (i, i, i, name, "organisation", code, district, "listed", False, " ".join(categories),
             "\n".join(courses), outline, description, "lower_primary upper_primary",
             fees[0], fees[-1], name_sort_key(name), tokens.search, tokens.name, tokens.words,
             datetime.fromtimestamp(listed, UTC), date(2028, 6, 30))
        )  # fmt: skip
    return rows


ENTRY_COLUMNS = (
    "id", "listing", "organisation_id", "organisation_name", "provider_kind", "district_code",
    "district_name", "state", "rectifying", "categories", "courses", "outlines", "description",
    "grade_bands", "fee_min", "fee_max", "name_sort", "search_tokens", "name_tokens",
    "word_tokens", "listed_at", "valid_until",
)  # fmt: skip


async def load(url: str, rows: list[tuple[object, ...]]) -> None:
    """Bulk insert organisations, listings and projection rows (the index follows)."""
    from registry.tables import District

    districts = {r["code"]: r["id"] for r in await District.select(District.code, District.id)}
    orgs = [(r[0], r[3]) for r in rows]
    listings = [(r[0], r[0], districts[str(r[5])], "listed") for r in rows]
    if url.startswith("sqlite"):
        import sqlite3

        from registry.db import sqlite_path

        with sqlite3.connect(sqlite_path(url)) as db:
            db.executemany("INSERT INTO organisation (id, name) VALUES (?, ?)", orgs)
            db.executemany(
                "INSERT INTO listing (id, organisation, district, state) VALUES (?, ?, ?, ?)",
                listings,
            )
            marks = ", ".join("?" for _ in ENTRY_COLUMNS)
            db.executemany(
                f"INSERT INTO whitelist_entry ({', '.join(ENTRY_COLUMNS)}) VALUES ({marks})",
                [(*r[:20], r[20].isoformat(), r[21].isoformat()) for r in rows],
            )
            db.execute("ANALYZE")
        return
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.copy_records_to_table("organisation", records=orgs, columns=["id", "name"])
        await connection.copy_records_to_table(
            "listing", records=listings, columns=["id", "organisation", "district", "state"]
        )
        await connection.copy_records_to_table(
            "whitelist_entry", records=rows, columns=list(ENTRY_COLUMNS)
        )
        for table in ("organisation", "listing", "whitelist_entry"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {len(rows)})"
            )
        # What autovacuum does after a bulk load: the visibility map lets grouping the whole
        # list by district and category read the index alone.
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def stats(latencies: list[float], elapsed: float) -> tuple[float, float, float]:
    """p50 and p95 in milliseconds, and queries per second."""
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000, len(ordered) / elapsed


async def timed(call: Callable[[], Awaitable[object]], count: int) -> tuple[float, float, float]:
    """Sequential calls after a warm-up."""
    for _ in range(max(3, count // 10)):
        await call()
    latencies = []
    start = time.perf_counter()
    for _ in range(count):
        t = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - t)
    return stats(latencies, time.perf_counter() - start)


async def load_test(url: str, count: int, concurrency: int) -> tuple[float, float, float]:
    """`count` GETs of one URL through `concurrency` connections, after a warm-up."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        await asyncio.gather(*(client.get(url) for _ in range(concurrency)))
        latencies: list[float] = []
        remaining = iter(range(count))

        async def worker() -> None:
            for _ in remaining:
                t = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - t)
                assert response.status_code == 200, response.text[:200]

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return stats(latencies, time.perf_counter() - start)


def serve_bare(port: int, body_file: str) -> None:
    """The framework ceiling: one Litestar route answering a fixed JSON document.

    Served with the same uvicorn settings as `registry serve` (one worker, info log level with
    access lines), so the ratio compares the applications, not the server configurations.
    """
    import uvicorn
    from litestar import Litestar, get

    document = json.loads(Path(body_file).read_text("utf-8"))

    @get("/fixed", sync_to_thread=False)
    def fixed() -> dict[str, object]:
        return document

    @get("/api/v1/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(Litestar([fixed, health]), host="127.0.0.1", port=port, workers=1)


def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    """A server process, once it answers."""
    import httpx

    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


async def like_scan(word: str) -> None:
    """The naive peer: LIKE '%word%' over the plain columns, with a count."""
    from registry.tables import WhitelistEntry as W

    pattern = f"%{word}%"
    where = (
        W.organisation_name.like(pattern)
        | W.courses.like(pattern)
        | W.outlines.like(pattern)
        | W.description.like(pattern)
    )
    await W.select(W.id, W.organisation_name).where(where).order_by(W.name_sort).limit(20)
    await W.count().where(where)


async def encode_time(q: str, extra: dict[str, object], count: int) -> tuple[float, float, float]:
    """Items with highlights and the JSON encoding, for one page already searched."""
    import msgspec

    from registry.api.whitelist import WhitelistPage
    from registry.public.search import Filters, search
    from registry.public.search.service import to_item
    from registry.public.search.tokens import parse_query

    filters = Filters(districts=extra.get("district", []), categories=extra.get("category", []))  # type: ignore[arg-type]
    result = await search(q, filters)

    async def encode() -> None:
        query = parse_query(q)
        items = [to_item(row, query) for row in result.items]
        page = WhitelistPage(
            total=result.total, page=1, page_size=20, items=items, facets=result.facets
        )
        msgspec.json.encode(page)

    return await timed(encode, count)


def verdict(ok: bool) -> str:
    """A target line's mark."""
    return "met" if ok else "NOT met"


async def main() -> None:
    """Build, serve, measure, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", "--size", dest="size", type=int, default=100_000)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    parser.add_argument("--requests", type=int, default=400, help="per query and mode")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--port", type=int, default=8071)
    args = parser.parse_args()
    url = setup_env(args.postgres)

    from urllib.parse import urlencode

    import httpx

    from registry.cli import migrate_database
    from registry.public.search import Filters, search

    t = time.perf_counter()
    await migrate_database()
    rows = generate(args.size)
    t_gen = time.perf_counter() - t
    await load(url, rows)
    engine = "postgresql" if args.postgres else "sqlite"
    print(f"{args.size} providers on {engine}: generated in {t_gen:.0f} s, "
          f"loaded in {time.perf_counter() - t - t_gen:.0f} s")  # fmt: skip

    from registry.app import close_database_pool, open_database_pool

    # As the server does at start-up: (a) must not open a PostgreSQL connection per search.
    await open_database_pool()
    registry = [sys.executable, "-m", "registry", "serve", "--port", str(args.port)]
    bare_port = args.port + 1
    results = []
    server = start(registry, args.port)
    try:
        base = f"http://127.0.0.1:{args.port}/api/v1/whitelist?"
        bodies = {}
        for label, q, extra in QUERIES:
            filters = Filters(
                districts=extra.get("district", []), categories=extra.get("category", [])
            )  # type: ignore[arg-type]
            inproc = await timed(lambda q=q, f=filters: search(q, f), args.requests)
            encoding = await encode_time(q, extra, args.requests)
            api_url = base + urlencode({"q": q, **extra}, doseq=True)
            api = await load_test(api_url, args.requests * 2, args.concurrency)
            single = await load_test(api_url, max(50, args.requests // 4), 1)
            like = await timed(lambda q=q: like_scan(q), 20) if q and not q.isascii() else None
            bodies[label] = httpx.get(api_url).content
            results.append((label, q or "district+category", inproc, encoding, api, single, like))
    finally:
        server.terminate()
        server.wait()
        await close_database_pool()
    body_file = Path(os.environ["REGISTRY_VAR_DIR"]) / "fixed.json"
    body_file.write_bytes(bodies["2 字"])
    bare_cmd = [sys.executable, __file__, "--serve-bare", str(bare_port), str(body_file)]
    bare = start(bare_cmd, bare_port)
    try:
        ceiling = await load_test(
            f"http://127.0.0.1:{bare_port}/fixed", args.requests * 2, args.concurrency
        )
    finally:
        bare.terminate()
        bare.wait()

    print(f"(c) bare Litestar, fixed {len(bodies['2 字'])}-byte JSON (the 2-character answer), "
          f"{args.concurrency} connections: p50 {ceiling[0]:.1f} ms  p95 {ceiling[1]:.1f} ms  "
          f"{ceiling[2]:.0f} req/s")  # fmt: skip
    head = (f"{'query':<6}{'text':<18}{'(a) p50':>8}{'p95':>7}{'enc p95':>8}{'(b) p50':>9}"
            f"{'p95':>8}{'req/s':>7}{'(b)1c p50':>10}{'(c) req/s':>10}{'LIKE p50':>9}"
            f"{'b/a p95':>8}{'b/c req/s':>10}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for label, text, a, enc, b, one, like in results:
        like_text = f"{like[0]:.1f}" if like else "n/a"
        ratio_a, ratio_c = b[1] / (a[1] + enc[1]), b[2] / ceiling[2]
        print(f"{label:<5}{text:<17}{a[0]:>8.1f}{a[1]:>7.1f}{enc[1]:>8.2f}{b[0]:>9.1f}{b[1]:>8.1f}"
              f"{b[2]:>7.0f}{one[0]:>10.1f}{ceiling[2]:>10.0f}{like_text:>9}{ratio_a:>8.1f}"
              f"{ratio_c:>10.0%}")  # fmt: skip
    print(
        f"(a) in-process search(), sequential; enc = items, highlights and JSON encoding; "
        f"(b) GET /api/v1/whitelist, 1 worker, {args.concurrency} connections, (b)1c through "
        "1 connection; latencies in ms; LIKE = naive scan, in-process; b/a p95 = (b) p95 / "
        "((a) p95 + enc p95)"
    )
    print("targets:")
    for label, _, a, enc, b, one, _ in results:
        alone = verdict(one[0] <= 2 * (a[0] + enc[0]))
        print(f"  {label}: (b) p95 {b[1]:.1f} ms <= 2 x ((a) + enc) {2 * (a[1] + enc[1]):.1f} ms:"
              f" {verdict(b[1] <= 2 * (a[1] + enc[1]))}; through 1 connection (b) p50"
              f" {one[0]:.1f} ms <= 2 x {a[0] + enc[0]:.1f}: {alone}"
              f"; (b) {b[2]:.0f} req/s >= 30% of (c) {0.3 * ceiling[2]:.0f}:"
              f" {verdict(b[2] >= 0.3 * ceiling[2])}")  # fmt: skip
    by_label = {r[0]: r for r in results}
    two, four = by_label["2 字"], by_label["4 字"]
    print(f"  2-character within 2x of 4-character: (a) p50 {two[2][0]:.1f} vs {four[2][0]:.1f} ms:"
          f" {verdict(two[2][0] <= 2 * four[2][0])}; (b) p95 {two[4][1]:.1f} vs {four[4][1]:.1f}"
          f" ms: {verdict(two[4][1] <= 2 * four[4][1])}")  # fmt: skip
    joined = by_label["2 词"]
    print(f"  2-word query within 2x of a 1-word one: (a) p50 {joined[2][0]:.1f} vs"
          f" {two[2][0]:.1f} ms: {verdict(joined[2][0] <= 2 * two[2][0])}")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-bare":
        serve_bare(int(sys.argv[2]), sys.argv[3])
    else:
        asyncio.run(main())
