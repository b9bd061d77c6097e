"""Operator commands: `banso db upgrade`, `banso config reference`, bad settings at start."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from banso.cli.app import app

runner = CliRunner()


def test_db_upgrade_creates_every_table_and_is_safe_to_repeat(tmp_path: Path) -> None:
    env = {"BANSO_DATA_DIR": str(tmp_path), "BANSO_DATABASE_URL": ""}
    first = runner.invoke(app, ["db", "upgrade"], env=env)
    second = runner.invoke(app, ["db", "upgrade"], env=env)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0 and "is up to date" in second.output
    tables = set(inspect(create_engine(f"sqlite:///{tmp_path / 'core.db'}")).get_table_names())
    assert {"bot_questions", "bot_feedback", "scheduler_leases"} <= tables


def test_serve_with_a_bad_setting_exits_2_naming_the_variable(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve"], env={"BANSO_DATA_DIR": str(tmp_path),
                                                "BANSO_ASK_MAX_CHARS": "lots"})

    assert result.exit_code == 2
    assert "BANSO_ASK_MAX_CHARS" in result.output


def test_config_reference_prints_the_settings_table() -> None:
    result = runner.invoke(app, ["config", "reference"])

    assert result.exit_code == 0
    assert "| `BANSO_TRUSTED_PROXIES` | (empty) |" in result.output
    assert "| `SLACK_BOT_TOKEN` | (unset) |" in result.output


def test_the_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    env = {"BANSO_DATA_DIR": str(tmp_path), "BANSO_DATABASE_URL": ""}
    result = runner.invoke(app, ["db", "upgrade"], env=env)

    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("core.db*"))  # the database and, in WAL mode, -wal and -shm
    assert files and files[0].name == "core.db"
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
