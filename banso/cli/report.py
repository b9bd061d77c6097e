"""`banso report [--json] [--period YYYY-MM]` and `banso digest cs|curation [--dry-run]`."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from banso.cli.support import fail, services_or_exit


class DigestKind(StrEnum):
    CS = "cs"
    CURATION = "curation"


def report(
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    period: str | None = typer.Option(
        None, "--period", help="Month as YYYY-MM (default: the last complete month)."
    ),
) -> None:
    """Print the CS KPIs: churn, GRR/NRR, avoidable churn, accounts, alerts and FAQ."""
    from cs.community.report import community_report
    from cs.community.report import render_text as render_community
    from cs.kpis.formulas import Period
    from cs.kpis.report import ReportError, compute_metrics, render_text

    try:
        chosen = Period.parse_month(period) if period else None
    except ValueError as exc:
        fail(f"banso report: {exc}")
    services = services_or_exit(slack=False)
    try:
        metrics = compute_metrics(services, services.now(), chosen)
    except ReportError as exc:
        fail(f"banso report: {exc}")
    with services.session_factory() as session:
        community = community_report(session, services.rules, metrics.start, metrics.end,
                                     services.timezone)
    if as_json:
        data = metrics.model_dump(mode="json") | {"community": community.as_json()}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(metrics) + "\n\n" + render_community(community))


def digest(
    kind: DigestKind = typer.Argument(..., help="cs (to BANSO_CSM_CHANNEL) or curation "
                                      "(to BANSO_CURATOR_CHANNEL)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the message, post nothing."),
    chart: Path | None = typer.Option(None, "--chart", help="Also write the CS chart PNG here."),
) -> None:
    """Build a weekly digest from the database and post it to Slack (or print it)."""
    from cs.kpis.digest import build_cs_digest, build_curation_digest, post_digest
    from cs.kpis.formulas import CurrencyError
    from cs.rules.rules import UnknownCurrencyError

    services = services_or_exit(slack=not dry_run)
    build = build_cs_digest if kind is DigestKind.CS else build_curation_digest
    try:
        built = build(services, services.now())
    except (CurrencyError, UnknownCurrencyError) as exc:
        fail(f"banso digest: {exc}")
    if chart and built.chart:
        chart.write_bytes(built.chart)
        typer.echo(f"chart written to {chart} ({len(built.chart):,} bytes)", err=True)
    if dry_run:
        typer.echo(json.dumps({"text": built.text, "blocks": built.blocks},
                              ensure_ascii=False, indent=2))
        return
    channel = (services.settings.csm_channel if kind is DigestKind.CS
               else services.settings.curator_channel)
    if services.slack is None or channel is None:
        name = "BANSO_CSM_CHANNEL" if kind is DigestKind.CS else "BANSO_CURATOR_CHANNEL"
        fail(f"banso digest: not sent: set SLACK_BOT_TOKEN and {name} (or use --dry-run)", 1)
    typer.echo(post_digest(services.slack, channel, built).summary())


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("digest")(digest)
