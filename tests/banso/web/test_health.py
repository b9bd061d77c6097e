"""Health, readiness and Prometheus metrics; request ids on every response."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from fastapi import FastAPI
from fastapi.testclient import TestClient

from banso.runtime import Runtime
from banso.web.app import create_app
from core.db import make_engine, make_session_factory
from core.services import Services
from retrieval.models import Visibility
from retrieval.service import Retriever


def test_healthz_and_readyz_answer_ok(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "problems": []}


def test_readyz_is_503_with_the_reason_when_the_database_is_unreachable(
    make_app: Callable[..., FastAPI], retriever: Retriever
) -> None:
    app = make_app()
    # Nothing listens on port 1: every connection attempt is refused at once.
    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    services: Services = app.state.services
    broken = replace(services, engine=dead, session_factory=make_session_factory(dead))
    with TestClient(create_app(Runtime(broken))) as client:
        resp = client.get("/readyz")
        alive = client.get("/healthz")

    assert resp.status_code == 503
    assert resp.json()["ready"] is False
    assert resp.json()["problems"][0].startswith("database unreachable")
    assert alive.status_code == 200


def test_metrics_count_requests_by_route_template_and_answers_by_decision(
    client: TestClient,
) -> None:
    client.post("/api/ask", json={"question": "請求書"})
    client.get("/no/such/page/12345")
    text = client.get("/metrics").text

    assert 'banso_http_requests_total{method="POST",route="/api/ask",status="200"}' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "/no/such/page/12345" not in text
    assert 'banso_answers_total{decision="' in text and 'surface="web"' in text
    assert 'banso_index_entries{visibility="public"} 3.0' in text
    assert 'banso_index_entries{visibility="internal"} 1.0' in text
    assert "banso_http_request_seconds_bucket" in text


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id\n{json}"})
    fresh = client.get("/healthz")

    assert given.headers["x-request-id"] == "abc-123"
    assert forged.headers["x-request-id"] != "bad id\n{json}"
    assert len(fresh.headers["x-request-id"]) == 32


def test_chat_page_is_served_as_utf8_html_without_external_assets(client: TestClient) -> None:
    resp = client.get("/")

    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert "よくある質問" in resp.text
    assert "/api/ask" in resp.text and "/api/feedback" in resp.text
    assert "src=\"http" not in resp.text and "href=\"http" not in resp.text
    assert "default-src 'none'" in resp.headers["content-security-policy"]


def test_readyz_is_503_when_the_index_has_no_public_entries(
    make_app: Callable[..., FastAPI], retriever: Retriever
) -> None:
    internal_only = Retriever.from_entries(
        [e for e in retriever.entries if e.visibility is Visibility.INTERNAL], retriever.embedder
    )
    services: Services = make_app().state.services
    empty = replace(services, knowledge=internal_only)
    with TestClient(create_app(Runtime(empty))) as client:
        resp = client.get("/readyz")

    assert resp.status_code == 503
    assert resp.json()["problems"] == [
        "knowledge index has no public entries (check BANSO_KNOWLEDGE_DIR)"
    ]
