"""Every setting, given a bad value, stops `banso serve` and a CLI command with one line naming
the variable, the value and a good example, and exit 2 — never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from banso.cli.app import app
from core.settings import Settings, env_name

BANSO = str(Path(sys.executable).parent / "banso")
FILE, MISSING = "{file}", "{missing}"

# One bad value per setting, as an operator might type it.
BAD: dict[str, str] = {
    "home": MISSING,
    "data_dir": FILE,
    "database_url": "postgres//localhost/banso",
    "knowledge_dir": FILE,
    "embedder": " ",
    "embedder_query_prefix": "query:\nnext",
    "embedder_passage_prefix": "passage:\nnext",
    "watch_knowledge": "maybe",
    "host": "local host",
    "port": "eighty",
    "api_token": "two words",
    "ask_rate_limit_per_minute": "many",
    "ask_max_chars": "0",
    "handoff_rate_limit_per_minute": "0",
    "trusted_proxies": "10.0.0.0/8,proxy.internal",
    "log_level": "LOUD",
    "log_format": "xml",
    "slack_bot_token": "xoxp-a-user-token",
    "slack_signing_secret": "has a space",
    "slack_app_token": "xoxb-not-an-app-token",
    "slack_api_url": "slack.com/api",
    "community_channels": "#community",
    "internal_channels": "C01,general",
    "support_channel": "#support",
    "curator_channel": "curators",
    "csm_channel": "#csm",
    "staff_usergroup": "@staff",
    "staff_users": "U01,@alice",
    "lead_users": "alice",
    "rules_file": MISSING,
    "timezone": "Mars/Base",
    "scheduler_enabled": "sometimes",
    "job_parallel_after": "-1",
    "churn_warning_rate": "3%",
    "avoidable_churn_reasons": "Low Usage!",
    "curation_stale_months": "six",
    "digest_cron": "every-monday",
    "db_lock_timeout_s": "forever",
    "query_max_tokens": "4",
    "query_queue_size": "0",
    "query_queue_per_client": "-1",
    "query_wait_seconds": "0",
    "query_cache_size": "lots",
    "ingest_max_body_bytes": "1MB",
    "slack_timeout_seconds": "0",
    "outbox_claim_seconds": "1",
    "account_url_template": "crm.example/accounts",
    "question_retention_days": "-1",
    "community_link_refresh_days": "0",
    "chat_account_secret": "two words",
    "community_lookups_per_run": "some",
    "feedback_rate_limit_per_minute": "0",
}
SECRETS = {"api_token", "slack_bot_token", "slack_signing_secret", "slack_app_token",
           "chat_account_secret"}


def test_the_walk_covers_every_setting() -> None:
    assert sorted(BAD) == sorted(Settings.model_fields)


def _value(name: str, tmp_path: Path) -> str:
    bad = BAD[name]
    if bad == FILE:
        (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
        return str(tmp_path / "a-file")
    return str(tmp_path / "nowhere") if bad == MISSING else bad


@pytest.mark.parametrize("command", [["serve"], ["report"]], ids=["serve", "report"])
@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_value_is_one_line_naming_the_variable(
    name: str, command: list[str], tmp_path: Path
) -> None:
    variable, value = env_name(name), _value(name, tmp_path)
    env = {"BANSO_DATA_DIR": str(tmp_path / "var"), "BANSO_CONFIG": None,
           "BANSO_DATABASE_URL": f"sqlite:///{tmp_path / 'core.db'}", variable: value}

    result = CliRunner().invoke(app, command, env=env)

    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"{variable}: ")
    assert "; for example " + variable + "=" in line
    if name in SECRETS:
        assert value not in line and "(got a hidden value)" in line
    else:
        assert repr(value) in line or repr(value.split(",")) in line
    assert result.stdout == ""


def _banso(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BANSO_", "SLACK_"))}
    return subprocess.run([BANSO, *args], cwd=cwd, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "knowledge").mkdir()
    return tmp_path


@pytest.mark.parametrize(("env", "expected"), [
    ({"BANSO_TIMEZONE": "Mars/Base"},
     "BANSO_TIMEZONE: unknown time zone (an IANA name) (got 'Mars/Base'); for example "
     "BANSO_TIMEZONE=Asia/Tokyo"),
    ({"BANSO_DIGEST_CRON": "every-monday"},
     "BANSO_DIGEST_CRON: not a cron expression (minute hour day month weekday): Wrong number of "
     "fields; got 1, expected 5 (got 'every-monday'); for example BANSO_DIGEST_CRON=30 9 * * mon"),
    ({"BANSO_DATABASE_URL": "postgresql+psycopg://banso@127.0.0.1:1/banso"},
     "BANSO_DATABASE_URL: cannot open the database postgresql+psycopg://banso@127.0.0.1:1/banso:"),
], ids=["timezone", "cron", "database-unreachable"])
def test_serve_and_a_command_stop_with_one_line(
    project: Path, env: dict[str, str], expected: str
) -> None:
    # A free port: should a bad value slip through, serve would start (and the test time out).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    for command in (["serve", "--port", port], ["jobs", "list"]):
        result = _banso(*command, cwd=project, **env)

        assert result.returncode == 2, result.stderr
        # Besides the error: only the line saying which database (serve logs it as JSON).
        lines = [x for x in result.stderr.splitlines()
                 if not x.startswith("banso: database") and '"msg": "using database' not in x]
        assert len(lines) == 1 and lines[0].startswith(expected), result.stderr


def test_a_toml_syntax_error_names_the_file_and_line(project: Path) -> None:
    config = project / "banso.toml"
    config.write_text('port = 8000\ntimezone = Asia/Tokyo\n', encoding="utf-8")

    for command in (["serve"], ["report"]):
        result = _banso(*command, cwd=project)

        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"BANSO_CONFIG: {config}: TOML syntax error: Invalid value (at line 2, column 12); "
            'for example port = 8000 and timezone = "Asia/Tokyo"']


def test_an_unknown_key_in_the_config_file_is_named(project: Path) -> None:
    config = project / "settings.toml"
    config.write_text('timezon = "Asia/Tokyo"\n', encoding="utf-8")

    result = _banso("report", cwd=project, BANSO_CONFIG=str(config))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"BANSO_CONFIG: {config}: unknown setting 'timezon' (the keys are the variables' names "
        "without BANSO_, in lower case, e.g. timezone)")


def test_a_broken_rules_file_is_one_line_with_its_file_and_line(project: Path) -> None:
    rules = project / "rules.yaml"
    rules.write_text("health:\n  weights: [1\n", encoding="utf-8")

    for command in (["serve"], ["jobs", "list"]):
        result = _banso(*command, cwd=project, BANSO_RULES_FILE="rules.yaml")

        assert result.returncode == 2
        lines = [x for x in result.stderr.splitlines()
                 if not x.startswith("banso: database") and '"msg": "using database' not in x]
        assert lines == [f"BANSO_RULES_FILE: {rules}:3: not valid YAML: while parsing a flow "
                         "sequence expected ',' or ']', but got '<stream end>'"]
