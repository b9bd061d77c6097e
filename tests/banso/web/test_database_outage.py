"""The database goes away under the web app: /api/ask answers 503 with Retry-After (never a
500, never an ERROR line), /readyz says why, and answers resume by themselves when it returns."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.metrics import REGISTRY
from tests.outage import Outage

QUESTION = {"question": "パスワードを忘れてしまいました"}


def _unavailable() -> float:
    return REGISTRY.get_sample_value("banso_database_unavailable_total", {"surface": "web"}) or 0


def test_ask_during_a_database_outage_is_503_with_retry_after_then_answers_again(
    client: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    assert client.post("/api/ask", json=QUESTION).status_code == 200
    before = _unavailable()

    with caplog.at_level(logging.INFO), Outage(engine):
        asked = client.post("/api/ask", json=QUESTION)
        ready = client.get("/readyz")

    assert asked.status_code == 503
    assert int(asked.headers["Retry-After"]) > 0
    assert "database unavailable" in asked.json()["detail"]
    assert ready.status_code == 503 and "database unreachable" in ready.json()["problems"][0]
    assert _unavailable() - before == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(r.getMessage() == "database unavailable; answered 503" for r in caplog.records)

    after = client.post("/api/ask", json=QUESTION)
    assert after.status_code == 200 and after.json()["entries"][0]["id"] == "password-reset"
    assert client.get("/readyz").status_code == 200


def test_a_dropped_connection_reported_as_interface_error_is_also_503(
    client: TestClient, engine: Engine
) -> None:
    # psycopg raises InterfaceError, not OperationalError, for a connection the server closed.
    with Outage(engine, error="InterfaceError"):
        asked = client.post("/api/ask", json=QUESTION)

    assert asked.status_code == 503
    assert int(asked.headers["Retry-After"]) > 0


def test_a_database_error_that_is_not_an_outage_stays_a_500_with_its_traceback(
    make_app: Callable[..., FastAPI], engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # "Try again later" would hide a bug: a broken constraint is no outage.
    with TestClient(make_app(), raise_server_exceptions=False) as client, caplog.at_level(
        logging.ERROR
    ), Outage(engine, error="IntegrityError"):
        asked = client.post("/api/ask", json=QUESTION)

    assert asked.status_code == 500
    assert "Retry-After" not in asked.headers
    assert any(r.exc_info for r in caplog.records if r.levelno >= logging.ERROR)
