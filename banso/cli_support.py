"""What every `banso` command shares: settings that, when wrong, end the command with exit 2."""

from __future__ import annotations

import typer

from banso.settings import Settings, SettingsError, load_settings


def settings_or_exit(**overrides: object) -> Settings:
    """The settings, with the given non-None overrides; a bad value prints why and exits 2."""
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
