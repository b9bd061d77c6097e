"""Customer data: accounts, contacts, usage, touchpoints, MRR changes.

Money: `mrr` and the `MrrChange` amounts are whole units of the account's currency as integers
(yen for JPY, which has no minor unit). CS thresholds are about hundreds of thousands of yen, so
sub-unit precision buys nothing and integers keep sums exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utc_now
from core.db import Base


class AccountStatus(StrEnum):
    ACTIVE = "active"
    TRIAL = "trial"
    CHURNED = "churned"


# Accounts the CS team works with (and whose MRR counts): paying and trialling ones.
LIVE_STATUSES = (AccountStatus.ACTIVE.value, AccountStatus.TRIAL.value)


class ExpansionPotential(StrEnum):
    NONE = "none"
    TRIAL_GROWTH = "trial_growth"  # small trial with room to grow
    UPSELL = "upsell"  # upsell / cross-sell room


class ImportanceFlag(StrEnum):
    BRAND = "brand"  # well-known brand
    FEEDBACK = "feedback"  # gives much product feedback
    INFLUENCER = "influencer"  # influences other customers


class TouchKind(StrEnum):
    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"


class MrrReason(StrEnum):
    NEW = "new"
    EXPANSION = "expansion"
    CONTRACTION = "contraction"
    CHURN = "churn"
    REACTIVATION = "reactivation"


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the customer's own id
    name: Mapped[str] = mapped_column(String(200))
    mrr: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="JPY")
    plan: Mapped[str | None] = mapped_column(String(100))
    contract_start: Mapped[date] = mapped_column(Date)
    renewal_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.ACTIVE.value)
    owner_user_id: Mapped[str | None] = mapped_column(String(32))  # Slack user id
    csm_channel: Mapped[str | None] = mapped_column(String(32))  # Slack channel id
    # Importance flags (ImportanceFlag values), sorted so equal sets compare equal.
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    expansion_potential: Mapped[str] = mapped_column(
        String(16), default=ExpansionPotential.NONE.value
    )
    churn_date: Mapped[date | None] = mapped_column(Date)
    churn_reason: Mapped[str | None] = mapped_column(Text)
    renewed_at: Mapped[date | None] = mapped_column(Date)  # last completed renewal
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        Index("ix_accounts_status_id", "status", "id"),
        Index("ix_accounts_owner_user_id", "owner_user_id"),
        Index("ix_accounts_renewal_date", "renewal_date"),
    )


class Contact(Base):
    """A person at the customer; at most one primary contact per account."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    title: Mapped[str | None] = mapped_column(String(200))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=True)
    # The contact's Slack member id when known; wins over the email lookup (cs.community).
    slack_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        UniqueConstraint("account_id", "email", name="uq_contacts_account_email"),
        Index(
            "ux_contacts_primary",
            "account_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )


class ContactChange(Base):
    """The primary contact of an account changed (history; alerts are tracked elsewhere)."""

    __tablename__ = "contact_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE")
    )
    previous_name: Mapped[str | None] = mapped_column(String(200))
    previous_email: Mapped[str | None] = mapped_column(String(320))
    new_name: Mapped[str] = mapped_column(String(200))
    new_email: Mapped[str] = mapped_column(String(320))
    changed_at: Mapped[datetime]
    moved_to: Mapped[str | None] = mapped_column(String(200))  # where the former contact went

    __table_args__ = (Index("ix_contact_changes_account_changed", "account_id", "changed_at"),)


class UsageSnapshot(Base):
    """One day of product usage for one account, as reported by the product."""

    __tablename__ = "usage_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE")
    )
    day: Mapped[date] = mapped_column(Date)
    last_login_at: Mapped[datetime | None]
    active_users: Mapped[int] = mapped_column(Integer, default=0)
    seats: Mapped[int] = mapped_column(Integer, default=0)
    setup_progress: Mapped[int] = mapped_column(Integer, default=0)  # 0–100
    inquiries: Mapped[int] = mapped_column(Integer, default=0)  # support inquiries that day

    # The unique (account_id, day) index also serves iter_facts' per-account range scans.
    __table_args__ = (UniqueConstraint("account_id", "day", name="uq_usage_snapshots_account_day"),)


class Touchpoint(Base):
    """A logged call, meeting or email with the customer."""

    __tablename__ = "touchpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    user_id: Mapped[str | None] = mapped_column(String(32))  # Slack user id of the CSM
    note: Mapped[str | None] = mapped_column(Text)
    # The alert this touch answered, if any; no FK so the alerts tables stay independent.
    alert_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (Index("ix_touchpoints_account_kind_at", "account_id", "kind", "at"),)


class MrrChange(Base):
    """Every change of an account's live MRR; the KPI formulas read only this log."""

    __tablename__ = "mrr_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE")
    )
    effective_on: Mapped[date] = mapped_column(Date)
    mrr_before: Mapped[int] = mapped_column(BigInteger)
    mrr_after: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(16))
    # Why the customer left, on a churn: kept per churn, so a customer who came back keeps the
    # reason of every earlier churn (accounts.churn_reason holds only the latest).
    churn_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        Index("ix_mrr_changes_effective_on", "effective_on"),
        Index("ix_mrr_changes_account_effective", "account_id", "effective_on", "id"),
    )

