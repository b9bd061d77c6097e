"""Bot tables: answers, feedback, escalations, knowledge gaps, event dedupe.

A knowledge gap is a question whose decision was `abstain` (see `service.knowledge_gaps`): no
separate table, so the curation report and the answer log can never disagree.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Surface(StrEnum):
    SLACK = "slack"              # mention, DM, auto-answer, thread follow-up
    WEB = "web"                  # /api/ask (website chat)
    ASK_COMMAND = "ask-command"  # the /ask slash command


class Question(Base):
    """One question asked and what the bot answered (the truth every Slack card is built from)."""

    __tablename__ = "bot_questions"
    __table_args__ = (
        Index("ix_bot_questions_thread", "channel", "thread_ts"),
        Index("ix_bot_questions_decision_created", "decision", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    surface: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    user: Mapped[str | None] = mapped_column(String(64))
    # Root of the Slack thread the answer lives in; the bot follows up in threads it answered.
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))        # the question message
    reply_ts: Mapped[str | None] = mapped_column(String(32))  # the bot's answer message
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    visibility: Mapped[str] = mapped_column(String(16))  # what was searched: public | internal
    decision: Mapped[str] = mapped_column(String(16))
    top_entry_id: Mapped[str | None] = mapped_column(String(200))
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]


class Feedback(Base):
    """The latest 👍/👎 of one user on one answer (a new click replaces the old one)."""

    __tablename__ = "bot_feedback"
    __table_args__ = (
        UniqueConstraint("question_id", "user", name="uq_bot_feedback_question_user"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("bot_questions.id", ondelete="CASCADE"), index=True
    )
    user: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    entry_id: Mapped[str | None] = mapped_column(String(200))  # the entry shown when clicked
    updated_at: Mapped[datetime]


class Escalation(Base):
    """A question handed to humans in the support channel ("Ask a human"); one per question."""

    __tablename__ = "bot_escalations"
    __table_args__ = (UniqueConstraint("question_id", name="uq_bot_escalations_question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("bot_questions.id", ondelete="CASCADE"))
    requested_by: Mapped[str] = mapped_column(String(64))
    support_channel: Mapped[str] = mapped_column(String(32))
    support_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class SlackEventSeen(Base):
    """A Slack message the bot has taken on; the unique key makes the claim atomic everywhere."""

    __tablename__ = "bot_slack_events_seen"
    __table_args__ = (UniqueConstraint("channel", "ts", name="uq_bot_slack_events_seen"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str | None] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(index=True)
