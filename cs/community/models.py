"""Community tables: who a Slack member is (a contact, so an account) and what they asked.

`CommunityLink` caches one contact's `users.lookupByEmail` answer (a Slack user or none) with
the time it was looked up, so a refresh age decides when to ask Slack again. An explicit
`contacts.slack_user_id` always wins over the cache.

`CommunityQuestion` is one question a linked member asked, projected from the bot's answer log
(`bot_questions`, feedback, escalations) with the account it counted for at the time: if the
contact later moves, history stays where it happened. The question's text stays in the bot's
table only (retention blanks it there); these rows keep the counts.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class LinkSource(StrEnum):
    EXPLICIT = "explicit"  # contacts.slack_user_id (import or API)
    EMAIL = "email"  # users.lookupByEmail of the contact's email


class Outcome(StrEnum):
    ANSWERED = "answered"
    SUGGESTED = "suggested"
    ABSTAINED = "abstained"  # the knowledge base had no answer: unanswered


class CommunityLink(Base):
    """The latest `users.lookupByEmail` of one contact (slack_user_id None: no such member)."""

    __tablename__ = "community_links"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(320))  # the address looked up (a change re-asks)
    slack_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    looked_up_at: Mapped[datetime]


class CommunityQuestion(Base):
    """One question of a linked member: outcome, 👍/👎, escalation and when it was closed."""

    __tablename__ = "community_questions"
    __table_args__ = (
        Index("ix_community_questions_account_asked", "account_id", "asked_at"),
        # Covers the health run's window query: read from the index alone, no row look-ups
        # (rows of one week are scattered over the table; bench/community_scale.py).
        Index("ix_community_questions_asked", "asked_at", "account_id", "outcome", "helpful",
              "unhelpful", "escalated_at", "escalation_closed_at", "slack_user_id"),
        Index("ix_community_questions_week", "week"),
    )

    question_id: Mapped[int] = mapped_column(
        ForeignKey("bot_questions.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE")
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    slack_user_id: Mapped[str | None] = mapped_column(String(32))  # None: the website chat
    channel: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)  # the question's thread in Slack
    outcome: Mapped[str] = mapped_column(String(16))
    helpful: Mapped[int] = mapped_column(Integer, default=0)  # 👍 (latest click per user)
    unhelpful: Mapped[int] = mapped_column(Integer, default=0)  # 👎
    escalated_at: Mapped[datetime | None]
    escalation_closed_at: Mapped[datetime | None]
    escalation_closed_by: Mapped[str | None] = mapped_column(String(32))
    asked_at: Mapped[datetime]
    week: Mapped[date] = mapped_column(Date)  # Monday of the asking week (team time zone)
