"""Start-up configuration: a wrong value must stop Banso with a message naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings


def test_comma_separated_channel_lists_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSO_COMMUNITY_CHANNELS", "C01, C02,,")
    assert load_settings().community_channels == ["C01", "C02"]


def test_invalid_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_PORT", "eighty")
    with pytest.raises(SettingsError, match="BANSO_PORT"):
        load_settings()


def test_unknown_database_scheme_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_DATABASE_URL", "mysql://root@localhost/banso")
    with pytest.raises(SettingsError, match="BANSO_DATABASE_URL"):
        load_settings()


def test_config_file_values_apply_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "banso.toml"
    config.write_text('port = 9001\nsupport_channel = "CSUPPORT"\n', encoding="utf-8")
    monkeypatch.setenv("BANSO_CONFIG", str(config))
    monkeypatch.setenv("BANSO_PORT", "9002")
    settings = load_settings()
    assert settings.support_channel == "CSUPPORT"
    assert settings.port == 9002


def test_missing_config_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_CONFIG", "/nonexistent/banso.toml")
    with pytest.raises(SettingsError, match="file not found"):
        load_settings()


def test_slack_tokens_use_slacks_own_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret")
    settings = load_settings()
    assert settings.slack_enabled
    assert "s3cret" not in repr(settings)


def test_blank_slack_token_means_slack_is_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", " ")
    settings = load_settings()
    assert settings.slack_bot_token is None and not settings.slack_enabled
