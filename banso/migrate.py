"""Schema migrations (Alembic, one branch per room) applied to the engine Banso hands over."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine, timezone: str = "UTC") -> Config:
    """`timezone` (settings.timezone): the team's, for migrations that store a local day."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    config.attributes["timezone"] = timezone
    return config


# Any fixed number: replicas starting together on one PostgreSQL database take turns migrating.
_MIGRATION_LOCK_KEY = 0xBA2050


def migrate(engine: Engine, timezone: str = "UTC") -> None:
    """Bring the schema to the newest revision; safe to call on every start, from any replica.

    `timezone` is the team's (settings.timezone): some migrations fill in local days."""
    config = alembic_config(engine, timezone)
    if engine.dialect.name != "postgresql":
        command.upgrade(config, "heads")
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        try:
            command.upgrade(config, "heads")
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY})
