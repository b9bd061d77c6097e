"""Alerts, actions on them, the delivery outbox and who sees which alerts.

The database is the truth and Slack a view of it: an alert's card is always rebuilt from the
row (`cs.alerts.blocks.alert_card`), and every message Slack should see is first written to
the outbox in the same transaction as the state change that caused it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utc_now
from core.db import Base


class AlertKind(StrEnum):
    AT_RISK = "at_risk"
    CONTACT_CHANGE = "contact_change"
    RENEWAL = "renewal"
    RENEWAL_THANKS = "renewal_thanks"
    ONBOARDING = "onboarding"
    EXPANSION = "expansion"
    CADENCE = "cadence"
    SUPPORT_FRICTION = "support_friction"  # members' questions unanswered or escalated


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Delivery(StrEnum):
    CARD = "card"  # one message per alert, mentioning the owner (high- and low-touch)
    DIGEST = "digest"  # one digest per channel per day (tech-touch)


class ActionKind(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    SNOOZE = "snooze"
    ASSIGN = "assign"
    LOG_TOUCH = "log_touch"
    RESOLVE = "resolve"
    NOT_USEFUL = "not_useful"
    TAKE_OVER = "take_over"  # a tech-touch digest item becomes a card assigned to the clicker


class OutboxOp(StrEnum):
    POST_ALERT = "post_alert"  # first card of an alert; its ts is stored on the alert
    UPDATE_ALERT = "update_alert"  # chat.update of the stored channel+ts, rendered from the row
    THREAD = "thread"  # a follow-up line in the alert's thread
    DIGEST = "digest"  # the day's tech-touch digest of one channel


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker until claimed_until
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; kept for the operator
    HELD = "held"  # Slack not configured (or no channel): kept, sent once it is configured
    SKIPPED = "skipped"  # nothing left to say (e.g. resolved before its card was ever posted)


class RoutingScope(StrEnum):
    OWN = "own"
    TEAM = "team"
    ALL = "all"


class SignalLine(BaseModel):
    """One risk signal on an at-risk card: its figure in words, and how it moved."""

    model_config = ConfigDict(extra="ignore")

    kind: str  # cs.rules.models.RiskKind
    text: str  # the figure in words ("最終ログイン 30日前 (基準 14日)")
    value: float | None = None
    previous: float | None = None  # the figure the card showed before it last changed
    higher_is_worse: bool = True


class ContactChangeLine(BaseModel):
    """Who the primary contact was, where they went and who it is now (from the import)."""

    model_config = ConfigDict(extra="ignore")

    previous_name: str | None = None
    previous_email: str | None = None
    moved_to: str | None = None
    new_name: str
    new_email: str
    changed_on: date  # in the team's time zone
    days_since: int  # calendar days


class TouchLine(BaseModel):
    """A logged call, meeting or email, as the card lists it."""

    model_config = ConfigDict(extra="ignore")

    kind: str
    on: date  # in the team's time zone
    days_ago: int  # calendar days
    user_id: str | None = None


class AlertSummary(BaseModel):
    """What the card shows besides the alert's state; stored on the alert as JSON evidence.

    Kept on the row (not recomputed on click) so a click re-renders exactly what was assessed.
    Fields added later have defaults, so evidence stored before them still reads.
    """

    model_config = ConfigDict(extra="ignore")

    account_name: str
    touch_model: str
    mrr: int = 0
    currency: str = "JPY"
    health_score: int | None = None
    health_band: str | None = None
    health_reasons: list[str] = Field(default_factory=list)  # the measures that cost most
    phase: str | None = None  # cs.rules.models.Phase: the renewal countdown shows in "renewal"
    reasons: list[str] = Field(default_factory=list)
    signals: list[SignalLine] = Field(default_factory=list)  # at-risk: each with its trend
    contact: ContactChangeLine | None = None  # contact change
    recent_touches: list[TouchLine] = Field(default_factory=list)  # newest first
    account_url: str | None = None  # BANSO_ACCOUNT_URL_TEMPLATE filled in
    days_to_renewal: int | None = None
    renewal_date: date | None = None
    milestone: int | None = None  # renewal reminder day (120/90/60/30)
    cadence_due: list[str] = Field(default_factory=list)

    @property
    def last_touch(self) -> TouchLine | None:
        return self.recent_touches[0] if self.recent_touches else None


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    # account + kind + period: "renewal:A1:2027-03-01:90", "at_risk:A1:2026-11-25" (episode start)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.OPEN.value)
    # The condition that raised it still holds; a manually resolved alert keeps the (account,
    # kind) quiet until the condition ends, so resolving is not undone by the next run.
    in_state: Mapped[bool] = mapped_column(default=True)
    delivery: Mapped[str] = mapped_column(String(16), default=Delivery.CARD.value)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    owner_user_id: Mapped[str | None] = mapped_column(String(32))
    assignee_user_id: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))  # Slack ts of the card, once posted
    # The alert whose card carries this one (same account, same local day); None: its own card.
    card_of: Mapped[int | None] = mapped_column(Integer)
    digested_on: Mapped[date | None] = mapped_column(Date)
    snoozed_until: Mapped[datetime | None]
    snooze_note: Mapped[str | None] = mapped_column(Text)  # the optional reason given with it
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    acknowledged_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(32))  # None + resolved = auto
    resolved_at: Mapped[datetime | None]
    last_action_by: Mapped[str | None] = mapped_column(String(32))
    last_action: Mapped[str | None] = mapped_column(String(32))
    last_action_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(Integer, default=0)  # bumped on every visible change
    opened_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        Index("ix_alerts_account_kind_status", "account_id", "kind", "status"),
        Index("ix_alerts_status_delivery", "status", "delivery"),
        Index("ix_alerts_card_of", "card_of"),
    )

    @property
    def summary(self) -> AlertSummary:
        return AlertSummary.model_validate(self.evidence)

    @property
    def is_active(self) -> bool:
        return self.status != AlertStatus.RESOLVED.value


class AlertCard(Base):
    """The one top-level card an account gets per local day: the database refuses a second.

    A card alert claims (account, day) in the transaction that opens it; one that finds the
    day taken joins that card instead (cs.alerts.service), however many job processes race.
    """

    __tablename__ = "alert_cards"

    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # in the team's time zone
    alert_id: Mapped[int] = mapped_column(Integer, ForeignKey("alerts.id", ondelete="CASCADE"))


class AlertAction(Base):
    """One click on an alert; Slack retries and double clicks collapse on the unique key."""

    __tablename__ = "alert_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Integer, ForeignKey("alerts.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    action_ts: Mapped[str] = mapped_column(String(32))  # Slack's action_ts of the interaction
    at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        UniqueConstraint("alert_id", "user_id", "action_ts", name="uq_alert_actions_click"),
        Index("ix_alert_actions_alert_at", "alert_id", "at"),
    )


class OutboxMessage(Base):
    __tablename__ = "alert_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    op: Mapped[str] = mapped_column(String(16))
    alert_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("alerts.id", ondelete="CASCADE")
    )
    channel: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utc_now)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set (and committed) before a send; cleared once Slack's answer is stored or is a sure
    # refusal. Still set when the row is sent again = the message may be in Slack already.
    attempted_at: Mapped[datetime | None]
    result_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_alert_outbox_status_next", "status", "next_attempt_at"),)


class DigestPage(BaseModel):
    """One message of a channel's tech-touch digest: the outbox payload of a DIGEST row.

    A digest longer than one message's room is several (cs.alerts.digest): page 1 under the
    header, the rest in its thread (`parent`: page 1's outbox key). Each page keeps its items
    for good, so a click re-renders exactly the message it was made in.
    Rows queued before pages existed read as one page of all their items.
    """

    model_config = ConfigDict(extra="ignore")

    alert_ids: list[int]
    day: date  # in the team's time zone
    page: int = 1
    pages: int = 1
    total: int | None = None  # items in the whole digest (None: this page's)
    parent: str | None = None

    @property
    def items(self) -> int:
        return self.total if self.total is not None else len(self.alert_ids)


class AlertRouting(Base):
    """A lead's choice of which alerts they see: their own accounts, their team's, or all."""

    __tablename__ = "alert_routing"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), default=RoutingScope.OWN.value)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)

