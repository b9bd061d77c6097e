"""The KPI migrations create exactly what the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

import cs.accounts.models
import cs.kpis.models  # noqa: F401  (registers the tables compared below)
from banso.migrate import alembic_config, migrate
from core.db import Base, make_engine

KPI_TABLES = {"mrr_changes", "kpi_book_snapshots"}


def _table_name(obj: object, kind: str) -> str:
    table = obj if kind == "table" else getattr(obj, "table", None)
    return str(getattr(table, "name", ""))


def test_migrations_create_exactly_the_kpi_tables_of_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda obj, name, kind, *_: _table_name(obj, kind) in KPI_TABLES,
        })
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_gives_an_accounts_latest_churn_the_reason_it_had(
    fresh_url: str, database_url: str  # database_url: keeps the test in the PostgreSQL pass
) -> None:
    engine = make_engine(fresh_url)
    command.upgrade(alembic_config(engine), "jobs_0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO accounts (id, name, mrr, currency, contract_start, status, flags, "
            "expansion_potential, churn_reason, created_at, updated_at) VALUES ('R', 'R社', "
            "50000, 'JPY', '2025-01-01', 'churned', '[]', 'none', 'no_roi', :t, :t)"),
            {"t": datetime(2026, 1, 1, tzinfo=UTC)})
        for day, before, after, reason in (("2025-01-01", 0, 50_000, "new"),
                                           ("2025-06-30", 50_000, 0, "churn"),
                                           ("2026-01-01", 0, 50_000, "reactivation"),
                                           ("2026-10-15", 50_000, 0, "churn")):
            conn.execute(text(
                "INSERT INTO mrr_changes (account_id, effective_on, mrr_before, mrr_after, "
                "currency, reason, created_at) VALUES ('R', :d, :b, :a, 'JPY', :r, :t)"),
                {"d": date.fromisoformat(day), "b": before, "a": after, "r": reason,
                 "t": datetime(2026, 1, 1, tzinfo=UTC)})
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT effective_on, churn_reason FROM mrr_changes "
                                 "WHERE reason = 'churn' ORDER BY effective_on")).all()
    engine.dispose()
    assert [(str(day), reason) for day, reason in rows] == [("2025-06-30", None),
                                                             ("2026-10-15", "no_roi")]
