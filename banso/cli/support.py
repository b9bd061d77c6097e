"""What every `banso` command shares: settings and services that, when wrong, end the command
with one line on stderr and exit 2 (never a traceback for a configuration mistake)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, NoSuchModuleError

from core.rules_config import RulesConfigError
from core.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:  # the runtime loads the database, Slack and retrieval libraries
    from core.services import Services


def settings_or_exit(*, announce: bool = True, **overrides: object) -> Settings:
    """The settings, with the given non-None overrides; a bad value prints why and exits 2.

    `announce` prints (to stderr, once per command) which database and knowledge folder the
    command uses, so a command typed in the wrong place never surprises anyone."""
    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        fail(str(exc))
    if announce:
        typer.echo(f"banso: {settings.data_location}", err=True)
    return settings


def require_knowledge(settings: Settings) -> None:
    """Commands that answer from the knowledge base stop if its folder is missing."""
    if not settings.knowledge_dir.is_dir():
        fail(f"BANSO_KNOWLEDGE_DIR: no such folder: {settings.knowledge_dir} (set "
             "BANSO_KNOWLEDGE_DIR, or BANSO_HOME to the folder that holds knowledge/)")


def services_or_exit(settings: Settings | None = None, *, search: bool = False,
                     slack: bool = True) -> Services:
    """`Services` for a command: the index only where it searches, Slack unless told not."""
    from banso.runtime import build_services

    settings = settings or settings_or_exit()
    with start_up_errors(settings):
        return build_services(settings, search=search, slack=slack)


@contextmanager
def start_up_errors(settings: Settings) -> Iterator[None]:
    """Configuration found wrong only when used (rules file, an unreachable database): one
    line naming the setting and exit 2, like a bad value."""
    try:
        yield
    except RulesConfigError as exc:
        fail(str(exc))
    except (DBAPIError, NoSuchModuleError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        url = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
        fail(f"BANSO_DATABASE_URL: cannot open the database {url}: {reason}")


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)
