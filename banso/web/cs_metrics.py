"""GET /api/metrics/cs: the CS metrics of one month as typed JSON (bearer token required)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel

from banso.web.deps import ServicesDep, require_api_token
from cs.kpis.formulas import Period
from cs.kpis.report import ReportError, compute_metrics
from cs.kpis.service import CsMetrics

router = APIRouter(prefix="/api/metrics", tags=["metrics"],
                   dependencies=[Depends(require_api_token)])


# The pattern makes FastAPI answer a bad month with its documented 422 validation list.
# Years 1900–2199 only: a month far outside that is a typo, and year 0 has no calendar.
MONTH_PATTERN = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"


class ReportProblem(BaseModel):
    detail: str


@router.get(
    "/cs",
    response_model=CsMetrics,
    responses={409: {"model": ReportProblem,
                     "description": "The data cannot be reported as configured (e.g. MRR in a "
                                    "currency without a rate); `detail` says what to change."}},
)
def cs_metrics(
    services: ServicesDep,
    period: Annotated[
        str | None,
        Query(pattern=MONTH_PATTERN, examples=["2026-10"],
              description="Month as YYYY-MM; default: the last complete month."),
    ] = None,
) -> CsMetrics:
    # A plain `def` route: FastAPI runs it in a worker thread, so the report's database work
    # never blocks the event loop.
    chosen = Period.parse_month(period) if period else None
    try:
        return compute_metrics(services, services.now(), chosen)
    except ReportError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
