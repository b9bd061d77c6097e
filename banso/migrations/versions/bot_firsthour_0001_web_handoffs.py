"""Web chat hand-offs: a visitor's request for a human, stored before it is posted.

Revision ID: bot_firsthour_0001
Revises: bot_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "bot_firsthour_0001"
down_revision = "bot_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_handoffs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("answer_id", sa.Integer(),
                  sa.ForeignKey("bot_questions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("consent_at", core.db.UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("error", sa.String(300), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(), nullable=False),
    )
    op.create_index("ix_web_handoffs_created_at", "web_handoffs", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_web_handoffs_created_at", table_name="web_handoffs")
    op.drop_table("web_handoffs")
