"""CLI commands of this area."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the `banso` CLI."""
    from jobs.accounts import commands as accounts_commands
    from jobs.alerts import commands as alert_commands
    from jobs.kpis import report

    report.register(app)
    # `banso import …` and `banso demo seed`; contact changes are alerted at once.
    accounts_commands.register(app, on_contact_changes=alert_commands.on_contact_changes)
    alert_commands.register(app)  # `banso jobs run NAME [--dry-run]`, `banso jobs list`
