"""The `banso` command: every sub-command, registered in one place."""

from __future__ import annotations

import typer

from banso import serve
from banso.cli import handoffs, imports, jobs, knowledge, ops, report, retrieval

app = typer.Typer(help="Banso: customer-success chat-ops for Slack.", no_args_is_help=True)
for area in (retrieval, knowledge, report, imports, jobs, handoffs, serve, ops):
    area.register(app)


def main() -> None:
    app()
