"""`banso import accounts|contacts|usage FILE.csv` and `banso demo seed`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from banso.cli.support import services_or_exit
from cs.accounts.importer import KINDS

FileArg = Annotated[Path, typer.Argument(
    help="CSV file with a header line (UTF-8 or Shift_JIS/CP932; see docs/import.md).")]
EncodingOpt = Annotated[str | None, typer.Option(
    help="The file's encoding (e.g. cp932, utf-8); by default UTF-8 or CP932 is detected.")]


def run_import(kind: str, path: Path, encoding: str | None = None) -> int:
    """Import one CSV file; print each rejected row and a summary. Returns the exit code.

    New contact changes are alerted at once, after the commit (the alert job must see them)."""
    from cs.accounts.batch import ImportUnavailable, import_batch
    from cs.accounts.csvfile import ImportFileError, read_csv
    from jobs.alert_jobs import alert_contact_changes

    model, _ = KINDS[kind]
    try:
        parsed = read_csv(path, model, encoding)
    except ImportFileError as exc:
        typer.echo(str(exc), err=True)
        return 2
    services = services_or_exit()
    try:
        result = import_batch(services.session_factory, kind, parsed.rows, services.now(),
                              lines=parsed.lines, tz=services.timezone)
    except ImportUnavailable as exc:
        typer.echo(f"{path}: {exc}", err=True)
        return 3
    result.errors = sorted([*parsed.errors, *result.errors], key=lambda error: error.line or 0)
    for error in result.errors:
        typer.echo(f"{path}:{error.line}: {error.reason}", err=True)
    typer.echo(result.summary())
    if result.contact_changes:
        report = alert_contact_changes(services, result.contact_changes, services.now())
        typer.echo(f"contact-change alerts: {len(report.alerts.opened)} opened")
    return 1 if result.errors else 0


def import_app() -> typer.Typer:
    app = typer.Typer(help="Import customer data from CSV (idempotent upserts).",
                      no_args_is_help=True)

    def command(kind: str) -> Callable[[Path, str | None], None]:
        def run(file: FileArg, encoding: EncodingOpt = None) -> None:
            raise typer.Exit(run_import(kind, file, encoding))

        run.__doc__ = f"Upsert {kind} from FILE.csv; rejected rows are listed (exit 1)."
        return run

    for kind in KINDS:
        app.command(kind)(command(kind))
    return app


def demo_seed(
    accounts: Annotated[int, typer.Option(min=1, help="How many demo accounts.")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 42,
) -> None:
    """Replace the demo customer base (ids demo-*) with a realistic one dated from today."""
    from core.db import session_scope
    from cs.accounts.seed import seed_demo
    from cs.community.seed import seed_community

    services = services_or_exit(slack=False)
    with session_scope(services.session_factory) as session:
        summary = seed_demo(session, services.now(), accounts=accounts, seed=seed,
                            tz=services.timezone)
        community = seed_community(session, services.now(), tz=services.timezone, seed=seed)
    typer.echo(f"{summary.describe()}; {community.describe()}")


def register(app: typer.Typer) -> None:
    app.add_typer(import_app(), name="import")
    demo = typer.Typer(help="Demo data.", no_args_is_help=True)
    demo.command("seed")(demo_seed)
    app.add_typer(demo, name="demo")
