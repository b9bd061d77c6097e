"""Each churn in the MRR change log keeps its own reason (mrr_changes.churn_reason).

Existing rows: an account's latest churn takes the reason stored on the account, the only
reason recorded so far; earlier churns had none.

Revision ID: jobs_kpis_0001
Revises: jobs_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "jobs_kpis_0001"
down_revision = "jobs_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mrr_changes", sa.Column("churn_reason", sa.Text(), nullable=True))
    op.execute(
        "UPDATE mrr_changes SET churn_reason = (SELECT a.churn_reason FROM accounts a "
        "WHERE a.id = mrr_changes.account_id) "
        "WHERE reason = 'churn' AND id = (SELECT max(m.id) FROM mrr_changes m "
        "WHERE m.account_id = mrr_changes.account_id AND m.reason = 'churn')"
    )


def downgrade() -> None:
    # Batch mode: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("mrr_changes") as batch:
        batch.drop_column("churn_reason")
