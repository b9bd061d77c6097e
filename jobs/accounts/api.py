"""Ingest API: POST /api/accounts, /api/contacts, /api/usage with {"rows": [...]}.

Each row is validated on its own (the same models as the CSV import), so one bad row is listed
in `errors` with its index and the rest are stored: 200. Only a body that is not
{"rows": [object, ...]} is a 422. If `app.state.on_contact_changes` is set, it is called with
the new ContactChange ids after the commit, so the contact-change alert goes out at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.web.deps import SessionDep, SettingsDep, require_api_token
from jobs.accounts.importer import KINDS
from jobs.accounts.schemas import ImportResult

MAX_ROWS = 50_000

router = APIRouter(prefix="/api", tags=["ingest"], dependencies=[Depends(require_api_token)])


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


def _clock(request: Request) -> datetime:
    clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def _ingest(
    kind: str, body: IngestRequest, request: Request, session: Session, settings: SettingsDep
) -> IngestResponse:
    _, importer = KINDS[kind]
    result = importer(session, body.rows, _clock(request), tz=ZoneInfo(settings.timezone))
    session.commit()
    hook = getattr(request.app.state, "on_contact_changes", None)
    if result.contact_changes and hook is not None:
        hook(result.contact_changes)
    return IngestResponse.of(result)


Rows = Annotated[IngestRequest, Body(examples=[{"rows": [{"id": "C001", "name": "株式会社サンプル",
                                                         "mrr": 120000,
                                                         "contract_start": "2025-04-01"}]}])]


# Plain `def` routes: the import is blocking database work, so FastAPI runs it in a thread.
@router.post("/accounts")
def post_accounts(
    body: Rows, request: Request, session: SessionDep, settings: SettingsDep
) -> IngestResponse:
    """Upsert accounts (columns as in docs/import.md)."""
    return _ingest("accounts", body, request, session, settings)


@router.post("/contacts")
def post_contacts(
    body: IngestRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> IngestResponse:
    """Upsert contacts; a new primary contact records a contact change."""
    return _ingest("contacts", body, request, session, settings)


@router.post("/usage")
def post_usage(
    body: IngestRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> IngestResponse:
    """Upsert daily usage snapshots keyed by (account_id, day)."""
    return _ingest("usage", body, request, session, settings)
