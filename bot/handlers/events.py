"""Mentions, DMs, auto-answers in community channels and follow-ups in the bot's threads."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.answering import answer_event
from bot.deps import Bot


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, bot: Bot) -> None:
    def on_mention(body: dict[str, Any]) -> None:
        answer_event(bot, body, mentioned=True)

    def on_message(body: dict[str, Any]) -> None:
        answer_event(bot, body, mentioned=False)

    # Slack wants its 200 within 3 s; the search and the reply happen in the lazy listener.
    app.event("app_mention")(ack=_ack, lazy=[on_mention])
    app.event("message")(ack=_ack, lazy=[on_message])
