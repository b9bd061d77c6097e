"""The manifest an admin pastes must match what the code listens for, or features silently die."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from banso.web.slack_events import EVENTS_PATH
from core.slack.ids import CommandName, ShortcutId

MANIFEST = Path(__file__).resolve().parents[2] / "bot" / "manifest.yaml"


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return data


def test_commands_and_shortcut_match_the_code() -> None:
    features = _manifest()["features"]
    assert str(CommandName.ASK) in [c["command"] for c in features["slash_commands"]]
    (shortcut,) = features["shortcuts"]
    assert shortcut["callback_id"] == ShortcutId.SAVE_DRAFT and shortcut["type"] == "message"
    assert features["app_home"]["home_tab_enabled"] is True


def test_every_request_url_is_the_one_slack_endpoint() -> None:
    data = _manifest()
    urls = [c["url"] for c in data["features"]["slash_commands"]]
    urls += [data["settings"]["event_subscriptions"]["request_url"],
             data["settings"]["interactivity"]["request_url"]]
    assert all(url.endswith(EVENTS_PATH) for url in urls)


def test_events_and_scopes_cover_what_the_bot_listens_to_and_calls() -> None:
    data = _manifest()
    events = set(data["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.channels", "message.groups", "message.im"} <= events
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    # Web API methods the bot calls → the scope each needs (chat.getPermalink needs none).
    needed = {"chat.postMessage": "chat:write", "reactions.add": "reactions:write",
              "usergroups.users.list": "usergroups:read", "conversations.replies":
              "channels:history", "app_mention": "app_mentions:read", "/ask": "commands"}
    assert set(needed.values()) <= scopes


def test_alert_command_of_the_jobs_room_is_declared() -> None:
    commands = [c["command"] for c in _manifest()["features"]["slash_commands"]]
    assert set(commands) == {c.value for c in CommandName}
