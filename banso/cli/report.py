"""`banso report [--json] [--period YYYY-MM]` and `banso digest cs|curation [--dry-run]`."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from banso.cli.support import fail, services_or_exit
from core.slack import text


class DigestKind(StrEnum):
    CS = "cs"
    CURATION = "curation"


def report(
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    period: str | None = typer.Option(
        None, "--period", help="Month as YYYY-MM (default: the last complete month)."
    ),
    lang: str | None = typer.Option(
        None, "--lang", help="ja or en (default: the team's language, jobs.lang)."
    ),
) -> None:
    """Print the CS KPIs: churn, GRR/NRR, avoidable churn, accounts, alerts and FAQ."""
    from core.i18n import LANGS, as_lang
    from cs.community.report import render_text as render_community
    from cs.kpis.formulas import Period, PeriodError
    from cs.kpis.report import ReportError, compute_metrics, render_text

    try:
        chosen = Period.parse_month(period) if period is not None else None
    except PeriodError as exc:
        fail(f"banso report: {exc}")
    if lang is not None and lang not in LANGS:
        fail(f"banso report: --lang must be one of {', '.join(LANGS)}, got {lang!r}")
    services = services_or_exit(slack=False)
    chosen_lang = as_lang(lang) if lang else services.lang
    try:
        metrics = compute_metrics(services, services.now(), chosen, chosen_lang)
    except ReportError as exc:
        fail(f"banso report: {exc}")
    if as_json:
        typer.echo(json.dumps(metrics.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(metrics, chosen_lang) + "\n\n"
                   + render_community(metrics.community, chosen_lang))


def digest(
    kind: DigestKind = typer.Argument(..., help="cs (to BANSO_CSM_CHANNEL) or curation "
                                      "(to BANSO_CURATOR_CHANNEL)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the message, post nothing."),
    chart: Path | None = typer.Option(None, "--chart", help="Write the CS chart PNG here "
                                      "(a dry run writes it under BANSO_DATA_DIR/digests/)."),
    as_json: bool = typer.Option(False, "--json", help="With --dry-run: the Block Kit JSON."),
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
    settings = services.settings
    if dry_run and built.chart and chart is None:
        chart = settings.data_dir / "digests" / built.chart_name
    if chart and built.chart:
        chart.parent.mkdir(parents=True, exist_ok=True)
        chart.write_bytes(built.chart)
        typer.echo(f"chart written to {chart} ({len(built.chart):,} bytes)", err=True)
    channel = settings.csm_channel if kind is DigestKind.CS else settings.curator_channel
    name = "BANSO_CSM_CHANNEL" if kind is DigestKind.CS else "BANSO_CURATOR_CHANNEL"
    if dry_run:
        if as_json:
            typer.echo(json.dumps({"text": built.text, "blocks": built.blocks},
                                  ensure_ascii=False, indent=2))
            return
        where = f"to {channel}" if channel else f"nowhere (no channel set: {name})"
        typer.echo(f"would post {kind.value} digest {where}:\n")
        typer.echo(text.render(built.blocks))
        if chart and built.chart:
            typer.echo(f"\nchart: {chart}")
        return
    if services.slack is None or channel is None:
        fail(f"banso digest: not sent: set SLACK_BOT_TOKEN and {name} (or use --dry-run)", 1)
    typer.echo(post_digest(services.slack, channel, built).summary())


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("digest")(digest)
