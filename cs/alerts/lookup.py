"""Was this message posted already? Every alert post carries its dedupe key as message metadata,
and the outbox reads the channel back before posting again.

Slack has no idempotency key for `chat.postMessage`: a call that times out after the request
was sent, a reset connection or a 5xx may or may not have stored the message. The key in the
metadata (https://docs.slack.dev/messaging/message-metadata) is what makes the answer certain:
`conversations.history` (a thread line: `conversations.replies`) with `include_all_metadata`
over a window starting at the first unconfirmed attempt.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

log = logging.getLogger(__name__)

EVENT_TYPE = "banso_alert"
# Our clock and Slack's may disagree a little; the window opens this much before the attempt.
CLOCK_MARGIN = timedelta(minutes=10)
PAGE_SIZE = 200
# A window is at most ~4 h (the retries' backoff); 2,000 messages of a CSM channel in it would
# be extraordinary. Past that the look-up gives up and the message is posted (never lost).
MAX_PAGES = 10


def metadata(key: str) -> dict[str, Any]:
    """The metadata of a post: Slack's documented shape, our dedupe key in the payload."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


def key_of(message: dict[str, Any]) -> str | None:
    meta = message.get("metadata")
    if not isinstance(meta, dict) or meta.get("event_type") != EVENT_TYPE:
        return None
    payload = meta.get("event_payload")
    return str(payload.get("key")) if isinstance(payload, dict) else None


def find_posted(client: WebClient, channel: str, key: str, since: datetime,
                thread_ts: str | None = None) -> str | None:
    """The ts of our message carrying `key` in `channel` (or in the thread of `thread_ts`)
    posted since `since`, or None. Slack errors propagate: the attempt is then retried."""
    oldest = f"{(since - CLOCK_MARGIN).timestamp():.6f}"
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        args: dict[str, Any] = {"channel": channel, "oldest": oldest, "limit": PAGE_SIZE,
                                "include_all_metadata": True, "cursor": cursor}
        if thread_ts is None:
            response = client.conversations_history(**args)
        else:
            response = client.conversations_replies(ts=thread_ts, **args)
        for message in response.get("messages") or []:
            if key_of(message) == key:
                return str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not response.get("has_more") or cursor is None:
            return None
    log.warning("alert look-up window too busy; posting without a definite answer",
                extra={"channel": channel, "dedupe_key": key, "pages": MAX_PAGES})
    return None
