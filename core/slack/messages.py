"""Thin Slack I/O: where a message goes and how a card is replaced, posted or reacted to.

Everything goes through the app's WebClient (base_url = settings.slack_api_url, 429 retries) or,
for ephemeral messages that only a response_url can change, a WebhookClient with the same retry.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from core.slack.blocks import Message
from core.slack.client import rate_limit_retries

log = logging.getLogger(__name__)

WORKING_REACTION = "eyes"


class ResponseUrlError(RuntimeError):
    """Slack refused a response_url message (expired, or blocks it would not accept)."""


@dataclass(frozen=True)
class Origin:
    """The message a button was clicked on: a channel message, or an ephemeral one."""

    channel: str | None
    message_ts: str | None
    thread_ts: str | None
    ephemeral: bool
    response_url: str | None

    @classmethod
    def of_action(cls, body: dict[str, Any]) -> Origin:
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        return cls(
            channel=channel,
            message_ts=container.get("message_ts") or message.get("ts"),
            thread_ts=container.get("thread_ts") or message.get("thread_ts"),
            ephemeral=bool(container.get("is_ephemeral")),
            response_url=body.get("response_url"),
        )


def clicked_in_home(body: dict[str, Any]) -> bool:
    """Whether a block_actions payload came from the App Home tab (not a channel card)."""
    return (body.get("view") or {}).get("type") == "home"


def respond(response_url: str, message: Message, *, replace: bool = False,
            delete: bool = False) -> None:
    """Send an ephemeral message (or replace/delete the original) through a response_url."""
    payload: dict[str, Any] = {"text": message.text, "blocks": message.blocks,
                               "response_type": "ephemeral"}
    if replace:
        payload["replace_original"] = True
    elif delete:
        payload = {"delete_original": True, "text": message.text}
    else:
        payload["replace_original"] = False
    client = WebhookClient(response_url, retry_handlers=rate_limit_retries())
    reply = client.send_dict(payload)
    if reply.status_code != 200 or _refused(reply.body):
        raise ResponseUrlError(f"response_url answered {reply.status_code}: {reply.body[:200]}")


def _refused(body: str) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False  # Slack's plain "ok"
    return isinstance(data, dict) and data.get("ok") is False


def replace(client: WebClient, origin: Origin, message: Message) -> None:
    """Re-render the clicked card: chat.update for a channel message, response_url if ephemeral."""
    if origin.ephemeral or not origin.message_ts:
        if not origin.response_url:
            raise ResponseUrlError("an ephemeral message can only be changed via response_url")
        respond(origin.response_url, message, replace=True)
        return
    client.chat_update(channel=origin.channel or "", ts=origin.message_ts, text=message.text,
                       blocks=message.blocks)


def tell(client: WebClient, origin: Origin, user: str, message: Message) -> None:
    """An ephemeral note to the user who clicked, next to the card they clicked."""
    if origin.response_url:
        respond(origin.response_url, message)
        return
    client.chat_postEphemeral(channel=origin.channel or "", user=user, text=message.text,
                              blocks=message.blocks, thread_ts=origin.thread_ts)


def react(client: WebClient, channel: str, ts: str, *, add: bool) -> None:
    """The "working on it" reaction; cosmetic, so a failure is logged and never stops an answer."""
    try:
        if add:
            client.reactions_add(channel=channel, timestamp=ts, name=WORKING_REACTION)
        else:
            client.reactions_remove(channel=channel, timestamp=ts, name=WORKING_REACTION)
    except SlackApiError as exc:
        log.info("reaction %s failed", "add" if add else "remove",
                 extra={"channel": channel, "error": exc.response.get("error")})


def permalink(client: WebClient, channel: str | None, ts: str | None) -> str | None:
    if not channel or not ts:
        return None
    try:
        reply = client.chat_getPermalink(channel=channel, message_ts=ts)
    except SlackApiError as exc:
        log.warning("permalink lookup failed", extra={"error": exc.response.get("error")})
        return None
    link = reply.get("permalink")
    return str(link) if link else None
