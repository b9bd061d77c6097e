"""Answer buttons: 👍/👎, Show answer, More answers, Ask a human, Share in channel."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot import clicks
from core.services import Services
from core.slack.ids import ActionId
from core.slack.interaction import acknowledge

_CLICKS: dict[ActionId, clicks.Button] = {
    ActionId.HELPFUL: clicks.feedback(helpful=True),
    ActionId.NOT_HELPFUL: clicks.feedback(helpful=False),
    ActionId.SHOW_ANSWER: clicks.show_answer,
    ActionId.MORE_ANSWERS: clicks.more_answers,
    ActionId.ASK_HUMAN: clicks.ask_human,
    ActionId.SHARE: clicks.share,
}


def register(app: App, services: Services) -> None:
    for action_id, click in _CLICKS.items():
        app.action(str(action_id))(ack=acknowledge, lazy=[_runner(services, click)])


def _runner(services: Services, button: clicks.Button) -> Any:
    def run(body: dict[str, Any]) -> None:
        clicks.run(services, body, button)

    return run
