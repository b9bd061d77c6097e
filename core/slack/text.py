"""Block Kit as a person reads it in a terminal: dry runs and logs show the card, not its JSON.

`render(blocks)` turns the block types Banso sends (header, section with text and fields,
context, divider, actions, image, input) into plain lines; mrkdwn is made readable (`*bold*`
loses its stars, `<url|label>` becomes `label (url)`, `<@U1>` becomes `@U1`) and buttons read
`[ Acknowledge ]`. An unknown block type is shown by its name, so nothing is silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from core.slack.blocks import Block

RULE = "─" * 40
_LINK = re.compile(r"<(https?://[^|>]+|mailto:[^|>]+)(?:\|([^>]+))?>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]+))?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)~(?![\w~])")


def mrkdwn_to_text(text: str) -> str:
    """Slack mrkdwn as plain text: markers dropped, links and mentions spelled out."""
    text = _LINK.sub(lambda m: f"{m[2]} ({m[1]})" if m[2] else m[1], text)
    text = _USER.sub(lambda m: f"@{m[2] or m[1]}", text)
    text = _CHANNEL.sub(lambda m: f"#{m[2] or m[1]}", text)
    text = _SPECIAL.sub(lambda m: f"@{m[1]}", text)
    for marker in (_BOLD, _ITALIC, _STRIKE):
        text = marker.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(blocks: Iterable[Block]) -> str:
    """The blocks as plain text, one paragraph per block."""
    parts = [_block(block) for block in blocks]
    return "\n".join(part for part in parts if part)


def _text(obj: Any) -> str:
    if not isinstance(obj, dict):
        return ""
    raw = str(obj.get("text", ""))
    return mrkdwn_to_text(raw) if obj.get("type") == "mrkdwn" else raw


def _block(block: Block) -> str:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"))
        return f"{title}\n{'═' * min(len(title) * 2, 60)}"
    if kind == "section":
        return _section(block)
    if kind == "context":
        return "  " + " · ".join(_element(e) for e in block.get("elements", []))
    if kind == "divider":
        return RULE
    if kind == "actions":
        return "  ".join(_element(e) for e in block.get("elements", []))
    if kind == "image":
        return f"[image: {block.get('alt_text', '')}] {block.get('image_url', '')}".rstrip()
    if kind == "input":
        return f"{_text(block.get('label'))}: {_element(block.get('element', {}))}"
    return f"[{kind} block]"


def _section(block: Block) -> str:
    lines = [_text(block["text"])] if block.get("text") else []
    for field in block.get("fields", []):
        label, _, value = _text(field).partition("\n")
        lines.append(f"  {label}: {value.replace(chr(10), ' · ')}" if value else f"  {label}")
    accessory = block.get("accessory")
    if accessory:
        lines.append(_element(accessory))
    return "\n".join(lines)


def _element(element: Any) -> str:
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    if kind in {"mrkdwn", "plain_text"}:
        return _text(element)
    if kind == "button":
        return f"[ {_text(element.get('text'))} ]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind and ("select" in kind or "picker" in kind):
        label = _text(element.get("placeholder")) or _text(
            (element.get("initial_option") or {}).get("text"))
        return f"[ {label} ▾ ]"
    if kind == "overflow":
        return "[ … ]"
    return f"[{kind}]"
