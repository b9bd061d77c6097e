"""`banso handoffs list [--json]`: web chat visitors waiting for a person (staff only: the CLI
runs where the database is)."""

from __future__ import annotations

import json

import typer

from banso.cli.support import services_or_exit


def list_handoffs(
    count: int = typer.Option(50, "--count", min=1, max=500, help="How many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Show hand-off requests from the web chat: status, who, how to reach them, the question."""
    from bot import handoffs

    services = services_or_exit(slack=False)
    with services.session_factory() as session:
        rows = handoffs.recent(session, count)
        for row in rows:
            if as_json:
                typer.echo(json.dumps({
                    "id": row.id, "created_at": row.created_at.isoformat(), "status": row.status,
                    "name": row.name, "email": row.email, "lang": row.lang,
                    "question": row.question, "answer_id": row.answer_id}, ensure_ascii=False))
                continue
            typer.echo(f"#{row.id:<5} {row.created_at:%Y-%m-%d %H:%M} {row.status:<7} "
                       f"{row.name} <{row.email}>  {_one_line(row.question)}")
    if not rows and not as_json:
        typer.echo("no hand-off requests")


def _one_line(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def register(app: typer.Typer) -> None:
    handoffs = typer.Typer(help="Web chat requests for a person.", no_args_is_help=True)
    handoffs.command("list")(list_handoffs)
    app.add_typer(handoffs, name="handoffs")
