"""Anonymous hostile requests: a 4xx that says why, never a 500, never an ERROR line.

`/slack/events` checks the signature before it parses anything; `/api/ask` and the other JSON
routes answer 422 for numbers and text JSON allows but Python cannot carry (NaN, 1e999, a
lone surrogate), and a 422 never echoes the input it could not encode.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text

TOKEN = "ingest-secret"
JSON = {"Content-Type": "application/json"}

UNSIGNED_SLACK: list[tuple[str, bytes, dict[str, str | bytes]]] = [
    ("braces", b"{{{", {}),
    ("json list", b"[1]", {}),
    ("invalid utf-8", b"\xff\xfe{\x00", {}),
    ("form payload garbage", b"payload=%7B%7B",
     {"Content-Type": "application/x-www-form-urlencoded"}),
    ("bad timestamp", b"{}", {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=1"}),
    ("huge timestamp", b"{}", {"X-Slack-Request-Timestamp": "9" * 400,
                               "X-Slack-Signature": "v0=1"}),
    ("negative timestamp", b"{}", {"X-Slack-Request-Timestamp": "-1",
                                   "X-Slack-Signature": "v0=1"}),
    ("non-ascii signature", b"{}", {"X-Slack-Request-Timestamp": str(int(time.time())),
                                    "X-Slack-Signature": "v0=é".encode("latin-1")}),
    ("empty body", b"", {}),
]

# Raw JSON bodies: Python's json module reads NaN, Infinity and 1e999 (as float inf) and
# keeps a lone surrogate as text that can never be encoded to UTF-8.
ASK_BODIES = [
    '{"question": NaN}',
    '{"question": Infinity}',
    '{"question": -Infinity}',
    '{"question": 1e999}',
    '{"question": "\\ud800"}',
    '{"question": "パスワード\\udfff"}',
    '{"question": "請求書", "lang": NaN}',
    '{"question": "請求書", "lang": "\\ud800"}',
    '{"question": ["\\ud800"]}',
    '{"\\ud800": 1, "question": "請求書"}',
    '{"question": {"a": NaN}}',
    '{"question": "' + "\\u0000" * 3 + '"}',
]
FEEDBACK_BODIES = [
    '{"answer_id": NaN, "helpful": true}',
    '{"answer_id": 1e999, "helpful": true}',
    '{"answer_id": 1, "helpful": NaN}',
    '{"answer_id": "\\ud800", "helpful": true}',
    '{"answer_id": 1e20, "helpful": true}',
]
INGEST_BODIES = [
    '{"rows": NaN}',
    '{"rows": [{"id": "C1", "name": "x", "mrr": NaN, "contract_start": "2025-04-01"}]}',
    '{"rows": [{"id": "C1", "name": "x", "mrr": 1e999, "contract_start": "2025-04-01"}]}',
    '{"rows": [{"id": "C1", "name": "\\ud800", "mrr": 1, "contract_start": "2025-04-01"}]}',
    '{"rows": [{"id": "\\udfff", "name": "x", "mrr": 1, "contract_start": "2025-04-01"}]}',
    '{"rows": [{"\\ud800": 1}]}',
]


@pytest.fixture
def slack_http(make_slack_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(make_slack_app(api_token=SecretStr(TOKEN),
                                   ask_rate_limit_per_minute=10_000)) as client:
        yield client


def _no_error_lines(caplog: pytest.LogCaptureFixture) -> None:
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors


@pytest.mark.parametrize(("name", "body", "headers"), UNSIGNED_SLACK,
                         ids=[case[0] for case in UNSIGNED_SLACK])
def test_unsigned_slack_garbage_is_401_before_it_is_parsed(
    slack_http: TestClient, caplog: pytest.LogCaptureFixture, name: str, body: bytes,
    headers: dict[str, str | bytes],
) -> None:
    raw = {k.encode(): v if isinstance(v, bytes) else v.encode()
           for k, v in {**JSON, **headers}.items()}
    resp = slack_http.post("/slack/events", content=body, headers=raw)

    assert resp.status_code == 401
    assert resp.json() == {"error": "invalid request"}
    _no_error_lines(caplog)


@pytest.mark.parametrize("body", ASK_BODIES)
def test_ask_with_json_python_cannot_carry_is_422_without_echo(
    slack_http: TestClient, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    resp = slack_http.post("/api/ask", content=body.encode(), headers=JSON)

    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert detail and all("input" not in error for error in detail)
    assert all(set(error) <= {"type", "loc", "msg"} for error in detail)
    _no_error_lines(caplog)


@pytest.mark.parametrize("body", FEEDBACK_BODIES)
def test_feedback_with_json_python_cannot_carry_is_422(
    slack_http: TestClient, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    resp = slack_http.post("/api/feedback", content=body.encode(), headers=JSON)

    assert resp.status_code == 422, resp.text
    _no_error_lines(caplog)


@pytest.mark.parametrize("body", INGEST_BODIES)
def test_ingest_with_json_python_cannot_carry_is_422(
    slack_http: TestClient, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    resp = slack_http.post("/api/accounts", content=body.encode(),
                           headers={**JSON, "Authorization": f"Bearer {TOKEN}"})

    assert resp.status_code == 422, resp.text
    _no_error_lines(caplog)


def test_a_well_formed_question_is_still_answered(slack_http: TestClient) -> None:
    resp = slack_http.post("/api/ask", json={"question": "パスワードを忘れました"})

    assert resp.status_code == 200
    assert resp.json()["entries"][0]["id"] == "password-reset"


ACCOUNT = {"id": "C1", "name": "株式会社サンプル", "mrr": 1, "contract_start": "2025-01-01"}
OUT_OF_RANGE = [
    # The first day of the calendar, east of UTC: converting it to UTC leaves the calendar.
    ("usage", {"account_id": "C1", "day": "0001-01-01",
               "last_login_at": "0001-01-01T00:00:00+14:00", "active_users": 1, "seats": 1}),
    ("usage", {"account_id": "C1", "day": "2025-01-01",
               "last_login_at": "0001-01-01T05:00:00+09:00", "active_users": 1, "seats": 1}),
    ("accounts", {**ACCOUNT, "mrr": 10**30}),
    ("accounts", {**ACCOUNT, "contract_start": "9999-12-31", "renewal_date": "9999-12-31"}),
]


@pytest.mark.parametrize(("kind", "row"), OUT_OF_RANGE, ids=["login", "login-jst", "mrr", "far"])
def test_ingest_with_values_out_of_range_is_a_4xx_and_stores_nothing_half(
    slack_http: TestClient, caplog: pytest.LogCaptureFixture, engine: Engine, kind: str,
    row: dict[str, Any],
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert slack_http.post("/api/accounts", json={"rows": [ACCOUNT]}, headers=auth).status_code \
        == 200

    resp = slack_http.post(f"/api/{kind}", json={"rows": [row, *([] if kind == "accounts" else [
        {**row, "day": "2025-02-01", "last_login_at": None}])]}, headers=auth)

    assert resp.status_code in (200, 422), resp.text
    if resp.status_code == 422:  # the whole request refused: not one row of it stored
        assert "out of range" in resp.json()["detail"]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM usage_snapshots")).scalar() == 0
    else:  # the database refused the row itself: listed, the others stored
        assert resp.json()["rejected"] + resp.json()["updated"] + resp.json()["unchanged"] >= 1
    _no_error_lines(caplog)
