"""Daily snapshots of the book (accounts per owner, touch model, health band).

Revision ID: jobs_kpis_0002
Revises: jobs_kpis_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "jobs_kpis_0002"
down_revision = "jobs_kpis_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_book_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("taken_at", core.db.UtcDateTime(), nullable=False),
        sa.UniqueConstraint("day", "dimension", "key", name="uq_kpi_book_snapshots_day_key"),
    )


def downgrade() -> None:
    op.drop_table("kpi_book_snapshots")
