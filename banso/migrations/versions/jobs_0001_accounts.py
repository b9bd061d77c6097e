"""Customer data: accounts, contacts, contact changes, usage, touchpoints, MRR changes.

Revision ID: jobs_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "jobs_0001"
down_revision = None
branch_labels = ("jobs",)
depends_on = None


def _account_fk() -> sa.Column[str]:
    return sa.Column(
        "account_id", sa.String(64), sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mrr", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("plan", sa.String(100), nullable=True),
        sa.Column("contract_start", sa.Date(), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner_user_id", sa.String(32), nullable=True),
        sa.Column("csm_channel", sa.String(32), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("expansion_potential", sa.String(16), nullable=False),
        sa.Column("churn_date", sa.Date(), nullable=True),
        sa.Column("churn_reason", sa.Text(), nullable=True),
        sa.Column("renewed_at", sa.Date(), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(), nullable=False),
    )
    op.create_index("ix_accounts_status_id", "accounts", ["status", "id"])
    op.create_index("ix_accounts_owner_user_id", "accounts", ["owner_user_id"])
    op.create_index("ix_accounts_renewal_date", "accounts", ["renewal_date"])

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _account_fk(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "email", name="uq_contacts_account_email"),
    )
    op.create_index(
        "ux_contacts_primary", "contacts", ["account_id"], unique=True,
        sqlite_where=sa.text("is_primary"), postgresql_where=sa.text("is_primary"),
    )

    op.create_table(
        "contact_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _account_fk(),
        sa.Column("previous_name", sa.String(200), nullable=True),
        sa.Column("previous_email", sa.String(320), nullable=True),
        sa.Column("new_name", sa.String(200), nullable=False),
        sa.Column("new_email", sa.String(320), nullable=False),
        sa.Column("changed_at", core.db.UtcDateTime(), nullable=False),
        sa.Column("moved_to", sa.String(200), nullable=True),
    )
    op.create_index(
        "ix_contact_changes_account_changed", "contact_changes", ["account_id", "changed_at"]
    )

    op.create_table(
        "usage_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _account_fk(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_login_at", core.db.UtcDateTime(), nullable=True),
        sa.Column("active_users", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("setup_progress", sa.Integer(), nullable=False),
        sa.Column("inquiries", sa.Integer(), nullable=False),
        sa.UniqueConstraint("account_id", "day", name="uq_usage_snapshots_account_day"),
    )

    op.create_table(
        "touchpoints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _account_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", core.db.UtcDateTime(), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(), nullable=False),
    )
    op.create_index("ix_touchpoints_account_kind_at", "touchpoints", ["account_id", "kind", "at"])

    op.create_table(
        "mrr_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _account_fk(),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("mrr_before", sa.BigInteger(), nullable=False),
        sa.Column("mrr_after", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(), nullable=False),
    )
    op.create_index("ix_mrr_changes_effective_on", "mrr_changes", ["effective_on"])
    op.create_index(
        "ix_mrr_changes_account_effective", "mrr_changes", ["account_id", "effective_on", "id"]
    )


def downgrade() -> None:
    for table in (
        "mrr_changes", "touchpoints", "usage_snapshots", "contact_changes", "contacts", "accounts"
    ):
        op.drop_table(table)
