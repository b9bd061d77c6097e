"""The bot's fixtures, for the shell's tests of the Slack app it builds (test_slack_modes)."""

from tests.bot.conftest import bot_settings, retriever, stub

__all__ = ["bot_settings", "retriever", "stub"]
