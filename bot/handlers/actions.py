"""Answer buttons: 👍/👎, Show answer, More answers, Ask a human, Share in channel."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import clicks
from bot.deps import Bot
from bot.payloads import ActionId

_CLICKS: dict[ActionId, clicks.Click] = {
    ActionId.HELPFUL: clicks.feedback(helpful=True),
    ActionId.NOT_HELPFUL: clicks.feedback(helpful=False),
    ActionId.SHOW_ANSWER: clicks.show_answer,
    ActionId.MORE_ANSWERS: clicks.more_answers,
    ActionId.ASK_HUMAN: clicks.ask_human,
    ActionId.SHARE: clicks.share,
}


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, bot: Bot) -> None:
    for action_id, click in _CLICKS.items():
        app.action(str(action_id))(ack=_ack, lazy=[_runner(bot, click)])


def _runner(bot: Bot, click: clicks.Click) -> Any:
    def run(body: dict[str, Any]) -> None:
        clicks.guarded(bot, body, click)

    return run
