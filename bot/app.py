"""The bolt App factory: built once from the settings and the collaborators, never mutated after.

HTTP mode (`bot.http.mount`) and Socket Mode (`bot.socket.start_socket_mode`) serve the same App.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from banso.settings import Settings
from bot.channels import ChannelPolicy, StaffDirectory
from bot.deps import AnswerSource, Bot, BotServices, utc_now
from bot.handlers import register_all
from bot.slack import web_client

__all__ = ["AnswerSource", "BotServices", "build_bolt_app", "utc_now"]

log = logging.getLogger(__name__)


class SlackNotConfigured(RuntimeError):
    """SLACK_BOT_TOKEN is missing: the bolt app cannot be built."""


def build_bolt_app(
    settings: Settings, services: BotServices, *, listener_executor: Executor | None = None,
) -> App:
    """The bolt App; `listener_executor` runs acks and lazy listeners (default: 5 threads)."""
    client = services.slack or _client(settings)
    bot = Bot(
        settings=settings,
        services=services,
        client=client,
        policy=ChannelPolicy(frozenset(settings.community_channels),
                             frozenset(settings.internal_channels)),
        staff=StaffDirectory(client, settings.staff_usergroup, settings.staff_users,
                             clock=services.now),
    )
    secret = settings.slack_signing_secret
    app = App(
        client=client,
        # Without a secret (Socket Mode: its requests are not signed) a random one makes every
        # HTTP request fail verification with 401; bolt would raise on an empty one.
        signing_secret=secret.get_secret_value() if secret else secrets.token_hex(32),
        # Look the bot up (auth.test) on the first request, so start-up never needs Slack.
        token_verification_enabled=False,
        # Acknowledge first, then run lazy listeners (they do the search and the posting).
        process_before_response=False,
        logger=logging.getLogger("bot.bolt"),
        listener_executor=listener_executor,
    )
    app.middleware(ignore_other_bots)
    register_all(app, bot)
    _register_other_rooms(app, RoomServices(settings, services.session_factory, client,
                                            services.now))
    return app


def _client(settings: Settings) -> WebClient:
    if settings.slack_bot_token is None:
        raise SlackNotConfigured("set SLACK_BOT_TOKEN to use the Slack bot")
    return web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)


def ignore_other_bots(body: dict[str, Any], ack: Any, next: Any) -> Any:
    """Bolt already drops the bot's own events; this drops every other bot's too (no loops)."""
    event = body.get("event") or {}
    if event.get("bot_id") or event.get("subtype") == "bot_message":
        return ack()
    return next()


# Other rooms add listeners to the same App (one Slack app, one endpoint): alert buttons and
# /banso-alerts (jobs.alerts), the App Home (jobs.kpis). Each exposes `register(app, services)`.


@dataclass(frozen=True)
class RoomServices:
    """What those `register` functions read from `banso.services.Services`."""

    settings: Settings
    session_factory: sessionmaker[Session]
    slack: WebClient
    now: Callable[[], datetime]


def _register_other_rooms(app: App, services: RoomServices) -> None:
    # Imported here, not at the top: those rooms import bot.channels from this package.
    from jobs.alerts import handlers as alert_handlers
    from jobs.kpis import home

    alert_handlers.register(app, services)
    home.register(app, services)
