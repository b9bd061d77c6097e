"""Ingest API: POST /api/accounts, /api/contacts, /api/usage with {"rows": [...]}.

Each row is validated on its own (the same models as the CSV import), so one bad row is listed
in `errors` with its index and the rest are stored: 200. Only a body that is not
{"rows": [object, ...]} is a 422. New contact changes are alerted at once after the commit
(jobs.alert_jobs.alert_contact_changes), as the CSV import does.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, status
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from banso.web.deps import ServicesDep, SessionDep, require_api_token
from banso.web.validation import StrictJsonRoute
from core.services import Services
from cs.accounts.importer import KINDS
from cs.accounts.schemas import ImportResult
from jobs.alert_jobs import alert_contact_changes

MAX_ROWS = 50_000
OUT_OF_RANGE = ("a date or number is out of range (dates 0001-01-02 to 9999-12-30, whole numbers "
                "below 2**63); nothing was stored")

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["ingest"], dependencies=[Depends(require_api_token)],
                   route_class=StrictJsonRoute)


class IngestRequest(BaseModel):
    rows: Annotated[list[dict[str, Any]], Field(max_length=MAX_ROWS)]


class RowErrorOut(BaseModel):
    index: int  # 0-based position in `rows`
    reason: str


class IngestResponse(BaseModel):
    kind: str
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowErrorOut]
    contact_changes: list[int]  # ContactChange ids created by this call

    @classmethod
    def of(cls, result: ImportResult) -> IngestResponse:
        return cls(
            kind=result.kind, inserted=result.inserted, updated=result.updated,
            unchanged=result.unchanged, rejected=result.rejected,
            errors=[RowErrorOut(index=e.index, reason=e.reason) for e in result.errors],
            contact_changes=result.contact_changes,
        )


def _ingest(kind: str, body: IngestRequest, services: Services, session: Session) -> IngestResponse:
    _, importer = KINDS[kind]
    try:
        result = importer(session, body.rows, services.now(), tz=services.timezone)
    except (OverflowError, DataError) as exc:
        # A date at the edge of the calendar (0001-01-01 less a day) or a number beyond the
        # database's integers: the whole request is refused and nothing of it is stored.
        session.rollback()
        log.info("ingest refused: value out of range", extra={"kind": kind, "rows": len(body.rows)})
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, OUT_OF_RANGE) from exc
    session.commit()
    if result.contact_changes:
        alert_contact_changes(services, result.contact_changes, services.now())
    return IngestResponse.of(result)


Rows = Annotated[IngestRequest, Body(examples=[{"rows": [{"id": "C001", "name": "株式会社サンプル",
                                                         "mrr": 120000,
                                                         "contract_start": "2025-04-01"}]}])]


# Plain `def` routes: the import is blocking database work, so FastAPI runs it in a thread.
@router.post("/accounts")
def post_accounts(body: Rows, services: ServicesDep, session: SessionDep) -> IngestResponse:
    """Upsert accounts (columns as in docs/import.md)."""
    return _ingest("accounts", body, services, session)


@router.post("/contacts")
def post_contacts(
    body: IngestRequest, services: ServicesDep, session: SessionDep
) -> IngestResponse:
    """Upsert contacts; a new primary contact records a contact change."""
    return _ingest("contacts", body, services, session)


@router.post("/usage")
def post_usage(body: IngestRequest, services: ServicesDep, session: SessionDep) -> IngestResponse:
    """Upsert daily usage snapshots keyed by (account_id, day)."""
    return _ingest("usage", body, services, session)


# What the app's body limit middleware token-gates before reading a body.
PATHS = tuple(route.path for route in router.routes if isinstance(route, APIRoute))
