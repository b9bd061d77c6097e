"""Ingest endpoints: no token, no access; the right bearer token stores rows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

INGEST = ["/api/accounts", "/api/contacts", "/api/usage"]
ROW = {"rows": [{"id": "C001", "name": "株式会社サンプル", "mrr": 120000,
                 "contract_start": "2025-04-01"}]}


@pytest.mark.parametrize("path", INGEST)
def test_ingest_is_closed_when_no_token_is_configured(
    client: TestClient, path: str
) -> None:
    resp = client.post(path, json=ROW, headers={"Authorization": "Bearer anything"})

    assert resp.status_code == 403
    assert "BANSO_API_TOKEN" in resp.json()["detail"]


@pytest.mark.parametrize("path", INGEST)
def test_ingest_needs_the_right_bearer_token(
    make_app: Callable[..., FastAPI], path: str
) -> None:
    with TestClient(make_app(api_token=SecretStr("s3cret-token"))) as client:
        missing = client.post(path, json=ROW)
        wrong = client.post(path, json=ROW, headers={"Authorization": "Bearer s3cret-tokeN"})
        basic = client.post(path, json=ROW, headers={"Authorization": "Basic czNjcmV0"})

    for resp in (missing, wrong, basic):
        assert resp.status_code == 401
        assert resp.headers["www-authenticate"] == "Bearer"


def test_cs_metrics_need_the_token(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(api_token=SecretStr("s3cret-token"))) as client:
        missing = client.get("/api/metrics/cs")
        wrong = client.get("/api/metrics/cs", headers={"Authorization": "Bearer nope"})

    assert missing.status_code == wrong.status_code == 401


def test_ingest_with_the_token_stores_accounts(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(api_token=SecretStr("s3cret-token"))) as client:
        resp = client.post("/api/accounts", json=ROW,
                           headers={"Authorization": "Bearer s3cret-token"})
        again = client.post("/api/accounts", json=ROW,
                            headers={"Authorization": "Bearer s3cret-token"})

    assert resp.status_code == 200
    assert resp.json()["inserted"] == 1
    assert again.json()["unchanged"] == 1
