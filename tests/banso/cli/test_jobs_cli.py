"""`banso jobs run NAME [--dry-run]` and `banso jobs list`, as an operator types them."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from banso.cli.app import app
from core.i18n import t
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
    assert "would post post_alert to CCSM: at_risk A1" in result.output
    assert "would post post_alert to CDEFAULT: at_risk A2" in result.output
    assert "2 opened" in result.output and "dry run: nothing written" in result.output
    assert alerts(session_factory) == [] and outbox(session_factory) == []


def test_dry_run_shows_each_card_as_a_person_reads_it(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))

    result = CliRunner().invoke(app, ["jobs", "run", "at_risk", "--dry-run"],
                                env=_env(alert_settings))

    assert result.exit_code == 0, result.output
    card = [line.removeprefix("  │ ") for line in result.stdout.splitlines()
            if line.startswith("  │ ")]
    title = f"{t('alerts.kind.at_risk', 'ja')}: 株式会社A1"
    assert card[0].startswith(title) and "*" not in card[0]  # mrkdwn read as text
    assert any(line.startswith("• ") and "ログイン" in line for line in card)  # the signal
    assert any(line.startswith("  MRR: 600,000 JPY") for line in card)
    buttons = next(line for line in card if line.startswith("[ "))
    for label in ("alerts.ack", "alerts.assign", "alerts.resolve"):
        assert f"[ {t(label, 'ja')} ]" in buttons
    assert "{" not in result.stdout  # no Block Kit JSON


def test_dry_run_without_any_channel_names_the_setting(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A2", channel=None)],
         usage_rows("A2", last_login_days_ago=30))
    env = _env(alert_settings) | {"BANSO_CSM_CHANNEL": None}

    result = CliRunner().invoke(app, ["jobs", "run", "at_risk", "--dry-run"], env=env)

    assert result.exit_code == 0, result.output
    assert ("would post post_alert nowhere (no channel set: BANSO_CSM_CHANNEL (or the "
            "account's csm_channel)): at_risk A2") in result.stdout


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


@pytest.mark.parametrize(("name", "hint"), [
    ("cs-digest", "(did you mean 'cs_digest'?)"),
    ("digest_cs", "to send or preview the weekly cs digest: banso digest cs [--dry-run]"),
    ("curation", "to send or preview the weekly curation digest: banso digest curation"),
    ("weekly_digest", "weekly digests: banso digest cs|curation [--dry-run]"),
])
def test_a_job_name_that_is_really_a_digest_points_to_banso_digest(
    alert_settings: Settings, name: str, hint: str
) -> None:
    result = CliRunner().invoke(app, ["jobs", "run", name], env=_env(alert_settings))

    assert result.exit_code == 2
    assert f"unknown job {name!r}" in result.stderr and hint in result.stderr


def test_a_digest_has_no_dry_run_here_and_says_where_it_is(alert_settings: Settings) -> None:
    result = CliRunner().invoke(app, ["jobs", "run", "cs_digest", "--dry-run"],
                                env=_env(alert_settings))

    assert result.exit_code == 2
    assert "use `banso digest cs --dry-run` to see a digest" in result.stderr


def test_list_shows_every_job_with_its_next_run(alert_settings: Settings) -> None:
    result = CliRunner().invoke(app, ["jobs", "list"], env=_env(alert_settings))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 12  # eight alert jobs, two weekly digests, housekeeping, book snapshot
    assert any(line.startswith("support_friction") and "45 9 * * mon-fri" in line
               for line in lines)
    assert any(line.startswith("cs_digest") and "30 9 * * mon" in line for line in lines)
    assert any(line.startswith("at_risk") and "0 9 * * mon-fri" in line and "JST" in line
               for line in lines)
