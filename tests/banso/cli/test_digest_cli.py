"""`banso digest`: dry run prints the message; a real run posts through the Slack stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from banso.cli.app import app
from core.settings import Settings
from tests.cs.kpis.test_digest import PNG_SIGNATURE, seed_book
from tests.slack_stub import SlackStub


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("BANSO_DATA_DIR", str(settings.data_dir))
    for name in ("SLACK_BOT_TOKEN", "BANSO_CSM_CHANNEL", "BANSO_CURATOR_CHANNEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("env")
def test_dry_run_prints_the_blocks_as_json_and_writes_the_chart(
    session_factory: sessionmaker[Session], stub: SlackStub, tmp_path: Path
) -> None:
    seed_book(session_factory)
    chart = tmp_path / "chart.png"
    result = CliRunner().invoke(app, ["digest", "cs", "--dry-run", "--json", "--chart",
                                      str(chart)])
    assert result.exit_code == 0, result.output
    message = json.loads(result.stdout)
    assert message["text"].startswith("週次CSダイジェスト") and message["blocks"]
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    assert stub.calls == []


@pytest.mark.usefixtures("env")
def test_dry_run_reads_as_text_with_the_chart_path(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    seed_book(session_factory)

    result = CliRunner().invoke(app, ["digest", "cs", "--dry-run"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "would post cs digest nowhere (no channel set: BANSO_CSM_CHANNEL):"
    assert "週次CSダイジェスト" in lines[2] and lines[3].startswith("═")  # the header
    assert any(line.startswith("  NRR / GRR: ") for line in lines)  # a field as label: value
    assert "{" not in result.stdout and "mrkdwn" not in result.stdout
    chart = Path(lines[-1].removeprefix("chart: "))
    assert chart.parent == settings.data_dir / "digests"
    assert chart.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.usefixtures("env")
def test_digest_without_slack_says_what_to_set(session_factory: sessionmaker[Session]) -> None:
    result = CliRunner().invoke(app, ["digest", "curation"])
    assert result.exit_code == 1 and "BANSO_CURATOR_CHANNEL" in result.output


@pytest.mark.usefixtures("env")
def test_digest_posts_to_the_configured_channel(
    session_factory: sessionmaker[Session], stub: SlackStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_book(session_factory)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", stub.url)
    monkeypatch.setenv("BANSO_CSM_CHANNEL", "CCSM")
    result = CliRunner().invoke(app, ["digest", "cs"])
    assert result.exit_code == 0, result.output
    assert "sent to CCSM" in result.stdout and "chart F" in result.stdout
    assert stub.calls_to("chat.postMessage")[0].args["channel"] == "CCSM"
    assert stub.calls_to("files.completeUploadExternal")[0].args["channel_id"] == "CCSM"
