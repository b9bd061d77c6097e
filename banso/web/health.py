"""GET /healthz (alive), GET /readyz (can serve), GET /metrics (Prometheus text)."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from core.metrics import INDEX_AGE, INDEX_ENTRIES, KNOWLEDGE_ERRORS, REGISTRY
from core.services import Services
from retrieval.models import Visibility

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    problems: list[str]


def database_problem(services: Services) -> str | None:
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"database unreachable: {type(exc).__name__}"
    return None


def index_problem(services: Services) -> str | None:
    if not any(e.visibility is Visibility.PUBLIC for e in services.retriever.entries):
        return "knowledge index has no public entries (check BANSO_KNOWLEDGE_DIR)"
    return None


def _update_index_gauges(services: Services) -> None:
    entries = services.retriever.entries
    for visibility in Visibility:
        INDEX_ENTRIES.labels(visibility.value).set(
            sum(1 for e in entries if e.visibility is visibility)
        )
    KNOWLEDGE_ERRORS.set(len(services.retriever.broken_files))
    built = REGISTRY.get_sample_value("banso_index_built_timestamp_seconds")
    if built:
        INDEX_AGE.set(max(0.0, time.time() - built))


@router.get("/healthz", response_model=Health, summary="Process is alive")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready; `problems` says why."}},
    summary="Database reachable and index loaded",
)
def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    problems = [p for p in (database_problem(services), index_problem(services)) if p]
    if problems:
        log.warning("not ready", extra={"problems": "; ".join(problems)})
    body = Readiness(ready=not problems, problems=problems)
    code = status.HTTP_503_SERVICE_UNAVAILABLE if problems else status.HTTP_200_OK
    return JSONResponse(body.model_dump(), status_code=code)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
    summary="Prometheus metrics",
)
def metrics(request: Request) -> Response:
    _update_index_gauges(request.app.state.services)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
