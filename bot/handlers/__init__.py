"""Bolt listeners, one module per kind of request; each only parses, delegates and renders."""

from __future__ import annotations

from slack_bolt import App

from bot.handlers import actions, commands, events, shortcuts
from core.services import Services


def register_all(app: App, services: Services) -> None:
    events.register(app, services)
    commands.register(app, services)
    shortcuts.register(app, services)
    actions.register(app, services)
