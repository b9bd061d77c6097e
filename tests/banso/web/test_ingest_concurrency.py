"""The ingest API under concurrency and faults: two imports of the same new ids in opposite
order both finish (no deadlock, nothing refused, history logged once); the same usage keys
posted at once give no 500; a database that cannot take the import answers 503 for the whole
request, with Retry-After, and stores nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from banso.web.ingest import router
from core.db import make_engine
from core.settings import Settings
from cs.accounts.models import Account, MrrChange, UsageSnapshot
from tests.cs.accounts.test_import_contention import write_lock_held
from tests.services import services_for

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
AUTH = {"Authorization": "Bearer s3cret-token"}
Answer = TypeVar("Answer")


def app_over(settings: Settings, engine: Engine) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.services = services_for(
        settings.model_copy(update={"api_token": SecretStr("s3cret-token")}), engine,
        now=lambda: NOW)
    return app


def at_once(*calls: Callable[[], Answer]) -> list[Answer]:
    """Run the calls in threads released together; their answers in call order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(position: int, call: Callable[[], Answer]) -> None:
        barrier.wait()
        answers[position] = call()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return answers


def deadlocks(engine: Engine) -> int:
    if engine.dialect.name != "postgresql":
        return 0
    with engine.connect() as conn:
        return int(conn.scalar(text(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")) or 0)


def test_two_imports_of_the_same_new_ids_in_opposite_order_both_finish(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session],
) -> None:
    rows = [{"id": f"P{n:04d}", "name": f"株式会社{n}", "mrr": 1000 + n,
             "contract_start": "2025-04-01"} for n in range(2000)]
    app = app_over(settings, engine)
    before = deadlocks(engine)
    with TestClient(app) as first, TestClient(app) as second:
        answers = at_once(
            lambda: first.post("/api/accounts", json={"rows": rows}, headers=AUTH),
            lambda: second.post("/api/accounts", json={"rows": rows[::-1]}, headers=AUTH))
    assert [answer.status_code for answer in answers] == [200, 200], answers[0].text
    bodies = [answer.json() for answer in answers]
    assert [body["rejected"] for body in bodies] == [0, 0]
    assert sum(body["inserted"] for body in bodies) == 2000  # each id inserted exactly once
    assert all(body["inserted"] + body["unchanged"] == 2000 for body in bodies)
    assert deadlocks(engine) == before
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 2000
        assert session.scalar(select(func.count()).select_from(MrrChange)) == 2000


def test_the_same_usage_keys_posted_at_once_give_no_500(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session],
) -> None:
    app = app_over(settings, engine)
    accounts = [{"id": f"U{n:03d}", "name": "Acme", "mrr": 100, "contract_start": "2025-01-01"}
                for n in range(200)]
    with TestClient(app) as client:
        assert client.post("/api/accounts", json={"rows": accounts}, headers=AUTH).is_success
    usage = [{"account_id": f"U{n:03d}", "day": f"2026-11-{day:02d}", "seats": 10,
              "active_users": n % 10} for n in range(200) for day in range(1, 26)]
    with TestClient(app) as first, TestClient(app) as second, TestClient(app) as third:
        answers = at_once(
            lambda: first.post("/api/usage", json={"rows": usage}, headers=AUTH),
            lambda: second.post("/api/usage", json={"rows": usage[::-1]}, headers=AUTH),
            lambda: third.post("/api/usage", json={"rows": usage}, headers=AUTH))
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.json()["rejected"] for answer in answers] == [0, 0, 0]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(UsageSnapshot)) == 5000


def test_a_lock_held_past_the_timeout_is_503_with_retry_after_and_nothing_stored(
    settings: Settings, database_url: str, engine: Engine,
    session_factory: sessionmaker[Session],
) -> None:
    impatient = make_engine(database_url, lock_timeout_s=0.5)
    rows = [{"id": "C1", "name": "Acme", "mrr": 100, "contract_start": "2025-01-01"}]
    try:
        with TestClient(app_over(settings, impatient)) as client:
            with write_lock_held(engine):
                busy = client.post("/api/accounts", json={"rows": rows}, headers=AUTH)
            later = client.post("/api/accounts", json={"rows": rows}, headers=AUTH)
    finally:
        impatient.dispose()
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "10"
    assert "nothing was imported" in busy.json()["detail"]
    assert "rejected" not in busy.text
    assert later.status_code == 200 and later.json()["inserted"] == 1
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1


@pytest.mark.parametrize("kind", ["accounts", "contacts", "usage"])
def test_a_database_outage_is_503_for_the_whole_request(
    settings: Settings, database_url: str, kind: str,
) -> None:
    gone = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/banso?connect_timeout=2")
    try:
        with TestClient(app_over(settings, gone)) as client:
            response = client.post(f"/api/{kind}", json={"rows": [{"id": "C1"}]}, headers=AUTH)
    finally:
        gone.dispose()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert response.json() == {"detail": "database unavailable (cannot reach the database): "
                                         "nothing was imported; try again in a moment"}
