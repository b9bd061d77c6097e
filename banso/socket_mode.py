"""Socket Mode: the bot connects out to Slack (SLACK_APP_TOKEN), no public URL needed."""

from __future__ import annotations

from typing import Protocol

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler


class SocketHandle(Protocol):
    def close(self) -> None: ...


def start_socket_mode(bolt_app: App, app_token: str) -> SocketHandle:
    """Connect in a background thread and return at once; `.close()` disconnects."""
    if not app_token.startswith("xapp-"):
        raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'")
    handler = SocketModeHandler(bolt_app, app_token)
    handler.connect()
    return handler
