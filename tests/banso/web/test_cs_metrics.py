"""GET /api/metrics/cs over real HTTP routing, with the real bearer-token dependency."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from banso.web import cs_metrics
from core.settings import Settings
from tests.cs.kpis.test_report import add_account, seed
from tests.services import services_for

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def with_token(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_token": SecretStr("s3cret")})


def client_for(settings: Settings, session_factory: sessionmaker[Session]) -> TestClient:
    app = FastAPI()
    app.state.services = services_for(settings, session_factory.kw["bind"], now=lambda: NOW)
    app.include_router(cs_metrics.router)
    return TestClient(app)


def test_metrics_need_the_bearer_token(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    closed = client_for(settings, session_factory)
    assert closed.get("/api/metrics/cs").status_code == 403  # no token configured
    guarded = client_for(with_token(settings), session_factory)
    assert guarded.get("/api/metrics/cs").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert guarded.get("/api/metrics/cs", headers=wrong).status_code == 401


def test_metrics_of_a_month_as_typed_json(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory)
    client = client_for(with_token(settings), session_factory)
    auth = {"Authorization": "Bearer s3cret"}
    body = client.get("/api/metrics/cs", params={"period": "2026-10"}, headers=auth).json()
    assert body["period"] == "2026-10" and body["currency"] == "JPY"
    assert body["churn"]["churned_logos"] == 1
    assert body["avoidable_churn"]["mrr"] == 200_000
    assert body["faq"]["top_unanswered"][0]["count"] == 2
    default = client.get("/api/metrics/cs", headers=auth).json()
    assert default["period"] == "2026-10"  # the last complete month before 25 November


def test_bad_period_is_a_422_with_the_expected_format(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    client = client_for(with_token(settings), session_factory)
    for bad in ("10/2026", "2026-13", "2026-1", "99999999999-01", "2200-01", "1899-12"):
        reply = client.get("/api/metrics/cs", params={"period": bad},
                           headers={"Authorization": "Bearer s3cret"})
        assert reply.status_code == 422
        (problem,) = reply.json()["detail"]
        assert problem["loc"] == ["query", "period"]
        assert "YYYY-MM from 1900-01 to 2199-12" in problem["msg"]


def test_api_and_cli_accept_the_same_edge_months(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    client = client_for(with_token(settings), session_factory)
    for edge in ("1900-01", "2199-12"):
        reply = client.get("/api/metrics/cs", params={"period": edge},
                           headers={"Authorization": "Bearer s3cret"})
        assert reply.status_code == 200 and reply.json()["period"] == edge


def test_unreportable_data_is_a_409_that_says_what_to_change(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as session:
        add_account(session, "Z", [("2026-01-01", 1000)], currency="CHF")
    client = client_for(with_token(settings), session_factory)
    reply = client.get("/api/metrics/cs", headers={"Authorization": "Bearer s3cret"})
    assert reply.status_code == 409 and "CHF" in reply.json()["detail"]
