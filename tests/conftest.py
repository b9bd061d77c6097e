"""Shared fixtures: settings on a temp folder and a migrated database.

The database is SQLite unless BANSO_TEST_DATABASE_URL names a PostgreSQL server, in which case
a fresh database is created on it for this run and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from banso.migrate import migrate
from core.db import Base, make_engine, make_session_factory
from core.settings import Settings
from tests.cs.alerts_support import alert_settings, card_lang, clock, slack_app
from tests.slack_stub import SlackStub

# fixtures of the alert tests, for every folder
__all__ = ["alert_settings", "card_lang", "clock", "slack_app"]

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    """A fresh local stand-in for Slack's Web API (point settings.slack_api_url at stub.url)."""
    server = SlackStub()
    yield server
    server.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from empty_database(lambda: tmp_path_factory.mktemp("db") / "core.db", "banso_test")


def empty_database(sqlite_file: Callable[[], Path], prefix: str) -> Iterator[str]:
    """An empty database of the run's kind: a SQLite file, or a new PostgreSQL database on
    BANSO_TEST_DATABASE_URL's server, dropped when the generator is closed."""
    server = os.environ.get("BANSO_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{sqlite_file()}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the run's kind (SQLite file, or a new PostgreSQL database), for
    tests that migrate step by step."""
    yield from empty_database(lambda: tmp_path / "fresh.db", "banso_fresh")


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """A migrated database, emptied after each test so tests never see each other's rows."""
    yield migrated_engine
    with migrated_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        knowledge_dir=REPO / "knowledge",
        watch_knowledge=False,
        scheduler_enabled=False,
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """BANSO_DB_TESTS_ONLY=1 keeps only tests that touch the database (the PostgreSQL pass)."""
    if os.environ.get("BANSO_DB_TESTS_ONLY") != "1":
        return
    keep = [item for item in items if "database_url" in getattr(item, "fixturenames", ())]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep
