"""Bolt middleware every listener shares."""

from __future__ import annotations

from typing import Any


def ignore_other_bots(body: dict[str, Any], ack: Any, next: Any) -> Any:
    """Bolt already drops the bot's own events; this drops every other bot's too (no loops)."""
    event = body.get("event") or {}
    if event.get("bot_id") or event.get("subtype") == "bot_message":
        return ack()
    return next()
