"""`banso jobs run NAME [--dry-run]` and `banso jobs list`, as an operator types them."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from banso.cli.app import app
from core.settings import Settings
from tests.cs.alerts_support import account_row, alerts, outbox, seed, usage_rows


def _env(settings: Settings) -> dict[str, str | None]:
    return {"BANSO_DATABASE_URL": settings.resolved_database_url,
            "BANSO_DATA_DIR": str(settings.data_dir), "BANSO_CSM_CHANNEL": "CDEFAULT",
            "SLACK_BOT_TOKEN": None, "BANSO_SLACK_BOT_TOKEN": None, "BANSO_CONFIG": None}


def test_dry_run_prints_what_would_be_posted_and_writes_nothing(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1"), account_row("A2", owner=None, channel=None)],
         usage_rows("A1", last_login_days_ago=30) + usage_rows("A2", last_login_days_ago=30))

    result = CliRunner().invoke(app, ["jobs", "run", "at_risk", "--dry-run"],
                                env=_env(alert_settings))

    assert result.exit_code == 0, result.output
    assert "would post post_alert    CCSM         at_risk A1" in result.output
    assert "would post post_alert    CDEFAULT     at_risk A2" in result.output
    assert "2 opened" in result.output and "dry run: nothing written" in result.output
    assert alerts(session_factory) == [] and outbox(session_factory) == []


def test_run_without_slack_stores_and_holds_the_messages(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))

    result = CliRunner().invoke(app, ["jobs", "run", "at_risk"], env=_env(alert_settings))

    assert result.exit_code == 0, result.output
    assert "1 held (Slack not configured" in result.output
    assert [m.status for m in outbox(session_factory)] == ["held"]


def test_unknown_job_is_a_clear_error(alert_settings: Settings) -> None:
    result = CliRunner().invoke(app, ["jobs", "run", "at-risk"], env=_env(alert_settings))

    assert result.exit_code == 2
    assert "unknown job 'at-risk': choose one of at_risk" in result.output


def test_list_shows_every_job_with_its_next_run(alert_settings: Settings) -> None:
    result = CliRunner().invoke(app, ["jobs", "list"], env=_env(alert_settings))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 11  # eight alert jobs, the two weekly digests and housekeeping
    assert any(line.startswith("support_friction") and "45 9 * * mon-fri" in line
               for line in lines)
    assert any(line.startswith("cs_digest") and "30 9 * * mon" in line for line in lines)
    assert any(line.startswith("at_risk") and "0 9 * * mon-fri" in line and "JST" in line
               for line in lines)
