"""Slack messages as pure functions of stored data: answer, suggestions, abstain, escalation.

Every function returns a `Message` that Slack accepts whatever the input: long answers are split
into a few sections and then cut with a link to the source, long titles are shortened, and button
values are a compact typed payload (`payloads.AnswerRef`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.mrkdwn import to_mrkdwn
from bot.payloads import AnswerRef
from core.i18n import Lang, t
from core.slack.blocks import Block, Message, clip, context, escape, header, section
from core.slack.ids import ActionId
from retrieval.models import Entry, Hit

SECTION_CHARS = 2900      # Slack: 3,000 per section text; leave room for a closing fence
BODY_SECTIONS = 4         # a longer answer is cut and linked: Slack is not the place for it
TITLE_CHARS = 140
FALLBACK_CHARS = 300      # the notification / screen-reader text
SUGGESTIONS = 3
QUESTION_QUOTE_CHARS = 1500


@dataclass(frozen=True)
class Candidate:
    """An entry the search returned, as stored with the question (no body: titles only)."""

    id: str
    title: str
    score: float
    visibility: str = "public"

    @classmethod
    def from_hit(cls, hit: Hit) -> Candidate:
        return cls(hit.entry.id, hit.entry.title, round(hit.score, 4), str(hit.entry.visibility))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(str(data["id"]), str(data["title"]), float(data.get("score", 0.0)),
                   str(data.get("visibility", "public")))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "score": self.score,
                "visibility": self.visibility}


# --- answers ------------------------------------------------------------------------------


def answer(
    question_id: int, entry: Entry, lang: Lang, *, ephemeral: bool = False,
    counts: tuple[int, int] = (0, 0), shared_by: str | None = None, question: str | None = None,
) -> Message:
    """A confident answer: title, body, sources, feedback counts and the answer buttons."""
    blocks: list[Block] = [section(f"*{clip(escape(entry.title), TITLE_CHARS)}*", "title")]
    if shared_by:
        blocks.insert(0, context(t("bot.shared_by", lang, user=shared_by), block_id="shared"))
        if question:
            blocks.insert(1, section(_quote(question, lang), "question"))
    chunks, cut = _split(to_mrkdwn(entry.body))
    blocks += [section(chunk, f"body_{i}") for i, chunk in enumerate(chunks)]
    sources = _sources(entry, lang, cut)
    if sources:
        blocks.append(context(*sources, block_id="sources"))
    if any(counts):
        votes = t("bot.feedback_counts", lang, up=counts[0], down=counts[1])
        blocks.append(context(votes, block_id="votes"))
    ref = AnswerRef(q=question_id, e=entry.id)
    buttons = [
        _button(ActionId.HELPFUL, t("bot.helpful", lang), ref),
        _button(ActionId.NOT_HELPFUL, t("bot.not_helpful", lang), ref),
        _button(ActionId.ASK_HUMAN, t("bot.ask_human", lang), ref),
        _button(ActionId.MORE_ANSWERS, t("bot.more_answers", lang), ref),
    ]
    if ephemeral:
        buttons.append(_button(ActionId.SHARE, t("bot.share", lang), ref, style="primary"))
    blocks.append({"type": "actions", "block_id": "answer_actions", "elements": buttons})
    # The fallback (notifications, screen readers) is read as mrkdwn too: no raw Markdown there.
    body = to_mrkdwn(entry.body)
    if len(body) > FALLBACK_CHARS:
        body = _cut_line(body, FALLBACK_CHARS - 1) + "…"
    text = f"{clip(escape(entry.title), TITLE_CHARS)}\n{body}"
    return Message(text, blocks)


def suggestions(
    question_id: int, candidates: list[Candidate], lang: Lang, *, intro: str = "bot.suggest_intro",
) -> Message:
    """The top titles, each with a "Show answer" button, and "Ask a human"."""
    shown = candidates[:SUGGESTIONS]
    if not shown:
        return abstain(question_id, lang, text_key="bot.no_more")
    blocks: list[Block] = [section(t(intro, lang), "intro")]
    for i, cand in enumerate(shown):
        block = section(f"• {clip(escape(cand.title), TITLE_CHARS)}", f"suggest_{i}")
        block["accessory"] = _button(
            ActionId.SHOW_ANSWER, t("bot.show_answer", lang), AnswerRef(q=question_id, e=cand.id)
        )
        blocks.append(block)
    blocks.append(_actions([_button(ActionId.ASK_HUMAN, t("bot.ask_human", lang),
                                    AnswerRef(q=question_id))]))
    titles = " / ".join(clip(escape(c.title), 60) for c in shown)
    return Message(clip(f"{t(intro, lang)} {titles}", FALLBACK_CHARS), blocks)


def abstain(question_id: int, lang: Lang, *, text_key: str = "bot.abstain") -> Message:
    """No good match: say so plainly and offer a human."""
    blocks = [
        section(t(text_key, lang), "abstain"),
        _actions([_button(ActionId.ASK_HUMAN, t("bot.ask_human", lang), AnswerRef(q=question_id))]),
    ]
    return Message(t(text_key, lang), blocks)


# --- support and curators -----------------------------------------------------------------


def escalation(
    question: str, asker: str, requester: str, where: str, candidates: list[Candidate], lang: Lang,
    account: str | None = None,
) -> Message:
    """The post in the support channel: the question, who and where, and what the bot found."""
    found = "\n".join(
        f"• {clip(escape(c.title), TITLE_CHARS)} (`{escape(c.id)}`, {c.score:.2f})"
        for c in candidates[:5]
    ) or t("bot.escalation_no_candidates", lang)
    blocks: list[Block] = [
        header(t("bot.escalation_header", lang)) | {"block_id": "header"},
        section(_quote(question, lang), "question"),
        context(t("bot.escalation_meta", lang, asker=asker, requester=requester, where=where),
                block_id="meta"),
        section(f"*{t('bot.escalation_candidates', lang)}*\n{found}", "candidates"),
    ]
    if account:  # the asker's account as the CS team sees it (Services.asker_context)
        blocks.insert(3, context(account, block_id="account"))
    # The fallback is mrkdwn too (and the notification): the question's mentions must not fire.
    text = f"{t('bot.escalation_header', lang)}: {clip(escape(question), FALLBACK_CHARS)}"
    return Message(text, blocks)


def draft_announcement(title: str, user: str, link: str | None, path: str, lang: Lang) -> Message:
    thread = f"<{link}|{t('bot.this_thread', lang)}>" if link else t("bot.this_thread", lang)
    text = t("bot.draft_announce", lang, title=clip(escape(title), TITLE_CHARS), user=user,
             thread=thread, path=path)
    return Message(clip(text, FALLBACK_CHARS), [section(text, "draft")])


# --- pieces -------------------------------------------------------------------------------


def _actions(elements: list[Block]) -> Block:
    return {"type": "actions", "block_id": "answer_actions", "elements": elements}


def _button(action: ActionId, label: str, ref: AnswerRef, style: str | None = None) -> Block:
    button: Block = {"type": "button", "action_id": str(action), "value": ref.encode(),
                     "text": {"type": "plain_text", "text": clip(label, 75), "emoji": True}}
    if style:
        button["style"] = style
    return button


def _quote(question: str, lang: Lang) -> str:
    text = clip(escape(question.strip()), QUESTION_QUOTE_CHARS).replace("\n", "\n>")
    return ">" + t("bot.asked", lang, question=text)


def _sources(entry: Entry, lang: Lang, cut: bool) -> list[str]:
    links = [f"<{url}|{clip(escape(url), 80)}>" for url in entry.links[:3]]
    if not links and entry.path:
        links = [f"`{escape(entry.path)}`"]
    parts = [f"{t('bot.source', lang)}: " + "  ".join(links)] if links else []
    if cut:
        more = (f"<{entry.links[0]}|{t('bot.read_more', lang)}>" if entry.links
                else t("bot.truncated", lang))
        parts.insert(0, f"… {more}")
    return parts


def _split(text: str) -> tuple[list[str], bool]:
    """Split mrkdwn into sections at line breaks; True when it had to be cut."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines() or [""]:
        while len(line) > SECTION_CHARS:  # a single very long line: cut it outside a link
            head = _cut_line(line, SECTION_CHARS)
            chunks, current = _flush(chunks, current)
            chunks.append(head)
            line = line[len(head):]
        if len(current) + len(line) + 1 > SECTION_CHARS:
            chunks, current = _flush(chunks, current)
        current = f"{current}\n{line}" if current else line
    chunks, current = _flush(chunks, current)
    chunks = _close_fences(chunks) or [" "]
    if len(chunks) > BODY_SECTIONS:
        return chunks[:BODY_SECTIONS], True
    return chunks, False


def _flush(chunks: list[str], current: str) -> tuple[list[str], str]:
    if current.strip():
        chunks.append(current)
    return chunks, ""


def _cut_line(line: str, limit: int) -> str:
    head = line[:limit]
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        head = head[:opened] or head  # never split a <url|text> link in two
    return head


def _close_fences(chunks: list[str]) -> list[str]:
    """A code block split across sections must be closed and reopened, or Slack shows ``` ."""
    fixed: list[str] = []
    open_fence = False
    for chunk in chunks:
        text = ("```\n" + chunk) if open_fence else chunk
        if chunk.count("```") % 2 == 1:
            open_fence = not open_fence
        fixed.append(text + "\n```" if open_fence else text)
    return fixed
