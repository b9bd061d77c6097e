"""Bolt listeners, one module per kind of request; each only parses, delegates and renders."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Bot
from bot.handlers import actions, commands, events, shortcuts


def register_all(app: App, bot: Bot) -> None:
    events.register(app, bot)
    commands.register(app, bot)
    shortcuts.register(app, bot)
    actions.register(app, bot)
