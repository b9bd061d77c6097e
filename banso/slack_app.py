"""The bolt App: built once from `Services`, with every room's listeners, never mutated after.

One Slack app, one endpoint: the answer bot (`bot.handlers`), the alert buttons, modal and
`/banso-alerts` (`cs.alerts.listeners`) and the App Home (`cs.home.listeners`) all register
here, so no room registers another. HTTP mode (`banso.web.slack_events`) and Socket Mode
(`banso.socket_mode`) serve the same App.
"""

from __future__ import annotations

import logging
import secrets
from concurrent.futures import Executor

from slack_bolt import App

from bot import handlers as bot_handlers
from core.services import Services
from core.slack.middleware import ignore_other_bots
from cs.alerts import listeners as alert_listeners
from cs.community import listeners as community_listeners
from cs.home import listeners as home_listeners

log = logging.getLogger(__name__)


def build_bolt_app(services: Services, *, listener_executor: Executor | None = None) -> App:
    """The bolt App; `listener_executor` runs acks and lazy listeners (default: 5 threads)."""
    secret = services.settings.slack_signing_secret
    app = App(
        client=services.client,
        # Without a secret (Socket Mode: its requests are not signed) a random one makes every
        # HTTP request fail verification with 401; bolt would raise on an empty one.
        signing_secret=secret.get_secret_value() if secret else secrets.token_hex(32),
        # Look the bot up (auth.test) on the first request, so start-up never needs Slack.
        token_verification_enabled=False,
        # Acknowledge first, then run lazy listeners (they do the search and the posting).
        process_before_response=False,
        logger=logging.getLogger("banso.bolt"),
        listener_executor=listener_executor,
    )
    # Bolt's verifier logs the whole body of a badly signed request at INFO (one unsigned 200 MB
    # POST was one 200 MB log line). /slack/events verifies before bolt does, so this only
    # matters if they ever disagree; bolt names its loggers after the class.
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)
    app.middleware(ignore_other_bots)
    bot_handlers.register_all(app, services)
    homes = home_listeners.HomeTab(services)
    home_listeners.register(app, homes)
    alert_listeners.register(app, services, refresh_home=homes.publish)
    community_listeners.register(app, services)
    return app
