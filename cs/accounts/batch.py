"""One import as one write transaction: it goes in whole, or nothing does and the caller is told
to try again. Shared by `banso import` and the ingest API.

The rows are validated one by one (a bad row is a RowError and the others still go in), but the
database's own troubles are never blamed on a row: a lock held too long, a deadlock or an outage
ends the whole import with ImportUnavailable (HTTP 503 with Retry-After; the CLI's one line).
A deadlock or serialization failure is retried a few times first: the retry starts from scratch,
so it cannot import a row twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from core.db import begin_write, database_unavailable
from cs.accounts.importer import KINDS
from cs.accounts.schemas import ImportResult

ATTEMPTS = 3
RETRY_AFTER_S = 10  # what a client is told to wait: about one lock timeout's worth of queue
# PostgreSQL SQLSTATEs that mean "your transaction lost a race, run it again".
_RETRYABLE = {"40P01": "deadlock", "40001": "serialization failure"}


class ImportUnavailable(Exception):
    """The database could not take the import now; nothing of it was stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"database unavailable ({reason}): nothing was imported; "
                         "try again in a moment")
        self.reason = reason
        self.retry_after = RETRY_AFTER_S


def import_batch(
    factory: sessionmaker[Session], kind: str, rows: Sequence[Mapping[str, Any]],
    now: datetime, *, lines: Sequence[int] | None = None, tz: tzinfo = UTC,
    pause: Callable[[float], None] = time.sleep,
) -> ImportResult:
    """Run the `kind` importer in one write transaction and commit it."""
    _, importer = KINDS[kind]
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with factory() as session:
                begin_write(session)
                result = importer(session, rows, now, lines=lines, tz=tz)
                session.commit()
                return result
        except (DBAPIError, PoolTimeout) as exc:
            if not database_unavailable(exc):
                raise
            reason = _describe(exc)
            if reason not in _RETRYABLE.values() or attempt == ATTEMPTS:
                raise ImportUnavailable(reason) from exc
            pause(random.uniform(0.05, 0.25) * attempt)  # let the other transaction finish
    raise AssertionError("unreachable")


def _describe(exc: Exception) -> str:
    """A short, safe reason (never the SQL or the row values of the statement)."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None)
    if code in _RETRYABLE:
        return _RETRYABLE[code]
    if code == "55P03":
        return "lock timeout"
    if isinstance(exc, PoolTimeout):
        return "no free connection"
    if "locked" in str(orig) or "busy" in str(orig):
        return "database is locked"
    if (isinstance(exc, DBAPIError) and exc.connection_invalidated) or code is None:
        return "cannot reach the database"
    return f"SQLSTATE {code}"
