"""Markdown (the knowledge files' format) → Slack mrkdwn, and back for drafts from Slack threads.

Slack's mrkdwn is not Markdown: bold is `*x*`, italics `_x_`, links `<url|text>`, there are no
headings, and `&`, `<`, `>` must be escaped or Slack reads them as control sequences. Code spans
and fenced blocks are passed through untouched (only escaped).
"""

from __future__ import annotations

import re

from core.slack.blocks import escape

_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"`[^`\n]+`")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_AUTOLINK = re.compile(r"&lt;(https?://[^\s>]+?)&gt;")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC_STAR = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_PLACEHOLDER = "\x00{}\x00"
_RESTORE = re.compile(r"\x00(\d+)\x00")


def to_mrkdwn(markdown: str) -> str:
    """Convert a Markdown answer body to Slack mrkdwn; lists and paragraphs keep their lines."""
    lines: list[str] = []
    in_fence = False
    for line in markdown.strip("\r\n").splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            lines.append("```")
            continue
        lines.append(escape(line) if in_fence else _convert_line(line))
    if in_fence:
        lines.append("```")
    return "\n".join(lines)


def _convert_line(line: str) -> str:
    if _RULE.match(line):
        return "──────────"
    heading = _HEADING.match(line)
    if heading:
        # Slack has no nested bold: the whole heading line is bold, inner marks would break it.
        return f"*{_inline(_BOLD.sub(lambda m: m.group(2), heading.group(1)))}*"
    bullet = _BULLET.match(line)
    if bullet:
        indent = "    " * (len(bullet.group(1).expandtabs(4)) // 2)
        return f"{indent}• {_inline(bullet.group(2))}"
    return _inline(line)


def _inline(text: str) -> str:
    """Inline formatting; code spans and finished links are parked so later rules skip them."""
    parked: list[str] = []

    def park(value: str) -> str:
        parked.append(value)
        return _PLACEHOLDER.format(len(parked) - 1)

    text = _CODE_SPAN.sub(lambda m: park(escape(m.group(0))), text)
    text = escape(text)
    text = _IMAGE.sub(lambda m: park(_link(m.group(2), m.group(1) or m.group(2))), text)
    text = _LINK.sub(lambda m: park(_link(m.group(2), _inline_plain(m.group(1)))), text)
    text = _AUTOLINK.sub(lambda m: park(f"<{m.group(1)}>"), text)
    # Italics first: after bold becomes `*x*` it would look like a Markdown italic.
    text = _ITALIC_STAR.sub(lambda m: f"_{m.group(1)}_", text)
    text = _BOLD.sub(lambda m: f"*{m.group(2)}*", text)
    text = _STRIKE.sub(lambda m: f"~{m.group(1)}~", text)
    return _RESTORE.sub(lambda m: parked[int(m.group(1))], text)


def _inline_plain(text: str) -> str:
    """Link text: Slack shows it literally, so drop Markdown emphasis marks and the `|`."""
    return re.sub(r"(\*\*|__|`)", "", text).replace("|", "｜")


def _link(url: str, label: str) -> str:
    return f"<{url.replace('&amp;', '&').replace('|', '%7C')}|{label}>"


# --- Slack → Markdown (thread replies turned into a draft knowledge file) --------------------

_SLACK_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_SLACK_BARE_LINK = re.compile(r"<(https?://[^|>]+)>")
_SLACK_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_SLACK_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SLACK_SPECIAL = re.compile(r"<!(\w+)(?:\|[^>]*)?>")
_SLACK_BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")


def to_markdown(mrkdwn: str) -> str:
    """Convert a Slack message's text to Markdown (links, bold, mentions as @id)."""
    text = _SLACK_LINK.sub(lambda m: f"[{m.group(2)}]({m.group(1)})", mrkdwn)
    text = _SLACK_BARE_LINK.sub(lambda m: f"<{m.group(1)}>", text)
    text = _SLACK_USER.sub(lambda m: f"@{m.group(1)}", text)
    text = _SLACK_CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SLACK_SPECIAL.sub(lambda m: f"@{m.group(1)}", text)
    text = _SLACK_BOLD.sub(lambda m: f"**{m.group(1)}**", text)
    text = re.sub(r"^(\s*)•\s+", r"\1- ", text, flags=re.MULTILINE)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
