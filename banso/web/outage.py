"""An unreachable database is a 503 with Retry-After on every route, never a 500.

The database going away (a restart, a failover, a dropped connection, SQLite locked past its
busy timeout) is the caller's cue to come back shortly, not a bug: one short WARNING line per
request (no traceback; /readyz and `banso_database_unavailable_total` tell the operator the
rest) and a body that says when to retry.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.db import database_unavailable
from core.metrics import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # about a database restart; /readyz says when it is really back


def database_unavailable_response(request: Request, exc: Exception) -> JSONResponse:
    if not database_unavailable(exc):
        raise exc  # a bug or bad data: the server's 500, with its traceback in the log
    DATABASE_UNAVAILABLE.labels("web").inc()
    log.warning("database unavailable; answered 503", extra={
        "path": request.url.path, "error": type(exc).__name__})
    return JSONResponse(
        {"detail": f"database unavailable; retry in {RETRY_AFTER_SECONDS} s"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def register(app: FastAPI) -> None:
    for kind in (DBAPIError, PoolTimeout):
        app.add_exception_handler(kind, database_unavailable_response)
