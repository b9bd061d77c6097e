"""The one way Banso makes a Slack Web API client: the configured base URL and 429 retries."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from core.settings import Settings

MAX_RATE_LIMIT_RETRIES = 3


def rate_limit_retries() -> list[RetryHandler]:
    return [RateLimitErrorRetryHandler(max_retry_count=MAX_RATE_LIMIT_RETRIES)]


def web_client(token: str, base_url: str, timeout: int = 30) -> WebClient:
    # Only 429s are retried here: slack_sdk's default also retries a reset connection, which
    # re-posts a message Slack may already have stored. The outbox decides that after a look-up.
    return WebClient(token=token, base_url=base_url, timeout=timeout,
                     retry_handlers=rate_limit_retries())


def slack_client(settings: Settings) -> WebClient | None:
    """The bot's client, or None when SLACK_BOT_TOKEN is unset (alerts are then only stored)."""
    if settings.slack_bot_token is None:
        return None
    return web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url,
                      settings.slack_timeout_seconds)
