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


class PostedIndex:
    """Our messages in a channel (or a thread), read once per delivery round.

    After a Slack outage many rows of one channel need a look-up; `conversations.history` is
    rate-limited (Tier 3, ~50 a minute), so one read of the window answers all of them. Safe
    within a round: a message an earlier attempt may have posted is in Slack before the read,
    and what this round posts itself is confirmed by Slack's answer, never looked up."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._read: dict[tuple[str, str | None], tuple[datetime, dict[str, str]]] = {}

    def find(self, channel: str, key: str, since: datetime,
             thread_ts: str | None = None) -> str | None:
        """The ts of our message carrying `key` posted since `since`, or None. Slack errors
        propagate: the attempt is then retried (and looks again)."""
        where = (channel, thread_ts)
        cached = self._read.get(where)
        if cached is None or cached[0] > since:
            cached = (since, self._keys(channel, since, thread_ts))
            self._read[where] = cached
        return cached[1].get(key)

    def _keys(self, channel: str, since: datetime, thread_ts: str | None) -> dict[str, str]:
        oldest = f"{(since - CLOCK_MARGIN).timestamp():.6f}"
        found: dict[str, str] = {}
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            args: dict[str, Any] = {"channel": channel, "oldest": oldest, "limit": PAGE_SIZE,
                                    "include_all_metadata": True, "cursor": cursor}
            if thread_ts is None:
                response = self._client.conversations_history(**args)
            else:
                response = self._client.conversations_replies(ts=thread_ts, **args)
            for message in response.get("messages") or []:
                key = key_of(message)
                if key is not None:
                    found.setdefault(key, str(message["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or cursor is None:
                return found
        log.warning("alert look-up window too busy; what is not found is posted",
                    extra={"channel": channel, "pages": MAX_PAGES})
        return found
