"""The `banso` command: each area adds its own sub-commands."""

from __future__ import annotations

import typer

import jobs.cli
import retrieval.cli
from banso import serve

app = typer.Typer(help="Banso: customer-success chat-ops for Slack.", no_args_is_help=True)
retrieval.cli.register(app)
jobs.cli.register(app)
serve.register(app)


def main() -> None:
    app()
