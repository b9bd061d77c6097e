"""The alerts migration creates exactly what the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from core.db import Base

ALERT_TABLES = {"alerts", "alert_actions", "alert_outbox", "scheduler_leases", "alert_routing"}


def _table_name(obj: object, kind: str) -> str:
    table = obj if kind == "table" else getattr(obj, "table", None)
    return str(getattr(table, "name", ""))


def test_migration_creates_exactly_the_alert_models_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda obj, name, kind, *_: _table_name(obj, kind) in ALERT_TABLES,
        })
        assert compare_metadata(context, Base.metadata) == []
    assert set(inspect(engine).get_table_names()) >= ALERT_TABLES


def test_dedupe_keys_are_unique_in_the_database(engine: Engine) -> None:
    inspector = inspect(engine)
    unique = {
        table: {tuple(c["column_names"]) for c in inspector.get_unique_constraints(table)}
        | {tuple(i["column_names"]) for i in inspector.get_indexes(table) if i["unique"]}
        for table in ("alerts", "alert_outbox", "alert_actions")
    }
    assert ("dedupe_key",) in unique["alerts"]
    assert ("dedupe_key",) in unique["alert_outbox"]
    assert ("alert_id", "user_id", "action_ts") in unique["alert_actions"]
