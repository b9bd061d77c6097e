"""The KPI migrations create exactly what the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import cs.accounts.models
import cs.kpis.models  # noqa: F401  (registers the tables compared below)
from core.db import Base

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
