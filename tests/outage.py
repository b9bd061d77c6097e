"""A database outage on demand: every statement (and every new connection) on an engine fails
with the driver's own OperationalError, as when the server is stopped or the file is gone (or
with another of the driver's errors, `error=`, to see how each kind is treated).

The driver's exception (sqlite3 / psycopg) goes through SQLAlchemy's error handling exactly as a
real disconnect does, so the code under test sees `sqlalchemy.exc.OperationalError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event


class Outage:
    """`with Outage(engine):` the database is gone; `when` narrows it to some statements."""

    def __init__(
        self, engine: Engine, when: Callable[[str], bool] = lambda _sql: True,
        *, error: str = "OperationalError",
    ) -> None:
        self.engine = engine
        self.when = when
        self.failed = 0
        self._error = getattr(engine.dialect.loaded_dbapi, error)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.when(statement):
            self.failed += 1
            raise self._error("server closed the connection unexpectedly (test outage)")

    def _connect(self, *_args: Any) -> None:
        self.failed += 1
        raise self._error("connection refused (test outage)")

    def __enter__(self) -> Outage:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        if self.when("SELECT 1"):  # a whole-database outage also refuses new connections
            event.listen(self.engine, "do_connect", self._connect)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        if event.contains(self.engine, "do_connect", self._connect):
            event.remove(self.engine, "do_connect", self._connect)

