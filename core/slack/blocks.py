"""The Block Kit pieces every room builds its messages from, and Slack's documented limits.

Limits (https://api.slack.com/reference/block-kit/blocks): 50 blocks per message, 100 per
view (App Home, modals), 3,000 characters in a section or context text, 150 in a header, 75 in
a button or option label. Helpers clip to them, so a message Slack would refuse is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
LABEL_LIMIT = 75
MESSAGE_TEXT_LIMIT = 40_000  # chat.postMessage `text`; Slack truncates beyond it


@dataclass(frozen=True)
class Message:
    """What a post or an update sends: the notification / screen-reader text and the blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def notice(text: str) -> Message:
    """A short line in Banso's own words (an apology, a confirmation, a refusal)."""
    return Message(clip(text, 300), [section(text, "notice")])


def escape(text: str) -> str:
    """User or customer text made inert in mrkdwn: it cannot mention <!here> or fake a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    """`text` within `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain(text: str, limit: int = LABEL_LIMIT) -> Block:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "context",
                    "elements": [{"type": "mrkdwn", "text": clip(x)} for x in texts]}
    if block_id:
        block["block_id"] = block_id
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_LIMIT)}


def divider() -> Block:
    return {"type": "divider"}
