"""Ingest API: bearer token, per-row errors with 200, 422 for a malformed body, contact hook."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from banso.web.ingest import router
from core.settings import Settings
from cs.accounts.models import Account, ContactChange, MrrChange
from cs.alerts.models import Alert
from tests.services import services_for

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
AUTH = {"Authorization": "Bearer s3cret-token"}


@pytest.fixture
def client(settings: Settings, engine: Engine) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    app.state.services = services_for(
        settings.model_copy(update={"api_token": SecretStr("s3cret-token")}), engine,
        now=lambda: NOW)
    return TestClient(app)


ACCOUNT = {"id": "C001", "name": "株式会社さくら", "mrr": 600000, "contract_start": "2025-04-01"}


def test_accounts_are_upserted_and_counted(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    first = client.post("/api/accounts", json={"rows": [ACCOUNT]}, headers=AUTH)
    again = client.post("/api/accounts", json={"rows": [ACCOUNT]}, headers=AUTH)
    assert first.status_code == 200
    assert first.json() == {"kind": "accounts", "inserted": 1, "updated": 0, "unchanged": 0,
                            "rejected": 0, "errors": [], "contact_changes": []}
    assert (again.json()["unchanged"], again.json()["inserted"]) == (1, 0)
    with session_factory() as session:
        account = session.get(Account, "C001")
        assert account is not None and account.created_at == NOW


def test_some_bad_rows_give_200_with_each_error_and_its_index(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    rows = [ACCOUNT, {**ACCOUNT, "id": "C002", "mrr": -5}, {"id": "C003"}]
    response = client.post("/api/accounts", json={"rows": rows}, headers=AUTH)
    body = response.json()
    assert response.status_code == 200
    assert (body["inserted"], body["rejected"]) == (1, 2)
    assert body["errors"][0]["index"] == 1
    assert body["errors"][0]["reason"].startswith("mrr: Input should be greater than or equal")
    assert body["errors"][1] == {
        "index": 2, "reason": "name: required; mrr: required; contract_start: required"}
    with session_factory() as session:
        assert list(session.scalars(select(Account.id))) == ["C001"]


@pytest.mark.parametrize(
    "body", [{"rows": "C001"}, {"records": []}, [ACCOUNT], {"rows": [1, 2]}, "rows"]
)
def test_malformed_body_is_422(client: TestClient, body: object) -> None:
    assert client.post("/api/accounts", json=body, headers=AUTH).status_code == 422


def test_invalid_json_is_422(client: TestClient) -> None:
    response = client.post("/api/usage", content=b"{rows: oops", headers={
        **AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": "Basic x"}, 401)],
)
def test_ingest_needs_the_bearer_token(
    client: TestClient, session_factory: sessionmaker[Session], headers: dict[str, str],
    status: int,
) -> None:
    response = client.post("/api/accounts", json={"rows": [ACCOUNT]}, headers=headers)
    assert response.status_code == status
    with session_factory() as session:
        assert session.scalars(select(Account)).all() == []


def test_ingest_is_closed_without_a_configured_token(settings: Settings, engine: Engine) -> None:
    app = FastAPI()
    app.include_router(router)
    app.state.services = services_for(settings, engine)
    response = TestClient(app).post("/api/accounts", json={"rows": [ACCOUNT]}, headers=AUTH)
    assert response.status_code == 403


def test_primary_contact_change_is_returned_and_alerted_at_once(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    client.post("/api/accounts", json={"rows": [ACCOUNT]}, headers=AUTH)
    old = {"account_id": "C001", "name": "山田 太郎", "email": "yamada@example.jp"}
    new = {"account_id": "C001", "name": "佐藤 花子", "email": "sato@example.jp",
           "moved_to": "経営企画部"}
    assert client.post("/api/contacts", json={"rows": [old]}, headers=AUTH).json()[
        "contact_changes"] == []
    body = client.post("/api/contacts", json={"rows": [new]}, headers=AUTH).json()
    with session_factory() as session:
        change = session.scalars(select(ContactChange)).one()
        alert = session.scalars(select(Alert)).one()
    assert body["contact_changes"] == [change.id]
    assert (alert.account_id, alert.kind) == ("C001", "contact_change")


def test_usage_rows_are_stored(client: TestClient) -> None:
    client.post("/api/accounts", json={"rows": [ACCOUNT]}, headers=AUTH)
    rows = [{"account_id": "C001", "day": "2026-11-24", "last_login_at": "2026-11-24T10:00:00Z",
             "active_users": 4, "seats": 5, "setup_progress": 80, "inquiries": 0},
            {"account_id": "C001", "day": "2026-12-24"}]
    body = client.post("/api/usage", json={"rows": rows}, headers=AUTH).json()
    assert (body["inserted"], body["rejected"]) == (1, 1)
    assert body["errors"] == [{"index": 1, "reason": "day: 2026-12-24 is in the future"}]


def test_out_of_range_and_non_numeric_values_are_row_errors_not_500(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    bad = {"mrr": 10**20, "contract_start": "99999-01-01", "renewal_date": "9999-12-31",
           "name": "a\x00b"}
    rows = [ACCOUNT, *({**ACCOUNT, "id": f"X{field}", field: value}
                       for field, value in bad.items()),
            {**ACCOUNT, "id": "F1", "mrr": 1e20}, {**ACCOUNT, "id": "F2", "mrr": True},
            {**ACCOUNT, "id": "F3", "mrr": "abc"}, {**ACCOUNT, "id": "C002", "mrr": 10**12}]
    rows += [{**ACCOUNT, "id": "N1", "mrr": "NaN"}, {**ACCOUNT, "id": "N2", "mrr": "-inf"}]
    response = client.post("/api/accounts", json={"rows": rows}, headers=AUTH)
    assert response.status_code == 200, response.text
    errors = {error["index"]: error["reason"] for error in response.json()["errors"]}
    fields = {index: reason.split(":", 1)[0] for index, reason in errors.items()}
    assert fields == {1: "mrr", 2: "contract_start", 3: "renewal_date", 4: "name", 5: "mrr",
                      6: "mrr", 7: "mrr", 9: "mrr", 10: "mrr"}
    assert "less than or equal to 1000000000000" in errors[1]
    assert "must be between 1970-01-01 and 2100-12-31" in errors[3]
    assert (response.json()["inserted"], response.json()["rejected"]) == (2, 9)
    with session_factory() as session:
        assert sorted(session.scalars(select(Account.id))) == ["C001", "C002"]
    # A bare NaN token is not JSON at all: the body is refused (422), never a 500.
    bare = json.dumps({"rows": [{**ACCOUNT, "id": "N3", "mrr": float("nan")}]})
    refused = client.post("/api/accounts", content=bare,
                          headers={**AUTH, "Content-Type": "application/json"})
    assert refused.status_code == 422


def test_usage_counts_beyond_their_columns_are_row_errors_not_500(client: TestClient) -> None:
    client.post("/api/accounts", json={"rows": [ACCOUNT]}, headers=AUTH)
    day = {"account_id": "C001", "day": "2026-11-20"}
    rows = [{**day, "inquiries": 2**40}, {**day, "seats": 10**7},
            {**day, "last_login_at": "0001-01-01T00:00:00"}, {**day, "day": "2026-11-21"}]
    response = client.post("/api/usage", json={"rows": rows}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert [e["reason"].split(":")[0] for e in response.json()["errors"]] == [
        "inquiries", "seats", "last_login_at"]
    assert response.json()["inserted"] == 1


def test_a_duplicate_id_in_one_request_is_a_row_error(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    rows = [ACCOUNT, {**ACCOUNT, "mrr": 700000}]
    body = client.post("/api/accounts", json={"rows": rows}, headers=AUTH).json()
    assert (body["inserted"], body["updated"], body["rejected"]) == (1, 0, 1)
    assert body["errors"] == [{"index": 1, "reason": "id: duplicate of row 0 (one row per "
                                                     "account)"}]
    with session_factory() as session:
        assert [c.reason for c in session.scalars(select(MrrChange))] == ["new"]
    contact = {"account_id": "C001", "name": "山田 太郎", "email": "yamada@example.jp"}
    body = client.post("/api/contacts", json={"rows": [contact, contact]}, headers=AUTH).json()
    assert (body["inserted"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["reason"] == "email: duplicate of row 0 for the same account"
