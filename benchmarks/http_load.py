"""HTTP load: requests per second and latency of `registry serve` under wrk, and a mixed morning.

    .venv/bin/python benchmarks/http_load.py [--rows 100000] [--postgres URL] [--duration 10]
        [--connections 32] [--workers 1,2] [--mixed 60] [--keep DIR]

What it builds. The demo data set (`registry seed-demo`: logins, drafts, listings in every state,
schools, certificates) is written first, then benchmarks/search.py's generator and bulk loader add
`--rows` listed providers (ids from 1,000,000 up, so they follow the demo's rows). SQLite in a
temporary folder by default, or the empty PostgreSQL database at URL. `--keep DIR` builds into
DIR (database, keys, uploaded files) and reuses it on the next run with the same options.

What it measures. wrk (`wrk -t2 -c{connections} -d{duration}s --latency --timeout 10s`) against
a bare Litestar endpoint that answers the 2-character search's JSON bytes (the framework
ceiling, from search.py) and against `registry serve --workers N` for each N of --workers:
health, provider pages (many providers at random), /verify and a certificate's /verify/{code},
a listing read by its district's reviewer (session cookie), GET /api/v1/whitelist?q=… for every
query kind of search.py's QUERIES, and the search page /?q=篮球. Every URL is fetched once and
must answer 200 before it is loaded.

How to read it. One markdown table per worker count: req/s, wrk's p50 and p99 in ms, errors
(non-2xx/3xx answers plus socket errors: connect/read/write/timeout), and req/s as a percent of
the bare endpoint. Then the 2-worker / 1-worker throughput ratio (on a 2-core machine wrk takes
a share of the CPU, so 2.0 is out of reach) and each worker's PSS (proportional set size: shared
pages split between the processes that map them; RSS would count them once per process).

The mixed load (`--mixed` seconds, 0 to skip) runs concurrent wrk processes, 64 connections in
all, against `registry serve --workers 2`: parents searching (24, random query kinds), parents
opening provider pages (16), a provider saving its draft application (8, PUT
/api/v1/listings/{id}/form with its session cookie and the double-submit CSRF cookie + header),
the same provider uploading a small PDF (4, POST /api/v1/listings/{id}/documents), reviewers
suspending and reinstating listed listings (6, each connection its own listing, alternating, the
version taken from each answer) and a school recording engagements (6, POST /api/v1/engagements).
Each write script counts its 2xx answers and prints the total; the benchmark then counts the rows
the writes left (audit events of form saves, documents, listing versions, engagements): the
database must hold at least every acknowledged write (more is a request cut off by wrk's stop
after the server committed it). `registry audit verify` is then run on the database. The bulk
rows come without audit events (search.py bypasses the workflow engine), so verify stops at the
first of them ("its state was changed outside the workflow"); the check passes when the chain is
intact and the first listing verify finds at fault is a bulk one, i.e. every listing the demo and
the load wrote is consistent with its trail. With --rows 0 verify must pass outright.

For the upload load the organisation's document quota is lifted (REGISTRY_UPLOAD_QUOTA_FILES):
200 files would otherwise refuse the rest. The server's log (access lines, tracebacks) is kept
in the run folder; lines with status 500 or 'database is locked' are counted and shown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import search as bench

BULK_OFFSET = 1_000_000
PASSWORD = "Demo-2026-tj"
REVIEWER, PROVIDER, SCHOOL = "reviewer_120101", "provider_8", "school_1"
WRK_TIMEOUT = "10s"
MIXED_CONNECTIONS = {
    "search": 24,
    "provider page": 16,
    "save draft": 8,
    "upload": 4,
    "transition": 6,
    "engagement": 6,
}
SUSPEND_REASON = "基准测试：暂停核查"
REINSTATE_REASON = "基准测试：核查完毕恢复"
WRITES = ("save draft", "upload", "transition", "engagement")


# --- the database ------------------------------------------------------------------------------


def configure(args: argparse.Namespace) -> tuple[str, Path, bool]:
    """Environment for the database (search.py's setup_env, then --keep's folder): url, folder,
    and whether a build is needed."""
    url = bench.setup_env(args.postgres)
    folder = Path(os.environ["REGISTRY_VAR_DIR"])
    if args.keep:
        folder.rmdir()  # setup_env's empty temporary folder: the kept one replaces it
        folder = Path(args.keep).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["REGISTRY_VAR_DIR"] = str(folder)
        if not args.postgres:
            url = f"sqlite:///{folder / 'bench.sqlite'}"
            os.environ["REGISTRY_DATABASE_URL"] = url
    marker = folder / "http_load.json"
    wanted = {"url": url, "rows": args.rows}
    if marker.exists():
        built = json.loads(marker.read_text("utf-8"))
        if built != wanted:
            raise SystemExit(f"{folder} holds a database built with {built}, not {wanted}")
        return url, folder, False
    return url, folder, True


async def build(url: str, rows: int, folder: Path) -> None:
    """Migrate, seed the demo, bulk-load the providers after it; print the times."""
    from registry.cli import migrate_database
    from registry.demo import seed_demo_data

    began = time.perf_counter()
    await migrate_database()
    await seed_demo_data()
    seeded = time.perf_counter()
    generated = bench.generate(rows)
    # Each row starts with its organisation, listing and entry id, all the same number.
    shifted = [(*[int(str(r[0])) + BULK_OFFSET] * 3, *r[3:]) for r in generated]
    made = time.perf_counter()
    if shifted:
        await bench.load(url, shifted)
    if url.startswith("postgres"):
        import asyncpg  # type: ignore[import-untyped]

        # load() sets each sequence to the row count; the ids go up to BULK_OFFSET + rows.
        connection = await asyncpg.connect(url)
        try:
            for table in ("organisation", "listing", "whitelist_entry"):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
        finally:
            await connection.close()
    done = time.perf_counter()
    print(
        f"built in {done - began:.0f} s: demo data {seeded - began:.0f} s, {rows} providers "
        f"generated in {made - seeded:.0f} s and loaded in {done - made:.0f} s"
    )
    marker = {"url": url, "rows": rows}
    (folder / "http_load.json").write_text(json.dumps(marker), "utf-8")


# --- servers -----------------------------------------------------------------------------------


@dataclass
class Server:
    """A started server process and its log."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        """The address requests go to."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate and wait."""
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    """A port nothing listens on (other servers may run on this machine)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launch(command: Sequence[str], port: int, log: Path, env: dict[str, str]) -> Server:
    """search.py's start(), with the output kept in `log` (exec: the pid is the server's)."""
    line = " ".join(quote_shell(part) for part in command)
    os.environ.update(env)
    process = bench.start(["sh", "-c", f"exec {line} >>{quote_shell(str(log))} 2>&1"], port)
    time.sleep(0.5)
    if process.poll() is not None:  # the answer came from another server on that port
        raise SystemExit(f"{command[0]} on port {port} exited: see {log}")
    return Server(process, port, log)


def quote_shell(text: str) -> str:
    """One shell word."""
    import shlex

    return shlex.quote(text)


def serve_registry(workers: int, folder: Path, name: str) -> Server:
    """`registry serve --workers N` on a free port, its output in folder/name.log."""
    port = free_port()
    command = [sys.executable, "-m", "registry", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    env = {"REGISTRY_CLOCK_INTERVAL": "0", "REGISTRY_UPLOAD_QUOTA_FILES": "100000000"}
    return launch(command, port, folder / f"{name}.log", env)


def serve_bare(folder: Path, body: bytes) -> Server:
    """search.py's bare Litestar endpoint answering `body`, on a free port."""
    port = free_port()
    body_file = folder / "fixed.json"
    body_file.write_bytes(body)
    command = [sys.executable, bench.__file__, "--serve-bare", str(port), str(body_file)]
    return launch(command, port, folder / "bare.log", {})


def worker_pss(server: Server) -> list[tuple[int, float, float]]:
    """(pid, PSS, its file-backed part) in MB of each uvicorn worker: the serve process's
    children, or the serve process itself when it runs the one worker in-process. On SQLite the
    file-backed part includes the database pages the search maps (PRAGMA mmap_size)."""
    parent = server.process.pid
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and "resource_tracker" not in cmdline:
            children.append(int(entry.name))
    pids = sorted(children) or [parent]
    result: list[tuple[int, float, float]] = []
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:  # a worker that died (a zombie until its parent waits for it)
            result.append((pid, float("nan"), float("nan")))
            continue
        pss = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
        file = re.search(r"^Pss_File:\s+(\d+) kB", text, re.M)
        assert pss is not None, text
        result.append((pid, int(pss.group(1)) / 1024, int(file.group(1)) / 1024 if file else 0.0))
    return result


def problems_in_log(log: Path, since: int) -> list[str]:
    """Lines after byte `since` naming a 500, a traceback or a locked database."""
    with log.open("rb") as handle:
        handle.seek(since)
        lines = handle.read().decode("utf-8", "replace").splitlines()
    marks = (" 500 ", "Traceback", "database is locked", "Error")
    return [line for line in lines if any(mark in line for mark in marks)]


# --- sessions and the records the requests name -----------------------------------------------


@dataclass
class Session:
    """A logged-in user's cookies and CSRF header."""

    username: str
    cookie: str
    csrf: str

    def headers(self) -> dict[str, str]:
        """What a non-browser client sends with each request (writes need the CSRF header)."""
        return {"Cookie": self.cookie, "X-CSRFToken": self.csrf}


def login(base: str, username: str) -> Session:
    """POST /api/v1/auth/login with the CSRF cookie a GET gave (Litestar's double submit)."""
    import httpx

    from registry.access import sessions
    from registry.web.security import CSRF_COOKIE, CSRF_HEADER

    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/login").raise_for_status()
        csrf = client.cookies[CSRF_COOKIE]
        answer = client.post(
            "/api/v1/auth/login",
            json={"username": username, "password": PASSWORD},
            headers={CSRF_HEADER: csrf},
        )
        if answer.status_code != 200:
            raise SystemExit(f"login {username}: {answer.status_code} {answer.text[:300]}")
        token = client.cookies[sessions.COOKIE]
    return Session(username, f"{sessions.COOKIE}={token}; {CSRF_COOKIE}={csrf}", csrf)


@dataclass
class Fixtures:
    """Who logs in, and which records the requests name."""

    reviewer: Session
    provider: Session
    school: Session
    organisations: list[int]
    verify_path: str
    review_listing: int
    draft: int
    draft_body: tuple[str, str]  # the JSON before and after the changing part
    transitions: list[tuple[int, int, str]]  # listing, version, first action
    engagement: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)


def get_json(base: str, path: str, session: Session | None = None) -> Any:
    """A GET that must answer 200."""
    import httpx

    answer = httpx.get(base + path, headers=session.headers() if session else {}, timeout=60)
    if answer.status_code != 200:
        raise SystemExit(f"GET {path}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


async def prepare(base: str) -> Fixtures:
    """Log in the demo users and pick the records: draft, listed listings, an engagement."""
    from registry.notices.certificates import verify_code
    from registry.tables import Listing, WhitelistEntry

    reviewer, provider, school = (login(base, name) for name in (REVIEWER, PROVIDER, SCHOOL))
    # The demo's listings of the reviewer's district (the API lists the bulk ones first).
    mine = await (
        Listing.select(Listing.id, Listing.version, Listing.state)
        .where(Listing.district.code == REVIEWER.rsplit("_", 1)[1])
        .where(Listing.id < BULK_OFFSET)
        .where(Listing.state.is_in(["listed", "suspended"]))
        .order_by(Listing.id)
    )
    listed = [r for r in mine if r["state"] == "listed"]
    suspended = [r for r in mine if r["state"] == "suspended"]
    if len(listed) < 2:
        raise SystemExit(f"{REVIEWER} sees {len(listed)} listed listings: the demo changed?")
    # The school engages the first listed listing; the reviewer alternates the others.
    engaged = listed[0]
    entry = await WhitelistEntry.select(WhitelistEntry.courses).where(
        WhitelistEntry.listing == engaged["id"]
    )
    courses = str(entry[0]["courses"]).splitlines()
    engagement = {
        "listing": engaged["id"],
        "courses": courses[:1],
        "term": "2026-2027学年第一学期",
        "grade_band": "upper_primary",
        "students": 30,
        "weekly_schedule": [{"weekday": 2, "start": "16:30", "end": "18:30"}],
        "fee_per_student_month": 100,
    }
    pool = [(r["id"], r["version"], "suspend") for r in listed[1:]]
    pool += [(r["id"], r["version"], "reinstate") for r in suspended]
    need = MIXED_CONNECTIONS["transition"]
    if len(pool) < need:
        raise SystemExit(f"{REVIEWER} has {len(pool)} listings to suspend/reinstate, {need} needed")
    drafts = get_json(base, "/api/v1/listings?state=draft", provider)["items"]
    if not drafts:
        raise SystemExit(f"{PROVIDER} has no draft")
    draft = drafts[0]["id"]
    form = get_json(base, f"/api/v1/listings/{draft}/form", provider)
    about = form["form"].setdefault("organisation", {})
    base_text = str(about.get("description", "")).split("（基准保存", 1)[0]
    about["description"] = f"{base_text}（基准保存@@SAVE@@）"
    text = json.dumps({"form": form["form"], "version": form["version"]})  # ASCII, \u escapes
    before, after = text.split("@@SAVE@@")
    get_json(base, f"/api/v1/listings/{engaged['id']}", reviewer)
    # The demo's providers on a whitelist (a bulk provider has no history: its page is a 404).
    public = await WhitelistEntry.select(WhitelistEntry.organisation_id).where(
        WhitelistEntry.organisation_id < BULK_OFFSET
    )
    organisations = sorted({int(r["organisation_id"]) for r in public})
    return Fixtures(
        reviewer=reviewer,
        provider=provider,
        school=school,
        organisations=organisations,
        verify_path=f"/verify/{verify_code(engaged['id'])}",
        review_listing=engaged["id"],
        draft=draft,
        draft_body=(before, after),
        transitions=pool[:need],
        engagement=engagement,
    )


# --- wrk ---------------------------------------------------------------------------------------


@dataclass
class Result:
    """What wrk printed, parsed."""

    label: str
    rps: float
    p50: float
    p99: float
    requests: int
    non2xx: int
    socket: int
    acked: int | None = None
    refused: str = ""
    samples: list[str] = field(default_factory=list)
    raw: str = ""

    @property
    def errors(self) -> int:
        """Non-2xx/3xx answers and socket errors."""
        return self.non2xx + self.socket


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse(label: str, output: str) -> Result:
    """requests/s, p50, p99, non-2xx/3xx, socket errors and the script's ACKED/REFUSED lines."""

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        return float(found.group(1)) * UNITS[found.group(2)] if found else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    acked = re.search(r"^ACKED (\d+)", output, re.M)
    refused = re.search(r"^REFUSED ?(.*)$", output, re.M)
    if rps is None or requests is None or re.search(r"\.lua:\d+:", output):
        raise SystemExit(f"wrk for {label} printed no figures:\n{output}")
    return Result(
        label=label,
        rps=float(rps.group(1)),
        p50=latency("50"),
        p99=latency("99"),
        requests=int(requests.group(1)),
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket=sum(int(n) for n in sockets.groups()) if sockets else 0,
        acked=int(acked.group(1)) if acked else None,
        refused=refused.group(1).strip() if refused else "",
        samples=sorted(set(re.findall(r"^SAMPLE (.*)$", output, re.M))),
        raw=output,
    )


def lua_string(text: str) -> str:
    """A Lua string literal (the text is ASCII: JSON with \\u escapes, paths with %-escapes)."""
    assert text.isascii(), text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_headers(headers: dict[str, str]) -> str:
    """Assignments to wrk.headers."""
    return "\n".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())


# The common part of the write scripts: every thread has one connection (-t = -c) and its own
# number; 2xx answers are counted per thread and summed in done().
COUNTING = """
local threads = {}
local numbered = 0
function setup(thread)
  numbered = numbered + 1
  thread:set("tid", numbered)
  if per_thread then per_thread(thread, numbered) end
  table.insert(threads, thread)
end
ok = 0
bad = ""
sample = ""
n = 0
local statuses = {}
function count(status, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
    return true
  end
  if not statuses[status] then
    local text = string.gsub(string.sub(body or "", 1, 400), "[\\r\\n]", " ")
    sample = sample .. "SAMPLE " .. status .. " " .. text .. "\\n"
  end
  statuses[status] = (statuses[status] or 0) + 1
  local parts = {}
  for code, times in pairs(statuses) do parts[#parts + 1] = code .. "x" .. times end
  bad = table.concat(parts, ",")
  return false
end
function done(summary, latency, requests)
  local total, refused = 0, {}
  for _, thread in ipairs(threads) do
    total = total + thread:get("ok")
    local b = thread:get("bad")
    if b ~= "" then refused[#refused + 1] = b end
    io.write(thread:get("sample"))
  end
  io.write("ACKED " .. total .. "\\n")
  io.write("REFUSED " .. table.concat(refused, " ") .. "\\n")
end
"""


def random_paths_script(paths: Sequence[str], headers: dict[str, str] | None = None) -> str:
    """GET one of `paths` at random, per request."""
    listed = ",\n".join(lua_string(p) for p in paths)
    return f"""{lua_headers(headers or {})}
local paths = {{
{listed}
}}
local seeded = false
request = function()
  if not seeded then
    math.randomseed(os.time() + math.floor(os.clock() * 1000000))
    seeded = true
  end
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def save_script(fx: Fixtures) -> str:
    """PUT the draft's form, the organisation description changed on every save."""
    before, after = fx.draft_body
    headers = {**fx.provider.headers(), "Content-Type": "application/json"}
    return f"""{lua_headers(headers)}
local before, after = {lua_string(before)}, {lua_string(after)}
request = function()
  n = n + 1
  local body = before .. tid .. "-" .. n .. after
  return wrk.format("PUT", "/api/v1/listings/{fx.draft}/form", nil, body)
end
response = function(status, headers, body) count(status, body) end
{COUNTING}"""


def upload_script(fx: Fixtures) -> str:
    """POST a small PDF (different bytes each time) as the draft's licence."""
    boundary = "benchBoundary7MA4YWxkTrZu0gW"
    headers = {
        **fx.provider.headers(),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    return f"""{lua_headers(headers)}
local b = "{boundary}"
request = function()
  n = n + 1
  local pdf = "%PDF-1.4\\n% bench " .. tid .. "-" .. n ..
    "\\n1 0 obj<<>>endobj\\ntrailer<<>>\\n%%EOF\\n"
  local body = "--" .. b .. "\\r\\nContent-Disposition: form-data; name=\\"kind\\"\\r\\n\\r\\n" ..
    "licence\\r\\n--" .. b .. "\\r\\nContent-Disposition: form-data; name=\\"file\\"; " ..
    "filename=\\"licence.pdf\\"\\r\\nContent-Type: application/pdf\\r\\n\\r\\n" .. pdf ..
    "\\r\\n--" .. b .. "--\\r\\n"
  return wrk.format("POST", "/api/v1/listings/{fx.draft}/documents", nil, body)
end
response = function(status, headers, body) count(status, body) end
{COUNTING}"""


def transition_script(fx: Fixtures) -> str:
    """Suspend, reinstate, suspend… one listing per connection, the version from each answer."""
    headers = {**fx.reviewer.headers(), "Content-Type": "application/json"}
    rows = ",\n".join(f'{{{lid}, {version}, "{act}"}}' for lid, version, act in fx.transitions)
    reasons = {"suspend": SUSPEND_REASON, "reinstate": REINSTATE_REASON}
    reason_lines = "\n".join(
        f"reasons[{lua_string(a)}] = {lua_string(json.dumps(r))}" for a, r in reasons.items()
    )
    return f"""{lua_headers(headers)}
local listings = {{
{rows}
}}
reasons = {{}}
{reason_lines}
function per_thread(thread, number)
  local row = listings[number]
  thread:set("lid", row[1])
  thread:set("ver", row[2])
  thread:set("act", row[3])
end
request = function()
  local body = '{{"action":"' .. act .. '","version":' .. ver ..
    ',"reason":' .. reasons[act] .. '}}'
  return wrk.format("POST", "/api/v1/listings/" .. lid .. "/transitions", nil, body)
end
response = function(status, headers, body)
  if count(status, body) then
    ver = tonumber(string.match(body, '"version":(%d+)'))
    if act == "suspend" then act = "reinstate" else act = "suspend" end
  end
end
{COUNTING}"""


def engagement_script(fx: Fixtures) -> str:
    """POST the same engagement again and again (each one is a new row)."""
    headers = {**fx.school.headers(), "Content-Type": "application/json"}
    body = json.dumps(fx.engagement)
    return f"""{lua_headers(headers)}
local body = {lua_string(body)}
request = function()
  return wrk.format("POST", "/api/v1/engagements", nil, body)
end
response = function(status, headers, body) count(status, body) end
{COUNTING}"""


def wrk_command(
    url: str,
    duration: int,
    connections: int,
    threads: int = 2,
    script: Path | None = None,
    headers: dict[str, str] | None = None,
) -> list[str]:
    """The wrk command line."""
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s"]
    command += ["--latency", "--timeout", WRK_TIMEOUT]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    return [*command, url]


def run_wrk(label: str, command: list[str]) -> Result:
    """Run one wrk and parse it."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"wrk for {label} failed ({done.returncode}):\n{done.stderr}")
    return parse(label, done.stdout + done.stderr)


def check_200(base: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    """Fetch once; anything but 200 stops the benchmark."""
    import httpx

    answer = httpx.get(base + path, headers=headers or {}, timeout=60, follow_redirects=False)
    if answer.status_code != 200:
        raise SystemExit(f"GET {path} answered {answer.status_code}: {answer.text[:300]}")
    return answer.content


# --- the phases --------------------------------------------------------------------------------


@dataclass
class Target:
    """One table row: a URL, or several at random (a script), perhaps with a session."""

    label: str
    paths: list[str]
    headers: dict[str, str] = field(default_factory=dict)


def whitelist_path(q: str, extra: dict[str, object]) -> str:
    """GET /api/v1/whitelist for a search.py query."""
    return "/api/v1/whitelist?" + urlencode({"q": q, **extra}, doseq=True)


def targets(fx: Fixtures) -> list[Target]:
    """The rows of the table, in order."""
    rows = [
        Target("GET /api/v1/health", ["/api/v1/health"]),
        Target(
            f"provider page (/providers/{{id}}, {len(fx.organisations)} at random)",
            [f"/providers/{o}" for o in fx.organisations],
        ),
        Target("GET /verify", ["/verify"]),
        Target("GET /verify/{code} (certificate)", [fx.verify_path]),
        Target(
            f"GET /api/v1/listings/{fx.review_listing} as {REVIEWER}",
            [f"/api/v1/listings/{fx.review_listing}"],
            {"Cookie": fx.reviewer.cookie},
        ),
    ]
    for label, q, extra in bench.QUERIES:
        rows.append(Target(f"whitelist {label} q={q or extra}", [whitelist_path(q, extra)]))
    rows.append(Target("search page /?q=篮球", ["/?" + urlencode({"q": "篮球"})]))
    return rows


CHECKED: set[str] = set()


def load_target(
    base: str, target: Target, args: argparse.Namespace, folder: Path, number: int
) -> Result:
    """Check every path answers 200 (once a run), then wrk (a script when there are several)."""
    for path in target.paths:
        if path not in CHECKED:
            check_200(base, path, target.headers)
            CHECKED.add(path)
    if len(target.paths) == 1:
        command = wrk_command(
            base + target.paths[0], args.duration, args.connections, headers=target.headers
        )
    else:
        script = folder / f"target-{number}.lua"
        script.write_text(random_paths_script(target.paths, target.headers), "utf-8")
        command = wrk_command(base + "/", args.duration, args.connections, script=script)
    return run_wrk(target.label, command)


def rate(rps: float) -> str:
    """Requests per second: whole numbers, one decimal below 10."""
    return f"{rps:.1f}" if rps < 10 else f"{rps:.0f}"


def ms(result: Result, value: float) -> str:
    """A latency; none when no request finished within the run (wrk then prints zeros)."""
    return f"{value:.1f}" if result.requests else "none finished"


def table(results: Sequence[Result], bare: Result) -> str:
    """The markdown table."""
    lines = [
        "| request | req/s | p50 ms | p99 ms | errors | share of bare |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        share = 100 * r.rps / bare.rps
        lines.append(
            f"| {r.label} | {rate(r.rps)} | {ms(r, r.p50)} | {ms(r, r.p99)} | {r.errors} | "
            f"{share:.1f}% |"
        )
    return "\n".join(lines)


def print_pss(server: Server, title: str) -> None:
    """Each worker's PSS."""
    figures = ", ".join(
        f"pid {pid} {mb:.1f} MB (file-backed {file:.1f} MB)" for pid, mb, file in worker_pss(server)
    )
    print(f"PSS per worker, {title}: {figures}")


def report_log(server: Server, since: int) -> None:
    """Problems the server logged during a phase."""
    found = problems_in_log(server.log, since)
    if found:
        print(f"server log ({server.log}): {len(found)} problem lines, first ones:")
        for line in found[:8]:
            print(f"    {line[:240]}")


async def counts(fx: Fixtures) -> dict[str, int]:
    """The rows the write kinds leave, for before/after."""
    from registry.tables import AuditEvent, Document, Engagement, Listing

    ids = [lid for lid, _, _ in fx.transitions]
    versions = await Listing.select(Listing.version).where(Listing.id.is_in(ids))
    return {
        "save draft": await AuditEvent.count().where(
            (AuditEvent.listing == fx.draft) & (AuditEvent.action == "application.form_saved")
        ),
        "upload": await Document.count().where(Document.listing == fx.draft),
        "transition": sum(r["version"] for r in versions),
        "engagement": await Engagement.count().where(
            Engagement.listing == fx.engagement["listing"]
        ),
    }


def mixed(server: Server, fx: Fixtures, seconds: int, folder: Path) -> dict[str, Result]:
    """The wrk processes of the busy morning, concurrently."""
    searches = [whitelist_path(q, extra) for _, q, extra in bench.QUERIES]
    scripts = {
        "search": random_paths_script(searches),
        "provider page": random_paths_script([f"/providers/{o}" for o in fx.organisations]),
        "save draft": save_script(fx),
        "upload": upload_script(fx),
        "transition": transition_script(fx),
        "engagement": engagement_script(fx),
    }
    processes = {}
    for kind, text in scripts.items():
        script = folder / f"mixed-{kind.replace(' ', '-')}.lua"
        script.write_text(text, "utf-8")
        connections = MIXED_CONNECTIONS[kind]
        # Writes: one connection per thread (each thread keeps its own counter and state).
        threads = 2 if kind in ("search", "provider page") else connections
        command = wrk_command(server.base + "/", seconds, connections, threads, script)
        processes[kind] = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    results = {}
    for kind, process in processes.items():
        output, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"wrk for {kind} failed:\n{output}")
        results[kind] = parse(kind, output)
        if kind in WRITES and results[kind].acked is None:
            raise SystemExit(f"the {kind} script printed no count:\n{output}")
    return results


def summed(refused: str) -> str:
    """ "503x2,422x1 503x1" (per thread) as "503 x3, 422 x1"."""
    from collections import Counter

    total: Counter[str] = Counter()
    for part in refused.replace(",", " ").split():
        status, times = part.split("x")
        total[status] += int(times)
    return ", ".join(f"{status} x{times}" for status, times in total.most_common())


def audit_verify(rows: int) -> tuple[bool, str]:
    """`registry audit verify`; a first bad listing among the bulk rows is expected (see top)."""
    done = subprocess.run(
        [sys.executable, "-m", "registry", "audit", "verify"],
        capture_output=True,
        text=True,
        check=False,
    )
    text = (done.stdout + done.stderr).strip()
    if done.returncode == 0:
        return True, text
    found = re.search(r"listing (\d+) is in state .* changed outside the workflow", text)
    if rows and found and int(found.group(1)) > BULK_OFFSET:
        return True, f"{text}\n  (expected: listing {found.group(1)} is a bulk-loaded row)"
    return False, text


async def main() -> None:
    """Build or reuse, serve, load, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--workers", default="1,2", help='worker counts, e.g. 1,2 ("": the mixed load only)'
    )
    parser.add_argument("--mixed", type=int, default=60, help="seconds of mixed load (0: none)")
    parser.add_argument("--keep", metavar="DIR", help="build into DIR, or reuse it")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    worker_counts = [int(w) for w in args.workers.split(",") if w]
    started = time.perf_counter()
    url, folder, needed = configure(args)
    engine = "postgresql" if args.postgres else "sqlite"
    if needed:
        await build(url, args.rows, folder)
    else:
        print(f"reusing the database built in {folder} ({args.rows} providers, {engine})")
    run_folder = Path(tempfile.mkdtemp(prefix="http-load-", dir=folder))
    print(
        f"engine {engine}, {os.cpu_count()} CPUs, wrk -t2 -c{args.connections} "
        f"-d{args.duration}s --timeout {WRK_TIMEOUT}; logs and scripts in {run_folder}"
    )

    tables: dict[int, list[Result]] = {}
    by_workers: dict[int, dict[str, Result]] = {}
    bare_result: Result | None = None
    fx: Fixtures | None = None
    for workers in worker_counts:
        server = serve_registry(workers, run_folder, f"serve-{workers}w")
        try:
            if fx is None:
                fx = await prepare(server.base)
                fixed = check_200(server.base, whitelist_path("篮球", {}))
                bare = serve_bare(run_folder, fixed)
                try:
                    check_200(bare.base, "/fixed")
                    bare_command = wrk_command(
                        bare.base + "/fixed", args.duration, args.connections
                    )
                    bare_result = run_wrk(
                        f"bare Litestar, fixed {len(fixed)}-byte JSON", bare_command
                    )
                finally:
                    bare.stop()
            since = server.log.stat().st_size
            results = []
            for index, target in enumerate(targets(fx)):
                results.append(load_target(server.base, target, args, run_folder, index))
                print(
                    f"  {workers} worker(s): {target.label}: {results[-1].rps:.0f} req/s",
                    flush=True,
                )
            tables[workers] = results
            by_workers[workers] = {r.label: r for r in results}
            assert bare_result is not None
            print(
                f"\n### registry serve --workers {workers}, {engine}, {args.rows} providers, "
                f"{args.connections} connections, {args.duration} s each\n"
            )
            print(table([bare_result, *results], bare_result))
            print()
            print_pss(server, f"--workers {workers} after its load")
            report_log(server, since)
        finally:
            server.stop()
    if 1 in by_workers and 2 in by_workers:
        print("\nthroughput, 2 workers / 1 worker:")
        for r in tables[1]:
            if r.label.startswith(("GET /api/v1/health", "whitelist 2 字", "provider page")):
                two = by_workers[2][r.label]
                ratio = f"{two.rps / r.rps:.2f}" if r.rps else "n/a (no answer with 1 worker)"
                print(f"  {r.label}: {rate(two.rps)} / {rate(r.rps)} req/s = {ratio}")
    if args.mixed:
        await run_mixed(args, fx, run_folder)
    print(f"\ntotal time {time.perf_counter() - started:.0f} s")


async def run_mixed(args: argparse.Namespace, fx: Fixtures | None, run_folder: Path) -> None:
    """The busy morning against two workers, then the acknowledged writes against the rows."""
    from registry.app import close_database_pool, open_database_pool

    await open_database_pool()
    try:
        server = serve_registry(2, run_folder, "serve-mixed-2w")
        try:
            fx = fx or await prepare(server.base)  # `--workers ""`: the mixed load only
            before = await counts(fx)
            since = server.log.stat().st_size
            total = sum(MIXED_CONNECTIONS.values())
            print(
                f"\n### mixed load: {total} connections, {args.mixed} s, "
                "registry serve --workers 2\n"
            )
            results = mixed(server, fx, args.mixed, run_folder)
            print_pss(server, "--workers 2 after the mixed load")
            report_log(server, since)
        finally:
            server.stop()
        after = await counts(fx)
    finally:
        await close_database_pool()
    head = "| kind | connections | requests | req/s | errors | p50 ms | p99 ms | 2xx acked |"
    print(head + " rows written |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    missing = []
    for kind, r in results.items():
        written = after[kind] - before[kind] if kind in after else None
        acked = "" if r.acked is None else str(r.acked)
        rows = "" if written is None else str(written)
        print(
            f"| {kind} | {MIXED_CONNECTIONS[kind]} | {r.requests} | {r.rps:.0f} | {r.errors} | "
            f"{r.p50:.1f} | {r.p99:.1f} | {acked} | {rows} |"
        )
        if written is not None and r.acked is not None and written < r.acked:
            missing.append(f"{kind}: {r.acked} acknowledged, {written} in the database")
    for kind, r in results.items():
        if r.errors or r.refused:
            print(
                f"errors, {kind}: non-2xx/3xx {r.non2xx}, socket {r.socket}"
                + (f", statuses {summed(r.refused)}" if r.refused else "")
            )
            seen: set[str] = set()
            for sample in r.samples:
                status = sample.split(" ", 1)[0]
                if status not in seen:
                    seen.add(status)
                    print(f"    e.g. {sample[:300]}")
    if not any(r.errors or r.refused for r in results.values()):
        print("0 errors")
    print("acknowledged writes missing: " + ("; ".join(missing) if missing else "none"))
    ok, text = audit_verify(args.rows)
    print(f"registry audit verify: {'passed' if ok else 'FAILED'}: {text}")
    if missing or not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    asyncio.run(main())
