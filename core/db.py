"""Database engine, sessions and the typed model base (SQLite by default, PostgreSQL to scale
out). Schema migrations are the shell's: banso.migrate."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, cast

from sqlalchemy import DateTime, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


# How long a statement waits for a lock another writer holds before it fails (SQLite's busy
# timeout, PostgreSQL's lock_timeout): long enough to queue behind a 50,000-row import, short
# enough that a stuck transaction is an error (a 503 for the ingest API) instead of a hang.
LOCK_TIMEOUT_S = 30.0


def database_unavailable(exc: BaseException) -> bool:
    """Is this the database being unreachable (down, restarting, dropped, locked, pool
    exhausted) rather than a bug or bad data? Such a failure is answered "try again later"."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def make_engine(url: str, *, lock_timeout_s: float = LOCK_TIMEOUT_S) -> Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(Path(path.split("?", 1)[0]))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": lock_timeout_s})
        event.listen(engine, "connect", partial(_sqlite_pragmas, lock_timeout_s))
        return engine
    options = f"-c lock_timeout={int(lock_timeout_s * 1000)}"
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         connect_args={"options": options})


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only (it holds customers and questions);
    SQLite gives its -wal and -shm files the database file's permissions."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_pragmas(lock_timeout_s: float, dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web workers read while a job writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_s * 1000)}")
    cursor.close()


def begin_write(session: Session) -> None:
    """Make the session's new transaction a writer from its first statement.

    SQLite: BEGIN IMMEDIATE waits (busy timeout) for the one write lock and holds it to the
    commit. A deferred transaction instead reads first and fails at once with "database is
    locked" when it tries to write after another connection committed (its snapshot is stale;
    the busy timeout does not apply), and every later savepoint of it fails too. PostgreSQL
    locks rows, not the database: nothing to do here (imports lock in key order instead)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_for(session: Session, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """A Core INSERT into the model's table with the backend's ON CONFLICT clauses
    (`on_conflict_do_update` / `on_conflict_do_nothing`)."""
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
