"""Hand-offs from the website chat: a visitor the bot could not help asks for a human.

The request is stored first (the database is the truth, so nothing is lost when Slack is down
or not configured), then posted to the support channel; without Slack it waits in the table,
listed by `banso handoffs list` and GET /api/handoffs for staff.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base
from core.i18n import Lang, t
from core.slack.blocks import Block, Message, clip, context, escape, header, section

log = logging.getLogger(__name__)


class HandoffStatus(StrEnum):
    SENT = "sent"      # posted to the support channel
    STORED = "stored"  # waiting for staff (Slack off, no support channel, or Slack failed)


class Handoff(Base):
    """One visitor's request for a human, with the consent they gave to be contacted."""

    __tablename__ = "web_handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    lang: Mapped[str] = mapped_column(String(8))
    answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("bot_questions.id", ondelete="SET NULL"))
    consent_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(index=True)


def create(session: Session, *, question: str, name: str, email: str, lang: str,
           answer_id: int | None, now: datetime) -> Handoff:
    row = Handoff(question=question, name=name, email=email, lang=lang, answer_id=answer_id,
                  consent_at=now, status=HandoffStatus.STORED.value, created_at=now)
    session.add(row)
    session.flush()
    return row


def deliver(row: Handoff, client: WebClient | None, channel: str | None, lang: Lang) -> None:
    """Post the request to the support channel; on any failure it stays stored for staff."""
    if client is None or channel is None:
        row.error = "Slack not configured" if client is None else "no BANSO_SUPPORT_CHANNEL"
        return
    message = support_message(row, lang)
    try:
        reply = client.chat_postMessage(channel=channel, text=message.text,
                                        blocks=message.blocks)
    except (SlackApiError, SlackClientError, OSError) as exc:
        row.error = clip(f"{type(exc).__name__}: {exc}", 300)
        log.warning("hand-off not posted; stored for staff", extra={"handoff_id": row.id})
        return
    row.status, row.channel, row.ts, row.error = (HandoffStatus.SENT.value, channel,
                                                   str(reply["ts"]), None)


def support_message(row: Handoff, lang: Lang) -> Message:
    """The support channel's card: the question, who asks, how to reach them."""
    blocks: list[Block] = [
        header(t("handoff.title", lang)),
        section(f"> {escape(row.question)}"),
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{t('handoff.name', lang)}*\n{escape(row.name)}"},
            {"type": "mrkdwn", "text": f"*{t('handoff.email', lang)}*\n{escape(row.email)}"},
        ]},
        context(t("handoff.consent", lang, at=f"{row.consent_at:%Y-%m-%d %H:%M} UTC",
                  id=row.id)),
    ]
    return Message(clip(t("handoff.text", lang, name=row.name), 300), blocks)


def recent(session: Session, limit: int = 100) -> list[Handoff]:
    return list(session.scalars(select(Handoff).order_by(Handoff.id.desc()).limit(limit)))
