"""Bolt listeners, one module per kind of request; each only parses, delegates and renders."""

from __future__ import annotations

from slack_bolt import App

from bot.answering import replay_held
from bot.handlers import actions, commands, events, shortcuts
from bot.held import HeldQuestions
from core.services import Services


def register_all(app: App, services: Services) -> None:
    # Questions (messages and /ask) that meet an unreachable database wait here, one queue
    # per bolt app, so they are replayed oldest first whatever way they were asked.
    held = HeldQuestions(lambda question: replay_held(services, question))
    events.register(app, services, held)
    commands.register(app, services, held)
    shortcuts.register(app, services)
    actions.register(app, services)
