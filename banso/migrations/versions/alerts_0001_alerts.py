"""Alerts, alert actions, the delivery outbox, scheduler leases and alert routing.

Revision ID: alerts_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "alerts_0001"
down_revision = None
branch_labels = ("alerts",)
depends_on = "jobs_0001"  # alerts.account_id references accounts.id


def _utc(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, core.db.UtcDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "account_id", sa.String(64), sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("in_state", sa.Boolean(), nullable=False),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("owner_user_id", sa.String(32), nullable=True),
        sa.Column("assignee_user_id", sa.String(32), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("digested_on", sa.Date(), nullable=True),
        _utc("snoozed_until"),
        sa.Column("acknowledged_by", sa.String(32), nullable=True),
        _utc("acknowledged_at"),
        sa.Column("resolved_by", sa.String(32), nullable=True),
        _utc("resolved_at"),
        sa.Column("last_action_by", sa.String(32), nullable=True),
        sa.Column("last_action", sa.String(32), nullable=True),
        _utc("last_action_at"),
        sa.Column("revision", sa.Integer(), nullable=False),
        _utc("opened_at", nullable=False),
        _utc("updated_at", nullable=False),
    )
    op.create_index("ix_alerts_account_kind_status", "alerts", ["account_id", "kind", "status"])
    op.create_index("ix_alerts_status_delivery", "alerts", ["status", "delivery"])

    op.create_table(
        "alert_actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("action_ts", sa.String(32), nullable=False),
        _utc("at", nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.UniqueConstraint("alert_id", "user_id", "action_ts", name="uq_alert_actions_click"),
    )
    op.create_index("ix_alert_actions_alert_at", "alert_actions", ["alert_id", "at"])

    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.String(255), nullable=False, unique=True),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column(
            "alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _utc("next_attempt_at", nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        _utc("claimed_until"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result_ts", sa.String(32), nullable=True),
        _utc("created_at", nullable=False),
        _utc("sent_at"),
    )
    op.create_index("ix_alert_outbox_status_next", "alert_outbox", ["status", "next_attempt_at"])

    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        _utc("expires_at", nullable=False),
        _utc("acquired_at", nullable=False),
    )

    op.create_table(
        "alert_routing",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("scope", sa.String(8), nullable=False),
        _utc("updated_at", nullable=False),
    )


def downgrade() -> None:
    for table in ("alert_routing", "scheduler_leases", "alert_outbox", "alert_actions", "alerts"):
        op.drop_table(table)
