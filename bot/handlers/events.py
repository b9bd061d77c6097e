"""Mentions, DMs, auto-answers in community channels and follow-ups in the bot's threads."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.answering import answer_event
from bot.held import HeldQuestions
from core.services import Services
from core.slack.interaction import acknowledge


def register(app: App, services: Services, held: HeldQuestions) -> None:
    def on_mention(body: dict[str, Any]) -> None:
        answer_event(services, body, mentioned=True, held=held)

    def on_message(body: dict[str, Any]) -> None:
        answer_event(services, body, mentioned=False, held=held)

    # Slack wants its 200 within 3 s; the search and the reply happen in the lazy listener.
    app.event("app_mention")(ack=acknowledge, lazy=[on_mention])
    app.event("message")(ack=acknowledge, lazy=[on_message])
