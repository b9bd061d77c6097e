"""`banso jobs list` and `banso jobs run NAME [--dry-run]`: the scheduler's jobs, by hand."""

from __future__ import annotations

from typing import Annotated

import typer

from banso.cli.support import fail, services_or_exit
from jobs.registry import BY_NAME, UnknownJobError, job


def run(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(BY_NAME)}.")],
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print what would be posted; write nothing, post nothing.")] = False,
) -> None:
    """Run one job now (as the scheduler would), then send what it queued."""
    from jobs.alert_jobs import ALERT_JOBS, DIGEST_JOB, run_alert_job
    from jobs.runner import recorded

    try:
        chosen = job(name)
    except UnknownJobError as exc:
        fail(str(exc))
    is_alert_job = name in ALERT_JOBS or name == DIGEST_JOB
    if dry_run and not is_alert_job:
        fail(f"{name} has no dry run here: use `banso digest {name.removesuffix('_digest')} "
             "--dry-run` to see a digest" if name.endswith("_digest")
             else f"{name} has no dry run")
    services = services_or_exit(slack=not dry_run)
    now = services.now()
    if not is_alert_job:
        typer.echo(recorded(name, lambda: chosen.run(services, now)).summary())
        return
    report = recorded(name, lambda: run_alert_job(name, services, now, dry_run=dry_run))
    for message in report.planned:
        if dry_run:
            typer.echo("would post " + message.as_read() + "\n")
        else:
            typer.echo("queued     " + message.describe())
    typer.echo(report.summary())
    if report.delivery is not None:
        d = report.delivery
        typer.echo(f"delivery: {len(d.sent)} sent, {len(d.retrying)} to retry, "
                   f"{len(d.held)} held (Slack not configured or no channel), "
                   f"{len(d.failed)} failed")
    raise typer.Exit(1 if report.failed_accounts else 0)


def list_jobs() -> None:
    """Show every job with its schedule and next run time (in BANSO_TIMEZONE)."""
    from jobs.scheduler import next_runs

    services = services_or_exit(slack=False)
    for chosen, cron, at in next_runs(services, services.now()):
        when = at.strftime("%Y-%m-%d %H:%M %Z") if at else "not scheduled"
        typer.echo(f"{chosen.name:<16} {cron or '-':<16} {when:<22} {chosen.description}")


def register(app: typer.Typer) -> None:
    jobs = typer.Typer(help="Scheduled jobs.", no_args_is_help=True)
    jobs.command("run")(run)
    jobs.command("list")(list_jobs)
    app.add_typer(jobs, name="jobs")
