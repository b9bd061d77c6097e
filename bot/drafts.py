"""A Slack thread → a draft knowledge file for curators ("Save as FAQ draft").

The draft is internal until a curator reviews it and moves it into knowledge/: the bot never
publishes it. Its id comes from the thread, so saving the same thread again updates one draft
instead of piling up copies.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.mrkdwn import to_markdown
from bot.questions import clean, looks_like_question
from retrieval.documents import render_entry
from retrieval.language import detect_lang
from retrieval.models import Entry, Kind, Visibility

TITLE_CHARS = 120
# Split after a sentence end, keeping the mark ("…ありますか？" stays a question).
_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")


class EmptyThread(ValueError):
    """The thread has no reply to turn into an answer."""


@dataclass(frozen=True)
class Draft:
    entry: Entry
    text: str  # the file's content

    @property
    def filename(self) -> str:
        return f"{self.entry.id}.md"


def draft_id(channel: str, thread_ts: str) -> str:
    return f"draft-{channel.lower()}-{thread_ts.replace('.', '-')}"


def build_draft(
    messages: list[dict[str, Any]], *, channel: str, thread_ts: str, saved_by: str,
    today: date, link: str | None,
) -> Draft:
    """Title from the first question in the thread, body from the people's replies after it."""
    said = [(m, clean(m.get("text", ""))) for m in messages]
    said = [(m, text) for m, text in said if text]
    if not said:
        raise EmptyThread("the thread has no text")
    first = next((i for i, (_, text) in enumerate(said) if looks_like_question(text)), 0)
    title = _title(said[first][1])
    replies = said[first + 1:]
    people = [text for m, text in replies if not m.get("bot_id")]
    answer = people or [text for _, text in replies]
    if not answer:
        raise EmptyThread("the thread has no reply after the question")
    entry = Entry(
        id=draft_id(channel, thread_ts),
        title=title,
        body="\n\n".join(to_markdown(text) for text in answer),
        kind=Kind.FAQ,
        visibility=Visibility.INTERNAL,
        tags=("draft",),
        lang=detect_lang(title),
        owner=saved_by,
        updated=today,
        links=(link,) if link and link.startswith(("http://", "https://")) else (),
    )
    return Draft(entry, render_entry(entry))


def write_draft(drafts_dir: Path, draft: Draft) -> Path:
    """Write atomically: a curator's editor or the linter never sees half a file."""
    drafts_dir.mkdir(parents=True, exist_ok=True)
    path = drafts_dir / draft.filename
    fd, tmp = tempfile.mkstemp(dir=drafts_dir, prefix=".draft-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(draft.text)
        os.replace(tmp, path)
    except BaseException:
        # A full disk or a path taken by a folder: no half-written .draft-*.tmp stays behind.
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _title(text: str) -> str:
    """The question sentence itself, as plain text ("こんにちは。" and *bold* marks dropped)."""
    plain = re.sub(r"\*\*|__|`", "", to_markdown(text))
    plain = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", plain)
    sentences = [s.strip() for s in _SENTENCE_END.split(plain) if s.strip()]
    title = next((s for s in sentences if looks_like_question(s)), sentences[0])
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"
