"""`banso import accounts|contacts|usage FILE.csv` and `banso demo seed`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.orm import Session, sessionmaker

from jobs.accounts.importer import KINDS

ContactChangeHook = Callable[[list[int]], None]


FileArg = Annotated[Path, typer.Argument(help="CSV file (UTF-8, header line; see docs/import.md).")]


def _open_database() -> tuple[sessionmaker[Session], tzinfo]:
    from banso.cli_support import settings_or_exit
    from banso.db import make_engine, make_session_factory, migrate

    settings = settings_or_exit()
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return make_session_factory(engine), ZoneInfo(settings.timezone)


def run_import(kind: str, path: Path, on_contact_changes: ContactChangeHook | None) -> int:
    """Import one CSV file; print each rejected row and a summary. Returns the exit code."""
    from banso.db import session_scope
    from jobs.accounts.csvfile import ImportFileError, read_csv

    model, importer = KINDS[kind]
    try:
        parsed = read_csv(path, model)
    except ImportFileError as exc:
        typer.echo(str(exc), err=True)
        return 2
    factory, tz = _open_database()
    with session_scope(factory) as session:
        result = importer(session, parsed.rows, datetime.now(UTC), lines=parsed.lines, tz=tz)
    for error in result.errors:
        typer.echo(f"{path}:{error.line}: {error.reason}", err=True)
    typer.echo(result.summary())
    if result.contact_changes and on_contact_changes is not None:
        on_contact_changes(result.contact_changes)  # after commit: the alert job must see them
    return 1 if result.errors else 0


def import_app(on_contact_changes: ContactChangeHook | None = None) -> typer.Typer:
    app = typer.Typer(help="Import customer data from CSV (idempotent upserts).",
                      no_args_is_help=True)

    def command(kind: str) -> Callable[[Path], None]:
        def run(file: FileArg) -> None:
            raise typer.Exit(run_import(kind, file, on_contact_changes))

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
    from banso.db import session_scope
    from jobs.accounts.seed import seed_demo

    factory, tz = _open_database()
    with session_scope(factory) as session:
        summary = seed_demo(session, datetime.now(UTC), accounts=accounts, seed=seed, tz=tz)
    typer.echo(summary.describe())


def register(app: typer.Typer, on_contact_changes: ContactChangeHook | None = None) -> None:
    app.add_typer(import_app(on_contact_changes), name="import")
    demo = typer.Typer(help="Demo data.", no_args_is_help=True)
    demo.command("seed")(demo_seed)
    app.add_typer(demo, name="demo")
