"""`banso digest cs|curation [--dry-run] [--chart FILE]`: send a weekly digest now, or show it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer

from jobs.kpis.formulas import CurrencyError
from jobs.rules.config import RulesConfigError
from jobs.rules.rules import UnknownCurrencyError


class DigestKind(StrEnum):
    CS = "cs"
    CURATION = "curation"


def digest(
    kind: DigestKind = typer.Argument(..., help="cs (to BANSO_CSM_CHANNEL) or curation "
                                      "(to BANSO_CURATOR_CHANNEL)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the message, post nothing."),
    chart: Path | None = typer.Option(None, "--chart", help="Also write the CS chart PNG here."),
) -> None:
    """Build a weekly digest from the database and post it to Slack (or print it)."""
    from banso.db import make_engine, make_session_factory, migrate
    from banso.services import build_slack_client
    from banso.settings import SettingsError, load_settings
    from jobs.kpis.digest import build_cs_digest, build_curation_digest, post_digest

    now = datetime.now(UTC)
    try:
        settings = load_settings()
        engine = make_engine(settings.resolved_database_url)
        migrate(engine)
        factory = make_session_factory(engine)
        build = build_cs_digest if kind is DigestKind.CS else build_curation_digest
        built = build(settings, factory, now)
    except (SettingsError, CurrencyError, UnknownCurrencyError, RulesConfigError) as exc:
        typer.echo(f"banso digest: {exc}", err=True)
        raise typer.Exit(2) from None
    if chart and built.chart:
        chart.write_bytes(built.chart)
        typer.echo(f"chart written to {chart} ({len(built.chart):,} bytes)", err=True)
    if dry_run:
        typer.echo(json.dumps({"text": built.text, "blocks": built.blocks},
                              ensure_ascii=False, indent=2))
        return
    channel = settings.csm_channel if kind is DigestKind.CS else settings.curator_channel
    client = build_slack_client(settings)
    if client is None or channel is None:
        name = "BANSO_CSM_CHANNEL" if kind is DigestKind.CS else "BANSO_CURATOR_CHANNEL"
        typer.echo(f"banso digest: not sent: set SLACK_BOT_TOKEN and {name} (or use --dry-run)",
                   err=True)
        raise typer.Exit(1)
    result = post_digest(client, channel, built)
    typer.echo(f"sent to {result.channel} (ts {result.ts}"
               + (f", chart {result.file_id})" if result.file_id else ")"))
