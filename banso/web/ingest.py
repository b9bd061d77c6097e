"""Ingest API: POST /api/accounts, /api/contacts, /api/usage with {"rows": [...]}.

Each row is validated on its own (the same models as the CSV import), so one bad row is listed
in `errors` with its index and the rest are stored: 200. Only a body that is not
{"rows": [object, ...]} is a 422. When the database cannot take the import (a lock held too
long, a deadlock that retries did not clear, an outage) nothing is stored and the answer is 503
with Retry-After (cs.accounts.batch). New contact changes are alerted at once after the commit
(jobs.alert_jobs.alert_contact_changes), as the CSV import does.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, status
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from banso.web.deps import ServicesDep, require_api_token
from banso.web.validation import StrictJsonRoute
from core.services import Services
from cs.accounts.batch import ImportUnavailable, import_batch
from cs.accounts.schemas import ImportResult
from jobs.alert_jobs import alert_contact_changes

MAX_ROWS = 50_000

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


def _ingest(kind: str, body: IngestRequest, services: Services) -> IngestResponse:
    try:
        result = import_batch(services.session_factory, kind, body.rows, services.now(),
                              tz=services.timezone)
    except ImportUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc),
                            headers={"Retry-After": str(exc.retry_after)}) from None
    if result.contact_changes:
        alert_contact_changes(services, result.contact_changes, services.now())
    return IngestResponse.of(result)


Rows = Annotated[IngestRequest, Body(examples=[{"rows": [{"id": "C001", "name": "株式会社サンプル",
                                                         "mrr": 120000,
                                                         "contract_start": "2025-04-01"}]}])]


_BUSY: dict[int | str, dict[str, Any]] = {503: {
    "description": "The database could not take the import now; nothing was stored. Retry "
                   "after `Retry-After` seconds."}}


# Plain `def` routes: the import is blocking database work, so FastAPI runs it in a thread.
@router.post("/accounts", responses=_BUSY)
def post_accounts(body: Rows, services: ServicesDep) -> IngestResponse:
    """Upsert accounts (columns as in docs/import.md)."""
    return _ingest("accounts", body, services)


@router.post("/contacts", responses=_BUSY)
def post_contacts(body: IngestRequest, services: ServicesDep) -> IngestResponse:
    """Upsert contacts; a new primary contact records a contact change."""
    return _ingest("contacts", body, services)


@router.post("/usage", responses=_BUSY)
def post_usage(body: IngestRequest, services: ServicesDep) -> IngestResponse:
    """Upsert daily usage snapshots keyed by (account_id, day)."""
    return _ingest("usage", body, services)


# What the app's body limit middleware token-gates before reading a body.
PATHS = tuple(route.path for route in router.routes if isinstance(route, APIRoute))
