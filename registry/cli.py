"""The `registry` command."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    from registry.db import DatabaseUnreachable, check_database, unreachable_message
    from registry.settings import get_settings

    url = get_settings().database_url

    async def checked() -> T:
        try:
            await check_database(url)
        except BaseException:
            coroutine.close()
            raise
        return await coroutine

    # A database that cannot be reached is a one-line message and exit status 1, not a
    # traceback (checked first, and again if it goes away half way).
    try:
        return asyncio.run(checked())
    except DatabaseUnreachable as error:
        click.echo(str(error), err=True)
    except Exception as error:
        message = unreachable_message(url, error)
        if message is None:
            raise
        click.echo(message, err=True)
    sys.exit(1)


@click.group()
def main() -> None:
    """课后服务机构白名单 registry."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, reload: bool, workers: int) -> None:
    """Serve the web application."""
    import uvicorn

    async def reachable() -> None:
        """Before any worker starts: _run checks the database (one line and exit 1 if not)."""

    _run(reachable())
    click.echo(f"Serving on http://{host}:{port}  (API docs: /schema, admin: /admin/)")
    uvicorn.run(
        "registry.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=None if reload else workers,
    )


async def migrate_database() -> None:
    """Run every pending migration, then add missing reference data."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from registry.access.accounts import revoke_admin_outside_city
    from registry.public.projection import refresh_unindexed
    from registry.reference import seed_reference

    result = await run_forwards("all")
    if not result.success:
        raise click.ClickException(f"migration failed: {result.message}")
    await seed_reference()
    # Whitelist rows from before the search index get their tokens now.
    await refresh_unindexed()
    # District staff no longer use the admin (the city and superusers do): drop their flag.
    await revoke_admin_outside_city()


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema and reference data."""
    _run(migrate_database())
    click.echo("database is up to date")


@main.command("seed-demo")
@click.option("--seed", default=2026, show_default=True, type=int, help="Random seed.")
@click.option("--organisations", default=320, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Only seed when there are no organisations yet.")
def seed_demo(seed: int, organisations: int, if_empty: bool) -> None:
    """Fill the database with realistic demo data and print the demo logins."""
    from registry.demo import print_logins, seed_demo_data

    _run(seed_demo_data(seed=seed, organisations=organisations, if_empty=if_empty))
    print_logins()


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(f"not an ISO-8601 time: {value}", param_hint="--now") from error
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        from registry.settings import get_settings

        moment = moment.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return moment


@main.command()
@click.option("--now", "now_text", default=None, help="ISO-8601 time to act as now.")
def tick(now_text: str | None) -> None:
    """Apply the time-driven transitions that are due (idempotent)."""
    from registry.oversight.reminders import remind
    from workflows.audit import anchor_daily
    from workflows.clock import tick as clock_tick
    from workflows.timesource import local_today, resolve

    now = _parse_now(now_text)
    fired = _run(clock_tick(now))
    given = _run(remind(local_today(now), resolve(now)))
    # Where cron runs the clock (REGISTRY_CLOCK_INTERVAL=0), the daily anchor comes with it.
    try:
        _run(anchor_daily(now))
    except OSError as error:  # the transitions are applied; say why there is no anchor
        click.echo(f"warning: the audit chain head was not anchored: {error}", err=True)
    total = sum(fired.values())
    details = ", ".join(f"{name}: {count}" for name, count in sorted(fired.items()))
    click.echo(f"{total} transitions applied" + (f" ({details})" if details else ""))
    if given:
        kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(given.items()))
        click.echo(f"{sum(given.values())} reminders given ({kinds})")


@main.group()
def documents() -> None:
    """Stored document files."""


@documents.command("prune")
@click.option("--dry-run", is_flag=True, help="Only report what would be removed.")
def documents_prune(dry_run: bool) -> None:
    """Remove stored files no document needs (files younger than an hour are left alone)."""
    from registry.applications.retention import prune

    for line in _run(prune(dry_run=dry_run)).lines():
        click.echo(line)


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the keyed chain, its anchors and listing states; anchor the head when all pass."""
    from workflows.audit import anchor_verified, verify

    result = _run(verify())
    if result.ok:
        # The verified head is anchored outside the database: deleting it later is found.
        anchor_verified(result)
        click.echo(f"{result.checked} events verified")
        return
    if result.bad_listing_id is not None:
        click.echo(f"audit trail and listings disagree: {result.problem}", err=True)
    else:
        click.echo(
            f"audit chain broken after {result.checked} good events: {result.problem}", err=True
        )
    sys.exit(1)


@main.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Archive to write (tar.gz).",
)
def backup(out: Path) -> None:
    """Archive the database, documents, keys and audit anchors (safe while serving)."""
    from registry.backup import create_backup
    from registry.backup_db import BackupError
    from registry.progress import progress_bar

    try:
        with progress_bar("备份证明材料文件") as advance:
            summary = _run(create_backup(out, advance))
    except BackupError as error:
        click.echo(f"backup failed: {error}", err=True)
        sys.exit(1)
    for problem in summary.problems:
        click.echo(f"warning: {problem}", err=True)
    click.echo(summary.line("backup written to"))


@main.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Restore over a database or folders in use.")
def restore(archive: Path, force: bool) -> None:
    """Restore an archive of `registry backup`, then check the trail and every document."""
    from registry.backup_db import BackupError
    from registry.restore import restore_backup

    try:
        summary = _run(restore_backup(archive, force=force))
    except BackupError as error:
        click.echo(f"restore refused: {error}", err=True)
        sys.exit(1)
    if summary.problems:
        problems = "; ".join(summary.problems[:3])
        more = f" (and {len(summary.problems) - 3} more)" if len(summary.problems) > 3 else ""
        click.echo(
            f"restored {archive}, but {len(summary.problems)} checks failed: {problems}{more}",
            err=True,
        )
        sys.exit(1)
    click.echo(summary.line("restored") + "; audit chain and documents verified")


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat: "):
        raise click.ClickException("the passwords differ")
    return first


@main.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["provider", "reviewer", "approver", "school", "city"]),
)
@click.option(
    "--district", "district_code", default=None, help="District code (reviewer, approver)."
)
@click.option("--school", "school_id", default=None, type=int, help="School id (school).")
@click.option("--organisation", "organisation_id", default=None, type=int, help="Organisation id.")
@click.option("--name", default="", help="The person's name as pages show it, e.g. 王丽.")
@click.option("--post", default="", help="Their post, shown after the name, e.g. 审核员.")
def create_user(
    username: str,
    role: str,
    district_code: str | None,
    school_id: int | None,
    organisation_id: int | None,
    name: str,
    post: str,
) -> None:
    """Create a user; the password is read from standard input (never an argument)."""
    from registry.access.accounts import AccountError, Scope
    from registry.access.accounts import create_user as create
    from workflows.states import Role

    password = _read_password()
    scope = Scope(district_code=district_code, school_id=school_id, organisation_id=organisation_id)
    try:
        user_id = _run(create(username, password, Role(role), scope, name=name, post=post))
    except AccountError as error:
        raise click.ClickException(f"{error.field}: {error.message}") from error
    click.echo(f"created user {username} (id {user_id}) as {role}")


@main.command()
@click.option("--write-readme", is_flag=True, help="Replace the diagram in README.md.")
def diagram(write_readme: bool) -> None:
    """Print the lifecycle as a Mermaid diagram generated from the transition table."""
    from pathlib import Path

    from workflows.diagram import mermaid, replace_in_readme

    if write_readme:
        readme = Path("README.md")
        readme.write_text(replace_in_readme(readme.read_text(encoding="utf-8")), encoding="utf-8")
        click.echo("README.md updated")
    else:
        click.echo(mermaid())


@main.group()
def export() -> None:
    """Documents and data for the public."""


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            f"not a date (YYYY-MM-DD): {value}", param_hint="--date"
        ) from error


@export.command("notice")
@click.option("--district", "district_code", required=True, help="District code, e.g. 120101.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="PDF file.")
@click.option("--date", "date_text", default=None, help="Date of the document (default: today).")
@click.option(
    "--public-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The site's public address, printed as where to lodge objections online.",
)
def export_notice(
    district_code: str, out_path: str, date_text: str | None, public_url: str
) -> None:
    """Write the district's notice list (公示名单) as an official PDF document."""
    from pathlib import Path

    from registry.documents.notice import notice_document, render_notice
    from workflows.engine import local_today

    on = _parse_date(date_text) or local_today()
    document = _run(notice_document(district_code, on, public_url))
    if document is None:
        raise click.ClickException(f"unknown district code: {district_code}")
    Path(out_path).write_bytes(render_notice(document))
    click.echo(f"wrote {out_path} ({len(document.entries)} listings in public notice)")


@main.group()
def report() -> None:
    """Reports for supervision."""


@report.command("supervision")
@click.option("--from", "start", required=True, help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", required=True, help="Last day of the period (YYYY-MM-DD).")
@click.option(
    "--format", "kind", type=click.Choice(["pdf", "xlsx"]), default="pdf", show_default=True
)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="File.")
def report_supervision(start: str, end: str, kind: str, out_path: str) -> None:
    """Write the city's supervision report of a period, with the figures of /city."""
    from pathlib import Path

    from registry.oversight.report import ReportError, parse_period, render, supervision_report
    from workflows.engine import local_today

    today = local_today()
    try:
        period = parse_period(start, end, today)
    except ReportError as error:
        raise click.BadParameter(str(error), param_hint=f"--{error.field}") from error

    async def build() -> bytes:
        return await render(await supervision_report(period, today), kind)

    Path(out_path).write_bytes(_run(build()))
    click.echo(f"wrote {out_path} (supervision report {period.start} to {period.end}, {kind})")


@main.group("import")
def import_group() -> None:
    """Bringing existing data in."""


@import_group.command("whitelist")
@click.option("--district", "district_code", required=True, help="District code, e.g. 120101.")
@click.option("--partial", is_flag=True, help="Import the good rows even when some are bad.")
@click.option("--operator", default=None, help="Who runs the import (default: the OS user).")
@click.argument("file_path", metavar="FILE")
def import_whitelist(
    district_code: str, partial: bool, operator: str | None, file_path: str
) -> None:
    """List a district's existing whitelist (CSV or XLSX) through the engine (idempotent)."""
    from pathlib import Path

    from registry.importing import ImportFileError, ImportRefused, UnknownDistrict
    from registry.importing import import_whitelist as run_import
    from registry.progress import progress_bar

    try:
        data = Path(file_path).read_bytes()
    except OSError as error:
        click.echo(f"无法读取文件 {file_path}：{error.strerror or error}", err=True)
        sys.exit(2)
    try:
        who = operator or getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        who = "unknown"
    try:
        with progress_bar("导入白名单") as advance:
            report = _run(run_import(data, district_code, who, partial=partial, progress=advance))
    except UnknownDistrict:
        click.echo(f"未知的区代码：{district_code}", err=True)
        sys.exit(2)
    except ImportFileError as error:
        click.echo(f"无法读取文件 {file_path}：{error}", err=True)
        sys.exit(2)
    except ImportRefused as error:
        click.echo(f"导入已撤销，未导入任何机构：{error}", err=True)
        sys.exit(1)
    for line in report.lines():
        click.echo(line)
    if report.refused:
        sys.exit(1)


@export.command("whitelist")
@click.option("--district", "district_code", required=True, help="District code, e.g. 120101.")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx", "json", "pdf"]))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="File.")
@click.option("--date", "date_text", default=None, help="Date of the export (default: today).")
@click.option(
    "--public-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The site's public address, printed in the announcement (pdf).",
)
def export_whitelist(
    district_code: str, fmt: str, out_path: str, date_text: str | None, public_url: str
) -> None:
    """Write the district's current whitelist (pdf: the 白名单公告)."""
    from pathlib import Path

    from registry.progress import progress_bar
    from registry.public.exports import export_whitelist as export_file
    from workflows.engine import local_today

    on = _parse_date(date_text) or local_today()
    # One query and one rendering: the bar says that work is under way, not how far it is.
    with progress_bar(f"生成白名单（{fmt}）"):
        exported = _run(export_file(district_code, fmt, on, public_url))
    if exported is None:
        click.echo(f"未知的区代码：{district_code}", err=True)
        sys.exit(2)
    Path(out_path).write_bytes(exported.content)
    click.echo(f"wrote {out_path} ({exported.count} listings on the whitelist)")
