"""GET /api/metrics/cs: the CS metrics of one month as typed JSON (bearer token required)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import AfterValidator, BaseModel

from banso.web.deps import ServicesDep, require_api_token
from cs.kpis.formulas import FIRST_YEAR, LAST_YEAR, Period
from cs.kpis.report import ReportError, compute_metrics
from cs.kpis.service import CsMetrics

router = APIRouter(prefix="/api/metrics", tags=["metrics"],
                   dependencies=[Depends(require_api_token)])


def _valid_month(text: str) -> str:
    Period.parse_month(text)  # raises PeriodError (a ValueError) outside the accepted range
    return text


# Checked by the same parser as `banso report --period`, so both accept the same months; its
# PeriodError becomes FastAPI's documented 422 validation list.
Month = Annotated[str, AfterValidator(_valid_month)]


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
        Month | None,
        Query(examples=["2026-10"], max_length=20,
              description=f"Month as YYYY-MM ({FIRST_YEAR}-01 to {LAST_YEAR}-12); default: "
                          "the last complete month."),
    ] = None,
) -> CsMetrics:
    # A plain `def` route: FastAPI runs it in a worker thread, so the report's database work
    # never blocks the event loop.
    chosen = Period.parse_month(period) if period is not None else None
    try:
        return compute_metrics(services, services.now(), chosen)
    except ReportError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
