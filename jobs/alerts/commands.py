"""`banso jobs run NAME [--dry-run]`, `banso jobs list`, and the import hook for contact changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from banso.cli_support import settings_or_exit
from banso.settings import Settings
from jobs.alerts.scheduled import DESCRIPTIONS, JOB_NAMES, JobContext, UnknownJobError


def _context(settings: Settings | None = None, *, with_slack: bool = True) -> JobContext:
    from banso.db import make_engine, make_session_factory, migrate
    from banso.services import build_slack_client
    from jobs.rules.config import RulesConfigError

    settings = settings or settings_or_exit()
    try:
        engine = make_engine(settings.resolved_database_url)
        migrate(engine)
        client = build_slack_client(settings) if with_slack else None
        return JobContext.build(settings, make_session_factory(engine), client)
    except (RulesConfigError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def run(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(JOB_NAMES)}.")],
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print what would be posted; write nothing, post nothing.")] = False,
) -> None:
    """Run one alert job now (as the scheduler would), then send what it queued."""
    from jobs.alerts.scheduled import run_job

    if name not in JOB_NAMES:
        typer.echo(str(UnknownJobError(name)), err=True)
        raise typer.Exit(2)
    ctx = _context(with_slack=not dry_run)
    report = run_job(name, ctx, datetime.now(UTC), dry_run=dry_run)
    for message in report.planned:
        typer.echo(("would post " if dry_run else "queued     ") + message.describe())
    typer.echo(report.summary())
    if report.delivery is not None:
        d = report.delivery
        typer.echo(f"delivery: {len(d.sent)} sent, {len(d.retrying)} to retry, "
                   f"{len(d.held)} held (Slack not configured or no channel), "
                   f"{len(d.failed)} failed")
    raise typer.Exit(1 if report.failed_accounts else 0)


def list_jobs() -> None:
    """Show every job with its schedule and next run time (in BANSO_TIMEZONE)."""
    from apscheduler.triggers.cron import CronTrigger

    from jobs.alerts.scheduler import next_runs
    from jobs.kpis.scheduled import DESCRIPTIONS as DIGESTS

    settings = settings_or_exit()
    ctx = _context(settings, with_slack=False)
    now = datetime.now(UTC)
    rows = [(name, cron, at, DESCRIPTIONS[name]) for name, cron, at in next_runs(ctx, now)]
    digest_cron = settings.digest_cron.strip()
    digest_at = (CronTrigger.from_crontab(digest_cron, timezone=ctx.timezone)
                 .get_next_fire_time(None, now) if digest_cron else None)
    rows += [(name, digest_cron or None, digest_at, text) for name, text in DIGESTS.items()]
    for name, cron, at, text in rows:
        when = at.strftime("%Y-%m-%d %H:%M %Z") if at else "not scheduled"
        typer.echo(f"{name:<16} {cron or '-':<16} {when:<22} {text}")


def on_contact_changes(change_ids: list[int]) -> None:
    """`banso import contacts` calls this after committing: alert on the changes at once."""
    from jobs.alerts.scheduled import alert_contact_changes

    ctx = _context()
    report = alert_contact_changes(ctx.session_factory, change_ids, datetime.now(UTC), ctx=ctx)
    typer.echo(f"contact-change alerts: {len(report.alerts.opened)} opened")


def register(app: typer.Typer) -> None:
    jobs = typer.Typer(help="Scheduled alert jobs.", no_args_is_help=True)
    jobs.command("run")(run)
    jobs.command("list")(list_jobs)
    app.add_typer(jobs, name="jobs")
