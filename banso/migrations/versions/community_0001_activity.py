"""Community signals: contacts.slack_user_id, the email-lookup cache, members' questions.

Revision ID: community_0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "community_0001"
down_revision = None
branch_labels = ("community",)
# contacts/accounts (jobs_0001) and bot_questions (bot_0001) are referenced.
depends_on = ("jobs_0001", "bot_0001")


def _utc(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, core.db.UtcDateTime(), nullable=nullable)


def upgrade() -> None:
    op.add_column("contacts", sa.Column("slack_user_id", sa.String(32), nullable=True))
    op.create_index("ix_contacts_slack_user_id", "contacts", ["slack_user_id"])
    op.create_table(
        "community_links",
        sa.Column("contact_id", sa.Integer(),
                  sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=True),
        _utc("looked_up_at", nullable=False),
    )
    op.create_index("ix_community_links_slack_user_id", "community_links", ["slack_user_id"])
    op.create_table(
        "community_questions",
        sa.Column("question_id", sa.Integer(),
                  sa.ForeignKey("bot_questions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("account_id", sa.String(64),
                  sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("contact_id", sa.Integer(),
                  sa.ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("slack_user_id", sa.String(32), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=False),
        sa.Column("unhelpful", sa.Integer(), nullable=False),
        _utc("escalated_at"),
        _utc("escalation_closed_at"),
        sa.Column("escalation_closed_by", sa.String(32), nullable=True),
        _utc("asked_at", nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
    )
    op.create_index("ix_community_questions_account_asked", "community_questions",
                    ["account_id", "asked_at"])
    op.create_index("ix_community_questions_asked", "community_questions",
                    ["asked_at", "account_id", "outcome", "helpful", "unhelpful", "escalated_at",
                     "escalation_closed_at", "slack_user_id"])
    op.create_index("ix_community_questions_week", "community_questions", ["week"])


def downgrade() -> None:
    op.drop_table("community_questions")
    op.drop_table("community_links")
    op.drop_index("ix_contacts_slack_user_id", "contacts")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("slack_user_id")
