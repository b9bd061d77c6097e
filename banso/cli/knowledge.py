"""`banso knowledge lint [PATH]`: every problem in knowledge files as file:line: message."""

from __future__ import annotations

from pathlib import Path

import typer

from banso.cli.support import require_knowledge, settings_or_exit


def knowledge_lint(
    paths: list[Path] | None = typer.Argument(
        None, help="Files or folders to check; default: the configured knowledge folder."
    ),
) -> None:
    """Check knowledge files; print each problem as file:line: message (exit 1 on errors)."""
    from retrieval.lint import lint

    if not paths:
        settings = settings_or_exit(announce=False)
        require_knowledge(settings)
        paths = [settings.knowledge_dir]
    report = lint(paths)
    if report.missing:
        typer.echo(report.summary(), err=True)
        raise typer.Exit(2)
    for problem in report.problems:
        typer.echo(str(problem))
    typer.echo(report.summary())
    raise typer.Exit(1 if report.errors else 0)


def register(app: typer.Typer) -> None:
    knowledge = typer.Typer(help="Curate the knowledge files.", no_args_is_help=True)
    knowledge.command("lint")(knowledge_lint)
    app.add_typer(knowledge, name="knowledge")
