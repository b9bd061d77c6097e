"""Bot: questions and answers, feedback, escalations, Slack event dedupe.

Revision ID: bot_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "bot_0001"
down_revision = None
branch_labels = ("bot",)
depends_on = None


def _question_fk() -> sa.Column[int]:
    return sa.Column(
        "question_id", sa.Integer(), sa.ForeignKey("bot_questions.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "bot_questions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("surface", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("user", sa.String(64), nullable=True),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("reply_ts", sa.String(32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("top_entry_id", sa.String(200), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(), nullable=False),
    )
    op.create_index("ix_bot_questions_thread", "bot_questions", ["channel", "thread_ts"])
    op.create_index(
        "ix_bot_questions_decision_created", "bot_questions", ["decision", "created_at"]
    )

    op.create_table(
        "bot_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _question_fk(),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("entry_id", sa.String(200), nullable=True),
        sa.Column("updated_at", core.db.UtcDateTime(), nullable=False),
        sa.UniqueConstraint("question_id", "user", name="uq_bot_feedback_question_user"),
    )
    op.create_index("ix_bot_feedback_question_id", "bot_feedback", ["question_id"])

    op.create_table(
        "bot_escalations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _question_fk(),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("support_channel", sa.String(32), nullable=False),
        sa.Column("support_ts", sa.String(32), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(), nullable=False),
        sa.UniqueConstraint("question_id", name="uq_bot_escalations_question"),
    )

    op.create_table(
        "bot_slack_events_seen",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("seen_at", core.db.UtcDateTime(), nullable=False),
        sa.UniqueConstraint("channel", "ts", name="uq_bot_slack_events_seen"),
    )
    op.create_index(
        "ix_bot_slack_events_seen_seen_at", "bot_slack_events_seen", ["seen_at"]
    )


def downgrade() -> None:
    op.drop_table("bot_slack_events_seen")
    op.drop_table("bot_escalations")
    op.drop_table("bot_feedback")
    op.drop_table("bot_questions")
