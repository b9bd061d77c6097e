"""`/ask <question>`: an answer only the asker sees, which they may share in the channel."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.answering import answer_command, command_problem
from bot.held import HeldQuestions
from core.services import Services
from core.slack.ids import CommandName


def register(app: App, services: Services, held: HeldQuestions) -> None:
    def acknowledge(ack: Ack, command: dict[str, Any]) -> None:
        # A usage or length problem is answered at once, in the acknowledgement itself.
        problem = command_problem(services, command)
        if problem:
            ack(text=problem)
        else:
            ack()

    def run(command: dict[str, Any]) -> None:
        if command_problem(services, command) is None:
            answer_command(services, command, held=held)

    app.command(str(CommandName.ASK))(ack=acknowledge, lazy=[run])
