"""The alerts migration creates exactly what the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, bindparam, inspect, text

from banso.migrate import alembic_config, migrate
from core.db import Base, UtcDateTime, make_engine

ALERT_TABLES = {"alerts", "alert_actions", "alert_outbox", "scheduler_leases", "alert_routing",
                "alert_cards"}


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


# (id, opened at, delivery, card_of): Tokyo's 2026-11-25 starts at 11-24 15:00 UTC.
EXISTING = [(1, datetime(2026, 11, 24, 2, 0, tzinfo=UTC), "card", None),  # 11-24 Tokyo
            (2, datetime(2026, 11, 24, 15, 30, tzinfo=UTC), "card", None),  # 11-25 00:30 Tokyo
            (3, datetime(2026, 11, 25, 1, 0, tzinfo=UTC), "card", 2),  # joined card 2
            (4, datetime(2026, 11, 25, 1, 5, tzinfo=UTC), "card", None),  # an earlier race's twin
            (5, datetime(2026, 11, 25, 1, 0, tzinfo=UTC), "digest", None),
            (6, datetime(2026, 11, 20, 1, 0, tzinfo=UTC), "card", None),  # taken over, below
            (7, datetime(2026, 11, 26, 1, 0, tzinfo=UTC), "card", None),  # 11-26 10:00 Tokyo
            (8, datetime(2026, 11, 21, 1, 0, tzinfo=UTC), "card", None)]  # taken over, below
# Digest items taken over (alert id, click): a card of the click's local day, not the opening's.
TAKEN_OVER = [(6, datetime(2026, 11, 26, 2, 0, tzinfo=UTC)),  # 11-26 11:00 Tokyo: after 7
              (8, datetime(2026, 11, 26, 16, 0, tzinfo=UTC))]  # 11-27 01:00 Tokyo


def test_upgrade_claims_each_existing_card_for_the_local_day_it_became_a_card(
    fresh_url: str, database_url: str  # database_url: keeps the test in the PostgreSQL pass
) -> None:
    engine = make_engine(fresh_url)
    command.upgrade(alembic_config(engine), "alerts_alerts_0001")
    insert = text(
        "INSERT INTO alerts (id, account_id, kind, dedupe_key, status, in_state, delivery, "
        "priority, evidence, revision, card_of, opened_at, updated_at) VALUES (:id, 'A1', "
        "'at_risk', :key, 'open', true, :delivery, 0, '{}', 0, :card_of, :t, :t)",
    ).bindparams(bindparam("t", type_=UtcDateTime()))
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO accounts (id, name, mrr, currency, contract_start, status, flags, "
            "expansion_potential, created_at, updated_at) VALUES ('A1', 'A社', 50000, 'JPY', "
            "'2025-01-01', 'active', '[]', 'none', :t, :t)").bindparams(
                bindparam("t", type_=UtcDateTime())), {"t": datetime(2026, 1, 1, tzinfo=UTC)})
        for alert_id, opened, delivery, card_of in EXISTING:
            conn.execute(insert, {"id": alert_id, "key": f"k{alert_id}", "delivery": delivery,
                                  "card_of": card_of, "t": opened})
        for alert_id, clicked in TAKEN_OVER:
            conn.execute(text(
                "INSERT INTO alert_actions (alert_id, user_id, action, action_ts, at, payload) "
                "VALUES (:id, 'USTAFF', 'take_over', :ts, :t, '{}')").bindparams(
                    bindparam("t", type_=UtcDateTime())),
                {"id": alert_id, "ts": f"9{alert_id}.1", "t": clicked})
    migrate(engine, "Asia/Tokyo")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT day, alert_id FROM alert_cards ORDER BY day")).all()
    engine.dispose()
    assert [(str(day), alert_id) for day, alert_id in rows] == [
        ("2026-11-24", 1), ("2026-11-25", 2), ("2026-11-26", 7), ("2026-11-27", 8)]
