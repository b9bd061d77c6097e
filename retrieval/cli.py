"""CLI commands of this area."""

from __future__ import annotations

from pathlib import Path

import typer


def knowledge_lint(
    paths: list[Path] | None = typer.Argument(
        None, help="Files or folders to check; default: the configured knowledge folder."
    ),
) -> None:
    """Check knowledge files; print each problem as file:line: message (exit 1 on errors)."""
    from banso.cli_support import settings_or_exit
    from retrieval.lint import lint

    if not paths:
        paths = [settings_or_exit().knowledge_dir]
    report = lint(paths)
    for problem in report.problems:
        typer.echo(str(problem))
    typer.echo(report.summary())
    raise typer.Exit(1 if report.errors else 0)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the `banso` CLI."""
    import retrieval.commands  # ask, index, eval (the retrieval service's own commands)

    retrieval.commands.register(app)
    knowledge = typer.Typer(help="Curate the knowledge files.", no_args_is_help=True)
    knowledge.command("lint")(knowledge_lint)
    app.add_typer(knowledge, name="knowledge")
